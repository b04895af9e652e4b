// app.js: boot, header, and the routes.
//
// Routes are real paths (/p/<id>, /c/<id>, /cart, ...; see router.js). Each view is its own
// module, imported when its route is first shown, so the home page loads no admin code.

import * as api from "./api.js";
import { h, render, errorBox, link, busy, icon } from "./ui.js";
import { state, subscribe, loadCategories, loadUser, userReady, cartCount, isAdmin, takeFreshCart } from "./store.js";
import { currentRoute, currentHashRoute, navigate, startRouter, restoreScroll } from "./router.js";
import { setPageMeta } from "./seo.js";
import { filtersOf, apiFilters } from "./browse.js";

const views = {
  catalog: () => import("./views/catalog.js"),
  product: () => import("./views/product.js"),
  cart: () => import("./views/cart.js"),
  checkout: () => import("./views/checkout.js"),
  account: () => import("./views/account.js"),
  orders: () => import("./views/orders.js"),
  admin: () => import("./views/admin.js"),
};

const CATALOG_PAGE_SIZE = 12; // views/catalog.js PAGE_SIZE: the prefetched first page

/** The catalog's first page, asked exactly as views/catalog.js will ask for it. */
const prefetchCatalog = (q) =>
  api.prefetchProducts({ category: q.category, q: q.q, limit: CATALOG_PAGE_SIZE, ...apiFilters(filtersOf(q)) });

// [pattern, module, (module, params, query, isCurrent) => render, needs, prefetch(params, query)]
const ROUTES = [
  [/^\/$/, "catalog", (m, p, q, cur) => m.catalogView(p, q, cur), undefined, (p, q) => prefetchCatalog(q)],
  [/^\/c\/([^/]+)$/, "catalog", (m, p, q, cur) => m.catalogView(p, { ...q, category: p[0] }, cur), undefined,
    (p, q) => prefetchCatalog({ ...q, category: p[0] })],
  [/^\/search$/, "catalog", (m, p, q, cur) => m.catalogView(p, q, cur), undefined, (p, q) => q.q && prefetchCatalog(q)],
  [/^\/p\/([^/]+)$/, "product", (m, p, q, cur) => m.productView(p[0], q, cur), undefined, (p) => api.prefetchProduct(p[0])],
  [/^\/cart$/, "cart", (m, p, q, cur) => m.cartView(p, q, cur)],
  [/^\/checkout$/, "checkout", (m, p, q, cur) => m.checkoutView(p, q, cur), "user"],
  [/^\/signin$/, "account", (m, p, q, cur) => m.signInView(p, q, cur)],
  [/^\/signup$/, "account", (m, p, q, cur) => m.signUpView(p, q, cur)],
  [/^\/confirm$/, "account", (m, p, q, cur) => m.confirmView(p, q, cur)],
  [/^\/orders$/, "orders", (m, p, q, cur) => m.ordersView(p, q, cur), "user"],
  [/^\/orders\/([^/]+)$/, "orders", (m, p, q, cur) => m.orderView(p[0], q, cur), "user"],
  [/^\/admin$/, "admin", (m, p, q, cur) => m.adminProductsView(p, q, cur), "admin"],
  [/^\/admin\/products\/new$/, "admin", (m) => m.adminProductFormView(null), "admin"],
  [/^\/admin\/products\/([^/]+)$/, "admin", (m, p) => m.adminProductFormView(p[0]), "admin"],
  [/^\/admin\/orders$/, "admin", (m, p, q, cur) => m.adminOrdersView(p, q, cur), "admin"],
];

/** The route's view module; a deployment may have replaced the file under an old page. */
async function loadView(name) {
  try {
    return await views[name]();
  } catch (err) {
    // Hashed file names change with every deployment: a page loaded before one asks for
    // modules that are gone. Load the new version of the page once instead of failing.
    if (!sessionStorage.getItem("nimbus.reloaded")) {
      sessionStorage.setItem("nimbus.reloaded", "1");
      location.reload();
      return new Promise(() => {});
    }
    throw err;
  }
}

let routeSeq = 0;

function safeDecode(parts) {
  try {
    return parts.map(decodeURIComponent);
  } catch {
    return null;
  }
}

