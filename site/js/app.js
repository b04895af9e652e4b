// app.js: boot, header, and the router.
//
// Routing is hash-based (#/p/<id>, #/cart, ...). Why not the History API: the same
// files are served from S3 + CloudFront, Azure Blob static websites, GCS buckets and the
// local server. Hash routes need no rewrite-to-index.html rule on any of them, survive
// deep links and reloads everywhere, and keep the site working from a sub-path.

import * as api from "./api.js";
import { h, render, errorBox, link, busy, icon } from "./ui.js";
import { state, subscribe, loadCategories, loadUser, userReady, cartCount, isAdmin, completePendingAdd } from "./store.js";
import { catalogView } from "./views/catalog.js";
import { productView } from "./views/product.js";
import { cartView } from "./views/cart.js";
import { checkoutView } from "./views/checkout.js";
import { signInView, signUpView, confirmView } from "./views/account.js";
import { ordersView, orderView } from "./views/orders.js";
import { adminProductsView, adminProductFormView, adminOrdersView } from "./views/admin.js";

// [pattern, view, needs: undefined | "user" | "admin"]
const ROUTES = [
  [/^\/$/, catalogView],
  [/^\/c\/([^/]+)$/, (p, q, cur) => catalogView(p, { ...q, category: p[0] }, cur)],
  [/^\/search$/, catalogView],
  [/^\/p\/([^/]+)$/, (p) => productView(p[0])],
  [/^\/cart$/, cartView, "user"],
  [/^\/checkout$/, checkoutView, "user"],
  [/^\/signin$/, signInView],
  [/^\/signup$/, signUpView],
  [/^\/confirm$/, confirmView],
  [/^\/orders$/, ordersView, "user"],
  [/^\/orders\/([^/]+)$/, (p, q) => orderView(p[0], q), "user"],
  [/^\/admin$/, adminProductsView, "admin"],
  [/^\/admin\/products\/new$/, () => adminProductFormView(null), "admin"],
  [/^\/admin\/products\/([^/]+)$/, (p) => adminProductFormView(p[0]), "admin"],
  [/^\/admin\/orders$/, adminOrdersView, "admin"],
];

export function currentRoute() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, qs = ""] = raw.split("?");
  return { path: path || "/", query: Object.fromEntries(new URLSearchParams(qs)) };
}

let routeSeq = 0;

async function route() {
  // In-page anchors such as the skip link's "#main" are not routes.
  if (location.hash && !location.hash.startsWith("#/")) return;
  const seq = ++routeSeq;
  const { path, query } = currentRoute();
  updateNavCurrent(path, query);
  const search = document.getElementById("search-input");
  if (search && document.activeElement !== search) search.value = path === "/search" ? query.q || "" : "";
  for (const [re, view, needs] of ROUTES) {
    const m = path.match(re);
    if (!m) continue;
    if (needs && !api.getSession()) {
      location.replace("#/signin?next=" + encodeURIComponent(location.hash || "#/"));
      return;
    }
    // Right after sign-in /api/me may still be on its way: wait for it before judging.
    if (needs === "admin") await userReady();
    if (seq !== routeSeq) return;
    if (needs === "admin" && !isAdmin()) {
      render(h("h1", {}, "Admins only"), errorBox("This page is for shop administrators."), link("#/", "Back to the shop"));
      return;
    }
    busy();
    try {
      await view(m.slice(1).map(decodeURIComponent), query, () => seq === routeSeq);
    } catch (err) {
      if (seq !== routeSeq) return;
      console.warn(err);
      render(h("h1", {}, "Something went wrong"), errorBox(err), h("p", {}, link("#/", "Back to the shop")));
    }
    return;
  }
  render(h("h1", {}, "Page not found"), h("p", {}, "There's nothing here. ", link("#/", "Back to the shop")));
}

// ---------------------------------------------------------------------------
// Header: account links with the cart badge, and the category bar.
// ---------------------------------------------------------------------------

function renderHeader() {
  const ul = document.getElementById("account-links");
  const count = cartCount();
  const items = [];
  if (api.getSession()) {
    if (isAdmin()) items.push(h("li", {}, link("#/admin", "Admin", { class: "nav-link" })));
    items.push(h("li", {}, link("#/orders", "Orders", { class: "nav-link" })));
    items.push(
      h(
        "li",
        {},
        h("button", { type: "button", class: "nav-link linklike", onclick: onSignOut }, "Sign out"),
      ),
    );
  } else {
    items.push(h("li", {}, link("#/signin", "Sign in", { class: "nav-link" })));
  }
  items.push(
    h(
      "li",
      {},
      h(
        "a",
        {
          href: "#/cart",
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
    h("li", {}, link("#/", "All products", { dataset: { cat: "" } })),
    ...state.categories.map((c) => h("li", {}, link("#/c/" + encodeURIComponent(c.categoryId), c.name, { dataset: { cat: c.categoryId } }))),
  );
  const { path, query } = currentRoute();
  updateNavCurrent(path, query);
}

function updateNavCurrent(path) {
  const m = path.match(/^\/c\/([^/]+)$/);
  const current = path === "/" ? "" : m ? decodeURIComponent(m[1]) : null;
  for (const a of document.querySelectorAll("#category-links a")) {
    if (a.dataset.cat === current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function onSignOut() {
  api.signOut();
  location.hash = "#/";
}

// ---------------------------------------------------------------------------
// Boot
// ---------------------------------------------------------------------------

async function boot() {
  document.getElementById("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = e.target.q.value.trim();
    location.hash = q ? "#/search?q=" + encodeURIComponent(q) : "#/";
  });
  document.querySelector(".skip-link").addEventListener("click", (e) => {
    // Keep the route in the hash: focus <main> instead of navigating to "#main".
    e.preventDefault();
    const main = document.getElementById("main");
    main.focus();
    main.scrollIntoView();
  });
  subscribe(renderHeader);
  let previousSession = api.getSession();
  api.onSessionChange((s) => {
    // Sign-in (or another tab's sign-in/out) reloads the user; token refreshes don't.
    const changedUser = Boolean(s) !== Boolean(previousSession) || s?.email !== previousSession?.email;
    previousSession = s;
    if (changedUser) loadUser().then(() => (s ? completePendingAdd() : route()));
  });
  renderHeader();
  await api.loadConfig();
  await Promise.all([loadCategories(), loadUser()]);
  window.addEventListener("hashchange", route);
  await route();
  document.documentElement.dataset.ready = "true";
}

boot();
