// guest-cart.js: the cart of a visitor who has not signed in. It lives in localStorage (a
// reload or a new tab keeps it) in the API's cart shape, and is handed to POST /api/cart/merge
// at sign-in or sign-up, where the account's cart takes it over.

import { ApiError } from "./api.js";

const KEY = "nimbus.guestCart";
const MAX_LINE_QUANTITY = 99; // functions/shop/datamodel.py MAX_LINE_QUANTITY

/** [{productId, quantity, name, unitPrice, currency, stock}] as stored; broken entries dropped. */
export function guestLines() {
  try {
    const lines = JSON.parse(localStorage.getItem(KEY) || "[]");
    if (!Array.isArray(lines)) return [];
    return lines.filter((l) => l && typeof l.productId === "string" && Number.isInteger(l.quantity) && l.quantity > 0);
  } catch {
    return [];
  }
}

function save(lines) {
  if (lines.length) localStorage.setItem(KEY, JSON.stringify(lines));
  else localStorage.removeItem(KEY);
}

export const forgetGuestCart = () => save([]);

/** The stored lines as the API's cart: {items, subtotal, currency}. */
export function guestCart(lines = guestLines()) {
  const items = lines.map((l) => ({
    productId: l.productId,
    name: l.name,
    unitPrice: l.unitPrice,
    quantity: l.quantity,
    lineTotal: l.unitPrice * l.quantity,
    stock: l.stock,
  }));
  return { items, subtotal: items.reduce((n, i) => n + i.lineTotal, 0), currency: lines[0]?.currency || "USD" };
}

/**
 * Set a line's quantity (0 removes it), refused above the stock the way the API refuses
 * it (409 INSUFFICIENT_STOCK with `available`), so the cart page handles both alike.
 */
export function setGuestLine(product, quantity) {
  const lines = guestLines().filter((l) => l.productId !== product.productId);
  const stock = Number(product.stock ?? 0);
  if (quantity > stock) {
    throw new ApiError(409, "INSUFFICIENT_STOCK", `Only ${stock} left of “${product.name}”.`, {
      productIds: [product.productId],
      available: { [product.productId]: stock },
    });
  }
  if (quantity > 0) {
    const line = { productId: product.productId, quantity: Math.min(quantity, MAX_LINE_QUANTITY), name: product.name,
      unitPrice: product.unitPrice ?? product.price, currency: product.currency, stock };
    const at = guestLines().findIndex((l) => l.productId === product.productId);
    lines.splice(at < 0 ? lines.length : at, 0, line);
  }
  save(lines);
  return guestCart(lines);
}

/** Today's price and stock for every line (a product gone from the shop leaves the cart). */
export async function refreshGuestCart(getProduct) {
  const fresh = await Promise.all(
    guestLines().map(async (l) => {
      try {
        const p = await getProduct(l.productId);
        return { ...l, name: p.name, unitPrice: p.price, currency: p.currency, stock: p.stock };
      } catch (err) {
        if (err.status === 404) return null;
        return l;
      }
    }),
  );
  save(fresh.filter(Boolean));
  return guestCart();
}