async function route() {
  const seq = ++routeSeq;
  const { path, query } = currentRoute();
  updateNavCurrent(path);
  const search = document.getElementById("search-input");
  if (search && document.activeElement !== search) search.value = path === "/search" ? query.q || "" : "";
  // Until a view says better: the shop's description, no canonical link, no structured data.
  setPageMeta({});
  for (const [re, name, show, needs, prefetch] of ROUTES) {
    const m = path.match(re);
    if (!m) continue;
    const params = safeDecode(m.slice(1));
    if (!params) break;
    if (needs && !api.getSession()) {
      navigate("/signin?next=" + encodeURIComponent(currentHashRoute()), { replace: true });
      return;
    }
    if (prefetch) prefetch(params, query);
    busy();
    try {
      const [mod] = await Promise.all([loadView(name), needs === "admin" ? userReady() : null]);
      if (seq !== routeSeq) return;
      // Right after sign-in /api/me may still be on its way: the admin check waited for it.
      if (needs === "admin" && !isAdmin()) {
        render(h("h1", {}, "Admins only"), errorBox("This page is for shop administrators."), link("/", "Back to the shop"));
        return;
      }
      await show(mod, params, query, () => seq === routeSeq);
      if (seq === routeSeq) restoreScroll();
      sessionStorage.removeItem("nimbus.reloaded");
    } catch (err) {
      if (seq !== routeSeq) return;
      console.warn(err);
      render(h("h1", {}, "Something went wrong"), errorBox(err), h("p", {}, link("/", "Back to the shop")));
    } finally {
      // Only the first view may reuse the cart fetched at boot; later ones ask for a fresh one.
      if (seq === routeSeq) takeFreshCart();
    }
    return;
  }
  render(h("h1", {}, "Page not found"), h("p", {}, "There's nothing here. ", link("/", "Back to the shop")));
  setPageMeta({ noindex: true });
}

// ---------------------------------------------------------------------------
// Header: account links with the cart badge, and the category bar.
// ---------------------------------------------------------------------------

function renderHeader() {
  const ul = document.getElementById("account-links");
  const count = cartCount();
  const items = [];
  if (api.getSession()) {
    if (isAdmin()) items.push(h("li", {}, link("/admin", "Admin", { class: "nav-link" })));
    items.push(h("li", {}, link("/orders", "Orders", { class: "nav-link" })));
    items.push(
      h(
        "li",
        {},
        h("button", { type: "button", class: "nav-link linklike", onclick: onSignOut }, "Sign out"),
      ),
    );
  } else {
    items.push(h("li", {}, link("/signin", "Sign in", { class: "nav-link" })));
  }
  items.push(
    h(
      "li",
      {},
      h(
        "a",
        {
          href: "/cart",
          class: "nav-link cart-link",
          "aria-label": `Cart, ${count} ${count === 1 ? "item" : "items"}`,
        },
        icon("cart"),
        "Cart",
        h("span", { class: "badge", "aria-hidden": "true", hidden: count === 0 }, String(count)),
      ),
    ),
  );
  ul.replaceChildren(...items);


  const cats = document.getElementById("category-links");
  cats.replaceChildren(
    h("li", {}, link("/", "All products", { dataset: { cat: "" } })),
    ...state.categories.map((c) => h("li", {}, link("/c/" + encodeURIComponent(c.categoryId), c.name, { dataset: { cat: c.categoryId } }))),
  );
  updateNavCurrent(currentRoute().path);
  markCategoryOverflow();
}

/** data-more on the category bar: which edges hide more categories (the CSS shows a hint there). */
function markCategoryOverflow() {
  const ul = document.getElementById("category-links");
  const left = ul.scrollLeft > 1;
  const right = ul.scrollLeft + ul.clientWidth < ul.scrollWidth - 1;
  ul.parentElement.dataset.more = [left ? "left" : "", right ? "right" : ""].join(" ").trim();
}

function updateNavCurrent(path) {
  const m = path.match(/^\/c\/([^/]+)$/);
  const current = path === "/" ? "" : m ? safeDecode([m[1]])?.[0] ?? null : null;
  for (const a of document.querySelectorAll("#category-links a")) {
    if (a.dataset.cat === current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function onSignOut() {
  api.signOut();
  navigate("/");
}

// ---------------------------------------------------------------------------
// Boot
// ---------------------------------------------------------------------------

async function boot() {
  document.getElementById("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = e.target.q.value.trim();
    navigate(q ? "/search?q=" + encodeURIComponent(q) : "/");
  });
  document.querySelector(".skip-link").addEventListener("click", (e) => {
    // Keep the address as it is: focus <main> instead of navigating to "#main".
    e.preventDefault();
    const main = document.getElementById("main");
    main.focus();
    main.scrollIntoView();
  });
  subscribe(renderHeader);
  document.getElementById("category-links").addEventListener("scroll", markCategoryOverflow, { passive: true });
  window.addEventListener("resize", markCategoryOverflow);
  let previousSession = api.getSession();
  api.onSessionChange((s) => {
    // Sign-in (or another tab's sign-in/out) reloads the user; token refreshes don't.
    const changedUser = Boolean(s) !== Boolean(previousSession) || s?.email !== previousSession?.email;
    previousSession = s;
    if (changedUser) loadUser().then(() => (s ? null : route()));
  });
  renderHeader();
  // Everything the first view needs starts now, side by side: the config (preloaded by
  // index.html), the categories (preloaded too), the user and the view's own data and module.
  const config = api.loadConfig();
  const categories = loadCategories();
  loadUser();
  await config;
  await startRouter(() => route());
  document.documentElement.dataset.ready = "true";
  await categories;
}

boot();
