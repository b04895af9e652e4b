// Cart: live prices, quantity steppers capped at the stock, remove, subtotal, checkout.
// Signed out, the same page shows the guest cart kept on this device (guest-cart.js).

import * as api from "../api.js";
import { h, render, formatPrice, errorBox, link, icon, toast } from "../ui.js";
import { state, setCart, maxLineQuantity, userReady, takeFreshCart, takeMergeNotice } from "../store.js";
import { setGuestLine, refreshGuestCart, forgetGuestCart, guestCart } from "../guest-cart.js";

// The account's cart through the API, or the guest cart here: both answer with the new cart.
const accountCart = {
  set: (item, n) => api.setCartItem(item.productId, n),
  remove: (item) => api.removeCartItem(item.productId),
  clear: () => api.clearCart(),
};
const deviceCart = {
  set: async (item, n) => setGuestLine(item, n),
  remove: async (item) => setGuestLine(item, 0),
  clear: async () => {
    forgetGuestCart();
    return guestCart([]);
  },
};

export async function cartView(_p, _q, isCurrent = () => true) {
  // Opened directly, the page shows the cart the boot's loadUser() is fetching anyway.
  await userReady();
  const signedIn = Boolean(api.getSession());
  const cart = signedIn ? takeFreshCart() || (await api.getCart()) : await refreshGuestCart(api.getProduct);
  if (!isCurrent()) return;
  setCart(cart);
  render(cartSection(signedIn ? accountCart : deviceCart, signedIn, takeMergeNotice()));
}

/** What one line may hold: its stock, and never more than a line holds. */
const lineMax = (item) => Math.max(1, Math.min(Number.isFinite(item.stock) ? item.stock : maxLineQuantity, maxLineQuantity));

function cartSection(ops, signedIn, notice = null) {
  const cart = state.cart || { items: [], subtotal: 0, currency: "USD" };
  const msg = h("div", { "aria-live": "polite" });
  const section = h("section", { class: "cart", "aria-labelledby": "cart-title" }, h("h1", { id: "cart-title" }, "Your cart"), notice, msg);

  if (!cart.items.length) {
    section.append(h("div", { class: "empty" }, h("p", {}, "Your cart is empty."), link("/", "Start shopping", { class: "btn btn-primary" })));
    return section;
  }

  // Each change replaces the whole section from the cart's answer (the source of truth
  // for prices and totals), then puts focus back on the control that was used.
  async function change(action, focusSelector, item) {
    section.setAttribute("aria-busy", "true");
    try {
      setCart(await action());
      const next = cartSection(ops, signedIn);
      section.replaceWith(next);
      (next.querySelector(focusSelector) || next.querySelector("h1")).focus();
    } catch (err) {
      section.removeAttribute("aria-busy");
      if (err.code === "INSUFFICIENT_STOCK" && item) return stockRefused(err, item, focusSelector);
      msg.replaceChildren(errorBox(err));
      toast(err.message, "error");
    }
  }

  /** The stock fell below the wanted quantity: say what is left, keep the line as it was. */
  function stockRefused(err, item, focusSelector) {
    const left = Number(err.details.available?.[item.productId] ?? 0);
    const text = left > 0 ? `Only ${left} left of “${item.name}”.` : `“${item.name}” is sold out.`;
    item.stock = left; // the line in state.cart: its stepper now stops there
    const next = cartSection(ops, signedIn);
    section.replaceWith(next);
    next.querySelector("[aria-live]").replaceChildren(errorBox(text));
    (next.querySelector(focusSelector) || next.querySelector("h1")).focus();
  }

  const rows = cart.items.map((item) => cartLine(item, cart.currency, msg, change, ops));

  section.append(
    h("div", { class: "cart-layout" },
      h("ul", { class: "cart-lines", "aria-label": "Items in your cart" }, rows),
      h("aside", { class: "summary", "aria-label": "Order summary" },
        h("dl", {},
          h("div", {}, h("dt", {}, "Subtotal"), h("dd", { class: "subtotal" }, formatPrice(cart.subtotal, cart.currency))),
          h("div", {}, h("dt", {}, "Shipping"), h("dd", {}, "Free")),
        ),
        signedIn
          ? link("/checkout", "Checkout", { class: "btn btn-primary btn-large btn-block" })
          : link("/signin?next=" + encodeURIComponent("#/checkout"), "Sign in to check out", { class: "btn btn-primary btn-large btn-block" }),
        signedIn ? null : h("p", { class: "muted" }, "Your cart is kept on this device and joins your account when you sign in."),
        h("button", { type: "button", class: "btn btn-ghost btn-block", onclick: () => change(() => ops.clear(), "h1") }, "Empty cart"),
      ),
    ),
  );
  return section;
}

function cartLine(item, currency, msg, change, ops) {
  const id = item.productId;
  const qid = "qty-" + id;
  const max = lineMax(item);
  const setQty = (n, focus) => change(() => ops.set(item, n), focus, item);
  const input = h("input", {
    id: qid,
    type: "number",
    min: "1",
    max: String(max),
    value: String(item.quantity),
    inputmode: "numeric",
    class: "qty-input",
    onchange: (e) => {
      const raw = e.target.value.trim();
      const n = Number(raw);
      // An emptied box or a 0 is not a way to delete a line (Remove is): put the quantity back.
      if (raw === "" || n === 0) {
        e.target.value = String(item.quantity);
        msg.replaceChildren(errorBox(`To take “${item.name}” out of your cart, use Remove.`));
        return;
      }
      if (!Number.isInteger(n) || n < 1) {
        e.target.value = String(item.quantity);
        msg.replaceChildren(errorBox(`Quantity must be a whole number from 1 to ${max}.`));
        return;
      }
      if (n > max) {
        e.target.value = String(item.quantity);
        msg.replaceChildren(errorBox(max < maxLineQuantity ? `Only ${max} left of “${item.name}”.` : `At most ${max} of one product per order.`));
        return;
      }
      if (n !== item.quantity) setQty(n, "#" + CSS.escape(qid));
    },
  });
  return h(
    "li",
    { class: "cart-line" },
    h("div", { class: "cart-line-name" },
      h("a", { href: "/p/" + encodeURIComponent(id) }, item.name),
      h("p", { class: "muted" }, formatPrice(item.unitPrice, currency) + " each"),
      item.stock <= 5 ? h("p", { class: "stock stock-low" }, item.stock > 0 ? `Only ${item.stock} left` : "Sold out") : null,
    ),
    h("div", { class: "stepper" },
      h("label", { for: qid, class: "visually-hidden" }, `Quantity of ${item.name}`),
      h("button", { type: "button", class: "btn btn-icon", "aria-label": `Decrease quantity of ${item.name}`, disabled: item.quantity <= 1,
        onclick: () => setQty(item.quantity - 1, `[aria-label="Decrease quantity of ${CSS.escape(item.name)}"]`) }, icon("minus")),
      input,
      h("button", { type: "button", class: "btn btn-icon", "aria-label": `Increase quantity of ${item.name}`, disabled: item.quantity >= max,
        onclick: () => setQty(item.quantity + 1, `[aria-label="Increase quantity of ${CSS.escape(item.name)}"]`) }, icon("plus")),
    ),
    h("p", { class: "line-total" }, formatPrice(item.lineTotal, currency)),
    h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": `Remove ${item.name}`, onclick: () => change(() => ops.remove(item), "h1") }, "Remove"),
  );
}
