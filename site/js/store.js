// store.js: the little shared state the header and several views need: who is signed
// in (from /api/me), the cart (for the badge), and the categories.

import * as api from "./api.js";
import { toast } from "./ui.js";
import { navigate, currentHashRoute } from "./router.js";

const MAX_LINE_QUANTITY = 99; // functions/shop/datamodel.py MAX_LINE_QUANTITY
const PENDING_KEY = "nimbus.pendingAdd";

export const state = {
  me: null, // {userId, email, groups}
  cart: null, // {items, subtotal, currency}
  categories: [],
};

const listeners = new Set();
export function subscribe(fn) {
  listeners.add(fn);
}
export function emit() {
  listeners.forEach((fn) => fn(state));
}

export const isAdmin = () => Boolean(state.me?.groups?.includes("admin"));
export const cartCount = () => (state.cart?.items || []).reduce((n, i) => n + Number(i.quantity || 0), 0);

let categoriesPromise = null;

export function loadCategories() {
  categoriesPromise = (async () => {
    try {
      const res = await api.listCategories();
      state.categories = res.items || [];
    } catch {
      state.categories = [];
    }
    emit();
  })();
  return categoriesPromise;
}

/** Resolves once the categories are in state (views that name a category wait on it). */
export const categoriesReady = () => categoriesPromise || loadCategories();

let userPromise = Promise.resolve();

/** After sign-in or a reload with a stored session: who am I, what's in my cart. */
export function loadUser() {
  userPromise = (async () => {
    if (!api.getSession()) {
      state.me = null;
      state.cart = null;
      emit();
      return;
    }
    try {
      const [me, cart] = await Promise.all([api.getMe(), api.getCart()]);
      state.me = me;
      state.cart = cart;
      freshCart = cart;
    } catch (err) {
      if (err.status === 401) api.signOut();
      state.me = null;
      state.cart = null;
    }
    emit();
  })();
  return userPromise;
}

/** Resolves once the latest loadUser() is done (the router waits on it before admin checks). */
export const userReady = () => userPromise;

// The cart loadUser() just fetched, until the first view takes it or anything changes it:
// the cart page opened directly shows it instead of asking /api/cart a second time.
let freshCart = null;

/** The cart fetched by the page load's loadUser(), once; null when the view must ask itself. */
export function takeFreshCart() {
  const cart = freshCart;
  freshCart = null;
  return cart;
}

export function setCart(cart) {
  state.cart = cart;
  freshCart = null;
  emit();
}

export async function refreshCart() {
  if (!api.getSession()) return null;
  setCart(await api.getCart());
  return state.cart;
}

/**
 * Add `quantity` of a product to the cart. Signed-out visitors are sent to sign in,
 * and the add happens right after (remembered in sessionStorage across the detour).
 */
export async function addToCart(product, quantity = 1) {
  if (!api.getSession()) {
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ productId: product.productId, quantity, name: product.name }));
    toast("Sign in to add items to your cart.");
    navigate("/signin?next=" + encodeURIComponent(currentHashRoute()));
    return false;
  }
  if (!state.cart) await refreshCart();
  const line = state.cart?.items?.find((i) => i.productId === product.productId);
  let target = (line ? Number(line.quantity) : 0) + quantity;
  if (Number.isFinite(product.stock)) target = Math.min(target, product.stock);
  target = Math.min(target, MAX_LINE_QUANTITY);
  if (target <= (line?.quantity || 0)) {
    toast(`You already have all available “${product.name}” in your cart.`, "warn");
    return false;
  }
  setCart(await api.setCartItem(product.productId, target));
  toast(`Added “${product.name}” to your cart.`, "success");
  return true;
}

/** Complete an add that was interrupted by the sign-in detour. */
export async function completePendingAdd() {
  const raw = sessionStorage.getItem(PENDING_KEY);
  if (!raw) return;
  sessionStorage.removeItem(PENDING_KEY);
  try {
    const { productId, quantity } = JSON.parse(raw);
    const product = await api.getProduct(productId);
    await addToCart(product, quantity || 1);
  } catch {
    toast("We couldn't add that item to your cart. Please try again.", "error");
  }
}

export const maxLineQuantity = MAX_LINE_QUANTITY;
