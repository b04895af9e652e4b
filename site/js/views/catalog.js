// Catalog: all products, one category (/c/<id>) or a name search (/search?q=),
// a page at a time; "Show more" follows nextCursor and appends.

import * as api from "../api.js";
import { h, render, formatPrice, stockState, productImage, errorBox, link, toast } from "../ui.js";
import { state, addToCart, categoriesReady } from "../store.js";
import { setPageMeta, SHOP_NAME } from "../seo.js";

const PAGE_SIZE = 12; // app.js CATALOG_PAGE_SIZE: the first page is prefetched with this size
const EAGER_IMAGES = 4; // the first row on a wide screen, two rows on a phone

export async function catalogView(_params, query = {}, isCurrent = () => true) {
  const category = query.category || "";
  const q = query.q || "";
  if (category) await categoriesReady();
  const catName = state.categories.find((c) => c.categoryId === category)?.name || category;
  const title = q ? `Results for “${q}”` : category ? catName : "All products";

  const grid = h("ul", { class: "product-grid", "aria-label": "Products" });
  const status = h("p", { class: "result-count", "aria-live": "polite" });
  const more = h("div", { class: "load-more" });
  const errors = h("div");

  let cursor = null;
  let shown = 0;

  async function loadPage(first) {
    more.replaceChildren();
    let page;
    try {
      page = await api.listProducts({ category: category || undefined, q: q || undefined, limit: PAGE_SIZE, cursor: cursor || undefined });
    } catch (err) {
      errors.replaceChildren(errorBox(err, h("button", { class: "btn", type: "button", onclick: () => loadPage(first) }, "Try again")));
      return;
    }
    if (!isCurrent()) return;
    errors.replaceChildren();
    const cards = (page.items || []).map((p, i) => productCard(p, { eager: first && i < EAGER_IMAGES }));
    grid.append(...cards);
    shown += cards.length;
    cursor = page.nextCursor || null;
    status.textContent = shown === 0 ? "" : cursor ? `Showing ${shown} products` : `${shown} ${shown === 1 ? "product" : "products"}`;
    if (shown === 0) {
      grid.replaceWith(
        h(
          "div",
          { class: "empty" },
          h("p", {}, q ? `Nothing matches “${q}”.` : "No products here yet."),
          link("/", "Browse all products", { class: "btn" }),
        ),
      );
    }
    if (cursor) {
      more.append(
        h("button", { type: "button", class: "btn btn-secondary", onclick: async (e) => {
          e.currentTarget.disabled = true;
          e.currentTarget.textContent = "Loading…";
          const before = grid.children.length;
          await loadPage(false);
          // Keyboard users continue from the first new product.
          grid.children[before]?.querySelector(".card-title a")?.focus();
        } }, "Show more products"),
      );
    }
  }

  await loadPage(true);
  if (!isCurrent()) return;
  render(
    h("section", { class: "catalog", "aria-labelledby": "catalog-title" },
      h("div", { class: "section-head" }, h("h1", { id: "catalog-title" }, title), status),
      errors,
      grid,
      more,
    ),
  );
  setPageMeta(catalogMeta({ category, catName, q, count: shown, more: Boolean(cursor) }));
}

function catalogMeta({ category, catName, q, count, more }) {
  if (q) return { description: `Products matching “${q}” at ${SHOP_NAME}.` };
  const n = more ? `${count}+` : String(count);
  if (category) {
    return {
      description: `${catName} at ${SHOP_NAME}: ${n} ${count === 1 ? "product" : "products"}, prices and availability.`,
      canonical: "/c/" + encodeURIComponent(category),
    };
  }
  return { description: `${SHOP_NAME}: a small shop for well-made everyday things. Browse ${n} products.`, canonical: "/" };
}

export function productCard(p, { eager = false } = {}) {
  const st = stockState(p.stock);
  const href = "/p/" + encodeURIComponent(p.productId);
  const add = h(
    "button",
    {
      type: "button",
      class: "btn btn-primary btn-small",
      disabled: !st.available,
      // The accessible name starts with the visible text (WCAG 2.5.3, label in name).
      "aria-label": st.available ? `Add to cart: ${p.name}` : `Sold out: ${p.name}`,
      onclick: async (e) => {
        const btn = e.currentTarget;
        btn.disabled = true;
        try {
          await addToCart(p, 1);
        } catch (err) {
          toast(err.message, "error");
        } finally {
          btn.disabled = false;
        }
      },
    },
    st.available ? "Add to cart" : "Sold out",
  );
  return h(
    "li",
    { class: "product-card" },
    h("a", { href, class: "card-image", tabindex: "-1", "aria-hidden": "true" }, productImage(p, { eager })),
    h(
      "div",
      { class: "card-body" },
      h("h2", { class: "card-title" }, h("a", { href }, p.name)),
      h("p", { class: "price" }, formatPrice(p.price, p.currency)),
      h("p", { class: "stock stock-" + st.tone }, st.text),
      add,
    ),
  );
}
