// store.js: the little shared state the header and several views need: who is signed
// in (from /api/me), the cart (for the badge), and the categories.

import * as api from "./api.js";
import { toast, h } from "./ui.js";
import { guestLines, guestCart, setGuestLine, forgetGuestCart } from "./guest-cart.js";

const MAX_LINE_QUANTITY = 99; // functions/shop/datamodel.py MAX_LINE_QUANTITY
// What the sign-in merge of the guest cart could not add in full: kept until the cart or
// checkout page shows it (sign-in is often followed by a page load).
const MERGE_NOTES_KEY = "nimbus.mergeNotes";

export const state = {
  me: null, // {userId, email, groups}
  cart: null, // {items, subtotal, currency}: the account's, or the guest cart when signed out
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
      state.cart = guestCart();
      emit();
      return;
    }
    try {
      const [me, cart] = await Promise.all([api.getMe(), guestLines().length ? mergeGuestCart() : api.getCart()]);
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

/** The guest cart joins the account's cart (quantities added, capped at stock by the API). */
async function mergeGuestCart() {
  const lines = guestLines();
  let merged;
  try {
    merged = await api.mergeCart(lines.map((l) => ({ productId: l.productId, quantity: l.quantity })));
  } catch (err) {
    if (err.status === 401) throw err;
    toast("We couldn't move your cart to your account yet; it is kept on this device.", "warn");
    return api.getCart();
  }
  forgetGuestCart();
  const names = Object.fromEntries(lines.map((l) => [l.productId, l.name]));
  const notes = (merged.adjusted || []).map((a) => mergeNote(a, names[a.productId] || a.productId));
  if (notes.length) sessionStorage.setItem(MERGE_NOTES_KEY, JSON.stringify(notes));
  toast(notes.length ? "Your cart is saved to your account, with changes: see your cart." : "Your cart is saved to your account.",
    notes.length ? "warn" : "success");
  const { adjusted: _adjusted, ...cart } = merged;
  return cart;
}

/** The notice of a guest cart merge's changes, once; null when there is none. */
export function takeMergeNotice() {
  let notes = [];
  try {
    notes = JSON.parse(sessionStorage.getItem(MERGE_NOTES_KEY) || "[]");
  } catch {
    notes = [];
  }
  sessionStorage.removeItem(MERGE_NOTES_KEY);
  if (!Array.isArray(notes) || !notes.length) return null;
  return h("div", { class: "alert alert-info", role: "status" },
    h("p", {}, h("strong", {}, "We moved the cart from this device to your account. "), "Some quantities changed:"),
    h("ul", {}, notes.map((n) => h("li", {}, String(n)))),
  );
}

function mergeNote(a, name) {
  if (a.reason === "UNKNOWN_PRODUCT") return `“${name}” is no longer sold and was left out.`;
  if (a.reason === "CART_FULL") return `“${name}” was left out: your cart holds as many products as it can.`;
  const why = a.reason === "STOCK" ? "that is all we have in stock" : "that is the most one order line holds";
  return `“${name}”: ${a.added} of ${a.requested} added, ${why}.`;
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
  await userPromise; // a sign-in's merge of the guest cart comes first
  if (!api.getSession()) return null;
  setCart(await api.getCart());
  return state.cart;
}

/**
 * Add `quantity` of a product to the cart, up to its stock: the account's cart, or the
 * guest cart (this device) while signed out.
 */
export async function addToCart(product, quantity = 1) {
  const guest = !api.getSession();
  if (!guest && !state.cart) await refreshCart();
  const line = state.cart?.items?.find((i) => i.productId === product.productId);
  let target = (line ? Number(line.quantity) : 0) + quantity;
  if (Number.isFinite(product.stock)) target = Math.min(target, product.stock);
  target = Math.min(target, MAX_LINE_QUANTITY);
  if (target <= (line?.quantity || 0)) {
    toast(`You already have all available “${product.name}” in your cart.`, "warn");
    return false;
  }
  setCart(guest ? setGuestLine(product, target) : await api.setCartItem(product.productId, target));
  toast(`Added “${product.name}” to your cart.`, "success");
  return true;
}

export const maxLineQuantity = MAX_LINE_QUANTITY;
