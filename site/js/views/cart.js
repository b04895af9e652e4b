// Cart: live prices from the API, quantity steppers, remove, subtotal, checkout.

import * as api from "../api.js";
import { h, render, formatPrice, errorBox, link, icon, toast } from "../ui.js";
import { state, setCart, maxLineQuantity, userReady, takeFreshCart } from "../store.js";

export async function cartView(_p, _q, isCurrent = () => true) {
  // Opened directly, the page shows the cart the boot's loadUser() is fetching anyway.
  await userReady();
  const cart = takeFreshCart() || (await api.getCart());
  if (!isCurrent()) return;
  setCart(cart);
  render(cartSection());
}

function cartSection() {
  const cart = state.cart || { items: [], subtotal: 0, currency: "USD" };
  const msg = h("div", { "aria-live": "polite" });
  const section = h("section", { class: "cart", "aria-labelledby": "cart-title" }, h("h1", { id: "cart-title" }, "Your cart"), msg);

  if (!cart.items.length) {
    section.append(h("div", { class: "empty" }, h("p", {}, "Your cart is empty."), link("/", "Start shopping", { class: "btn btn-primary" })));
    return section;
  }

  // Each change replaces the whole section from the API's answer (the source of truth
  // for prices and totals), then puts focus back on the control that was used.
  async function change(action, focusSelector) {
    section.setAttribute("aria-busy", "true");
    try {
      setCart(await action());
      const next = cartSection();
      section.replaceWith(next);
      (next.querySelector(focusSelector) || next.querySelector("h1")).focus();
    } catch (err) {
      section.removeAttribute("aria-busy");
      msg.replaceChildren(errorBox(err));
      toast(err.message, "error");
    }
  }

  const rows = cart.items.map((item) => {
    const id = item.productId;
    const qid = "qty-" + id;
    const setQty = (n, focus) => change(() => api.setCartItem(id, n), focus);
    const input = h("input", {
      id: qid,
      type: "number",
      min: "0",
      max: String(maxLineQuantity),
      value: String(item.quantity),
      inputmode: "numeric",
      class: "qty-input",
      onchange: (e) => {
        const n = Number(e.target.value);
        if (!Number.isInteger(n) || n < 0 || n > maxLineQuantity) {
          msg.replaceChildren(errorBox(`Quantity must be a whole number from 0 to ${maxLineQuantity}.`));
          e.target.value = String(item.quantity);
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
        h("p", { class: "muted" }, formatPrice(item.unitPrice, cart.currency) + " each"),
      ),
      h("div", { class: "stepper" },
        h("label", { for: qid, class: "visually-hidden" }, `Quantity of ${item.name}`),
        h("button", { type: "button", class: "btn btn-icon", "aria-label": `Decrease quantity of ${item.name}`, disabled: item.quantity <= 1,
          onclick: () => setQty(item.quantity - 1, `[aria-label="Decrease quantity of ${CSS.escape(item.name)}"]`) }, icon("minus")),
        input,
        h("button", { type: "button", class: "btn btn-icon", "aria-label": `Increase quantity of ${item.name}`, disabled: item.quantity >= maxLineQuantity,
          onclick: () => setQty(item.quantity + 1, `[aria-label="Increase quantity of ${CSS.escape(item.name)}"]`) }, icon("plus")),
      ),
      h("p", { class: "line-total" }, formatPrice(item.lineTotal, cart.currency)),
      h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": `Remove ${item.name}`, onclick: () => change(() => api.removeCartItem(id), "h1") }, "Remove"),
    );
  });

  section.append(
    h("div", { class: "cart-layout" },
      h("ul", { class: "cart-lines", "aria-label": "Items in your cart" }, rows),
      h("aside", { class: "summary", "aria-label": "Order summary" },
        h("dl", {},
          h("div", {}, h("dt", {}, "Subtotal"), h("dd", { class: "subtotal" }, formatPrice(cart.subtotal, cart.currency))),
          h("div", {}, h("dt", {}, "Shipping"), h("dd", {}, "Free")),
        ),
        link("/checkout", "Checkout", { class: "btn btn-primary btn-large btn-block" }),
        h("button", { type: "button", class: "btn btn-ghost btn-block", onclick: () => change(() => api.clearCart(), "h1") }, "Empty cart"),
      ),
    ),
  );
  return section;
}
