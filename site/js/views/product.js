// Product page: image, price, stock state, quantity and add to cart.

import * as api from "../api.js";
import { h, render, formatPrice, stockState, productImage, errorBox, link, toast } from "../ui.js";
import { state, addToCart, maxLineQuantity, categoriesReady } from "../store.js";
import { setPageMeta, productData, SHOP_NAME } from "../seo.js";

export async function productView(productId, _query, isCurrent = () => true) {
  let p;
  try {
    p = await api.getProduct(productId);
  } catch (err) {
    if (err.status === 404) {
      render(h("h1", {}, "Product not found"), h("p", {}, "It may have been removed. ", link("/", "Browse all products")));
      setPageMeta({ noindex: true });
      return;
    }
    throw err;
  }
  await categoriesReady();
  if (!isCurrent()) return;
  const st = stockState(p.stock);
  const cat = state.categories.find((c) => c.categoryId === p.category);
  const max = Math.max(1, Math.min(Number(p.stock) || 1, maxLineQuantity));
  const qty = h("input", { id: "qty", name: "quantity", type: "number", min: "1", max: String(max), value: "1", inputmode: "numeric", disabled: !st.available, class: "qty-input" });
  const msg = h("div", { "aria-live": "polite" });

  const form = h(
    "form",
    {
      class: "buy-box",
      onsubmit: async (e) => {
        e.preventDefault();
        const n = Number(qty.value);
        if (!Number.isInteger(n) || n < 1 || n > max) {
          msg.replaceChildren(errorBox(`Choose a quantity between 1 and ${max}.`));
          qty.focus();
          return;
        }
        msg.replaceChildren();
        const btn = form.querySelector("button");
        btn.disabled = true;
        try {
          await addToCart(p, n);
        } catch (err) {
          msg.replaceChildren(errorBox(err));
          toast(err.message, "error");
        } finally {
          btn.disabled = !st.available;
        }
      },
    },
    h("p", { class: "price price-large" }, formatPrice(p.price, p.currency)),
    h("p", { class: "stock stock-" + st.tone }, st.text),
    h("div", { class: "field field-inline" }, h("label", { for: "qty" }, "Quantity"), qty),
    h("button", { type: "submit", class: "btn btn-primary btn-large", disabled: !st.available }, st.available ? "Add to cart" : "Sold out"),
    msg,
  );

  render(
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" },
      h("ol", {},
        h("li", {}, link("/", "Shop")),
        cat ? h("li", {}, link("/c/" + encodeURIComponent(cat.categoryId), cat.name)) : null,
        h("li", {}, h("span", { "aria-current": "page" }, p.name)),
      ),
    ),
    h("article", { class: "product-page" },
      h("div", { class: "product-media" }, productImage(p, { size: 560, eager: true })),
      h("div", { class: "product-info" },
        h("h1", {}, p.name),
        p.description ? h("p", { class: "description" }, p.description) : null,
        form,
      ),
    ),
  );
  setPageMeta({
    description: productDescription(p, st),
    canonical: "/p/" + encodeURIComponent(p.productId),
    data: productData(p, cat),
  });
}

function productDescription(p, st) {
  const lead = p.description ? `${p.name}: ${p.description}` : p.name;
  return `${lead} ${formatPrice(p.price, p.currency)}, ${st.text.toLowerCase()} at ${SHOP_NAME}.`;
}
