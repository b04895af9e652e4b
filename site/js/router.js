// router.js: real paths (/p/<id>, /c/<id>, /cart, ...) with the History API.
//
// Every cloud's CDN and the local gateway answer an extension-less path with index.html,
// so a product page has its own URL that search engines index and people share. Old
// "#/p/<id>" links (bookmarks, e-mails, and views that still set location.hash) keep
// working: a "#/..." location is rewritten in place to its real path, then routed.

let onRoute = () => {};
let routed = null; // path + query last handed to onRoute
// Where the view being routed to starts: the top for a new page, the remembered position
// for Back/Forward. The browser's own restoration can't do it: it restores before the
// view has loaded its content (and its "Show more" pages), so it lands short.
let scrollTarget = 0;
const SCROLL_SAVE_MS = 150;

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
  if (replace) {
    history.replaceState(null, "", target);
  } else {
    clearTimeout(saveTimer);
    rememberInHistory({ scrollY: window.scrollY });
    history.pushState(null, "", target);
    scrollTarget = 0;
    window.scrollTo(0, 0);
  }
  routed = location.pathname + location.search;
  onRoute();
}

/** Keep facts about the current page in its history entry (views: how much was shown). */
export function rememberInHistory(facts) {
  history.replaceState({ ...(history.state || {}), ...facts }, "");
}

/** After the routed view has rendered: start at the top, or where Back/Forward left it. */
export function restoreScroll() {
  const y = scrollTarget;
  scrollTarget = 0;
  window.scrollTo({ top: y, left: 0, behavior: "instant" });
}

let saveTimer = 0;
function onScroll() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => rememberInHistory({ scrollY: window.scrollY }), SCROLL_SAVE_MS);
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
  clearTimeout(saveTimer); // a pending save belongs to the page just left
  scrollTarget = Number(history.state?.scrollY) || 0;
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
  history.scrollRestoration = "manual";
  scrollTarget = Number(history.state?.scrollY) || 0; // a reload keeps its place too
  window.addEventListener("scroll", onScroll, { passive: true });
  upgradeHashRoute();
  window.addEventListener("popstate", onLocationChange);
  window.addEventListener("hashchange", onLocationChange);
  document.addEventListener("click", onClick);
  routed = location.pathname + location.search;
  return onRoute();
}
