// router.js: real paths (/p/<id>, /c/<id>, /cart, ...) with the History API.
//
// Every cloud's CDN and the local gateway answer an extension-less path with index.html,
// so a product page has its own URL that search engines index and people share. Old
// "#/p/<id>" links (bookmarks, e-mails, and views that still set location.hash) keep
// working: a "#/..." location is rewritten in place to its real path, then routed.

let onRoute = () => {};
let routed = null; // path + query last handed to onRoute

/** The route of the current location: {path: "/p/x", query: {q: "..."}}. */
export function currentRoute() {
  return { path: location.pathname || "/", query: Object.fromEntries(new URLSearchParams(location.search)) };
}

/** The current route as a legacy "#/..." string, the form sign-in's ?next= accepts. */
export function currentHashRoute() {
  return "#" + location.pathname + location.search;
}

/** Go to an in-app URL ("/cart", "/search?q=x") and render it. */
export function navigate(url, { replace = false } = {}) {
  const target = url.startsWith("#/") ? url.slice(1) : url;
  history[replace ? "replaceState" : "pushState"](null, "", target);
  if (!replace) window.scrollTo(0, 0);
  routed = location.pathname + location.search;
  onRoute();
}

/** "#/p/x?y" in the address bar becomes "/p/x?y" (same history entry). */
function upgradeHashRoute() {
  if (location.hash.startsWith("#/")) history.replaceState(null, "", location.hash.slice(1) || "/");
}

function onLocationChange() {
  upgradeHashRoute();
  // popstate and hashchange both fire for one fragment change; an in-page anchor (#main)
  // changes neither the path nor the query.
  const key = location.pathname + location.search;
  if (key === routed) return;
  routed = key;
  onRoute();
}

/** Same-origin links to app routes navigate in place; files, /api and new tabs do not. */
function onClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest?.("a[href]");
  if (!a || (a.target && a.target !== "_self") || a.hasAttribute("download")) return;
  const raw = a.getAttribute("href");
  if (raw.startsWith("#") && !raw.startsWith("#/")) return; // in-page anchor
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  const target = url.hash.startsWith("#/") ? url.hash.slice(1) : url.pathname + url.search;
  const last = target.split("?")[0].split("/").pop();
  if (target.startsWith("/api/") || last.includes(".")) return;
  e.preventDefault();
  navigate(target);
}

/** Start routing: fn() renders currentRoute(); called now and on every navigation. */
export function startRouter(fn) {
  onRoute = fn;
  upgradeHashRoute();
  window.addEventListener("popstate", onLocationChange);
  window.addEventListener("hashchange", onLocationChange);
  document.addEventListener("click", onClick);
  routed = location.pathname + location.search;
  return onRoute();
}
