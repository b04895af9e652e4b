// Catalog: all products, one category (/c/<id>) or a name search (/search?q=),
// a page at a time; "Show more" follows nextCursor and appends.

import * as api from "../api.js";
import { h, render, formatPrice, stockState, productImage, errorBox, link, toast } from "../ui.js";
import { state, addToCart, categoriesReady } from "../store.js";
import { setPageMeta, SHOP_NAME } from "../seo.js";
import { filtersOf, apiFilters, catalogUrl, hasFilters, SORTS } from "../browse.js";
import { navigate, rememberInHistory } from "../router.js";

const PAGE_SIZE = 12; // app.js CATALOG_PAGE_SIZE: the first page is prefetched with this size
const EAGER_IMAGES = 4; // the first row on a wide screen, two rows on a phone
const MAX_RESTORED_PAGES = 10;
const WIDE = "(min-width: 700px)"; // styles.css: where the filters fit beside the sort // Back restores at most this many "Show more" pages

export async function catalogView(_params, query = {}, isCurrent = () => true) {
  const category = query.category || "";
  const q = query.q || "";
  const filters = filtersOf(query);
  await categoriesReady();
  const catName = state.categories.find((c) => c.categoryId === category)?.name || category;
  const title = q ? `Results for “${q}”` : category ? catName : "All products";

  const grid = h("ul", { class: "product-grid", "aria-label": "Products" });
  const status = h("p", { class: "result-count", "aria-live": "polite" });
  const more = h("div", { class: "load-more" });
  const errors = h("div");

  let cursor = null;
  let shown = 0;
  let pages = 0;

  async function loadPage(first) {
    more.replaceChildren();
    let page;
    try {
      page = await api.listProducts({ category: category || undefined, q: q || undefined, limit: PAGE_SIZE, cursor: cursor || undefined, ...apiFilters(filters) });
    } catch (err) {
      errors.replaceChildren(errorBox(err, h("button", { class: "btn", type: "button", onclick: () => loadPage(first) }, "Try again")));
      return false;
    }
    if (!isCurrent()) return false;
    errors.replaceChildren();
    const cards = (page.items || []).map((p, i) => productCard(p, { eager: first && i < EAGER_IMAGES }));
    grid.append(...cards);
    shown += cards.length;
    pages += 1;
    cursor = page.nextCursor || null;
    status.textContent = shown === 0 ? "" : cursor ? `Showing ${shown} products` : `${shown} ${shown === 1 ? "product" : "products"}`;
    if (cursor) more.append(showMoreButton());
    return true;
  }

  function showMoreButton() {
    return h("button", { type: "button", class: "btn btn-secondary", onclick: async (e) => {
      e.currentTarget.disabled = true;
      e.currentTarget.textContent = "Loading…";
      const before = grid.children.length;
      if (!(await loadPage(false))) return;
      // Back to this list shows as many pages as were open (router.js keeps the scroll).
      rememberInHistory({ pages });
      // Keyboard users continue from the first new product.
      grid.children[before]?.querySelector(".card-title a")?.focus();
    } }, "Show more products");
  }

  // Back (or a reload) to a list that had "Show more" pages open loads them again.
  const wanted = Math.max(1, Math.min(Number(history.state?.pages) || 1, MAX_RESTORED_PAGES));
  let ok = await loadPage(true);
  while (ok && cursor && pages < wanted) ok = await loadPage(false);
  if (!isCurrent()) return;
  render(
    h("section", { class: "catalog", "aria-labelledby": "catalog-title" },
      h("div", { class: "section-head" }, h("h1", { id: "catalog-title" }, title), status),
      filterBar({ category, q, filters }),
      errors,
      shown === 0 && !errors.childNodes.length ? emptyState({ category, q, filters }) : grid,
      more,
    ),
  );
  setPageMeta(catalogMeta({ category, catName, q, count: shown, more: Boolean(cursor) }));
}

/** Nothing to show: say why, and offer the way back. */
function emptyState({ category, q, filters }) {
  if (hasFilters(filters)) {
    return h("div", { class: "empty" },
      h("p", {}, q ? `Nothing matches “${q}” with these filters.` : "No products match these filters."),
      link(catalogUrl({ category, q }, { sort: filters.sort }), "Clear filters", { class: "btn" }));
  }
  return h("div", { class: "empty" },
    h("p", {}, q ? `Nothing matches “${q}”. Check the spelling or try a shorter word.` : "No products here yet."),
    link("/", "Browse all products", { class: "btn" }));
}

/** Category, price range, in stock and sort; each change is a new URL (shareable, Back undoes it). */
function filterBar({ category, q, filters }) {
  const go = () => {
    const f = filtersOf({
      sort: form.sort.value,
      minPrice: form.minPrice.value,
      maxPrice: form.maxPrice.value,
      inStock: form.inStock.checked ? "1" : "",
    });
    const url = catalogUrl({ category: form.category.value, q }, f);
    // Enter in a price box both changes and submits it: one history entry, not two.
    if (url !== location.pathname + location.search) navigate(url);
  };
  const priceField = (id, label, value) =>
    h("div", { class: "field" }, h("label", { for: id }, label),
      h("input", { id, name: id, type: "number", min: "0", step: "0.01", inputmode: "decimal", value: value || "", class: "price-input", onchange: go }));
  const active = [filters.minPrice || filters.maxPrice, filters.inStock, category].filter(Boolean).length;
  // On a phone the filters fold into one line (the products stay in the first screenful);
  // they open by themselves on a wide screen or when some are in use.
  const box = h("details", { class: "filter-box", open: active > 0 || matchMedia(WIDE).matches },
    h("summary", {}, active ? `Filters (${active})` : "Filters"),
    h("div", { class: "filter-fields" },
      h("div", { class: "field" }, h("label", { for: "category" }, "Category"),
        h("select", { id: "category", name: "category", onchange: go },
          h("option", { value: "" }, "All categories"),
          state.categories.map((c) => h("option", { value: c.categoryId, selected: c.categoryId === category }, c.name)))),
      priceField("minPrice", "Min price", filters.minPrice),
      priceField("maxPrice", "Max price", filters.maxPrice),
      h("div", { class: "check" },
        h("input", { type: "checkbox", id: "inStock", name: "inStock", checked: Boolean(filters.inStock), onchange: go }),
        h("label", { for: "inStock" }, "In stock only")),
      h("button", { type: "submit", class: "btn btn-secondary btn-small" }, "Apply"),
    ),
  );
  const form = h("form", { class: "filters", "aria-label": "Filter and sort", onsubmit: (e) => { e.preventDefault(); go(); } },
    box,
    h("div", { class: "field sort-field" }, h("label", { for: "sort" }, "Sort by"),
      h("select", { id: "sort", name: "sort", onchange: go },
        SORTS.map(([v, label]) => h("option", { value: v, selected: v === (filters.sort || "name") }, label)))),
  );
  return form;
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
