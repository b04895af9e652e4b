// browse.js: the catalog's filters and sort as the address bar holds them, so a filtered
// list can be shared and Back undoes a change. The URL says prices in the shop's major
// units ("?minPrice=10&maxPrice=49.99"); the API wants cents (functions/shop/catalog.py).

export const SORTS = [
  ["name", "Name (A–Z)"],
  ["price", "Price: low to high"],
  ["-price", "Price: high to low"],
  ["newest", "Newest"],
];

/** "12.5" → 1250 (two-decimal currencies; JPY-like ones have none); null when not a price. */
function cents(text, digits) {
  const m = String(text ?? "").trim().match(/^(\d{1,7})(?:\.(\d{0,3}))?$/);
  if (!m || (m[2] || "").length > digits) return null;
  return Number(m[1]) * 10 ** digits + Number(((m[2] || "") + "000").slice(0, digits) || 0);
}

/** The filters of a route's query: {sort, minPrice, maxPrice (major-unit text), inStock}; bad values dropped. */
export function filtersOf(query = {}, digits = 2) {
  const f = {};
  if (SORTS.some(([v]) => v === query.sort) && query.sort !== "name") f.sort = query.sort;
  for (const k of ["minPrice", "maxPrice"]) if (cents(query[k], digits) !== null) f[k] = String(query[k]).trim();
  if (query.inStock === "1" || query.inStock === "true") f.inStock = true;
  if (f.minPrice && f.maxPrice && cents(f.minPrice, digits) > cents(f.maxPrice, digits)) delete f.maxPrice;
  return f;
}

/** The API's parameters for those filters (prices in cents). */
export function apiFilters(f, digits = 2) {
  return {
    sort: f.sort,
    minPrice: f.minPrice ? cents(f.minPrice, digits) : undefined,
    maxPrice: f.maxPrice ? cents(f.maxPrice, digits) : undefined,
    inStock: f.inStock || undefined,
  };
}

/** The catalog URL of a category (or all products), a search and filters. */
export function catalogUrl({ category = "", q = "" } = {}, f = {}) {
  const path = category ? "/c/" + encodeURIComponent(category) : q ? "/search" : "/";
  const qs = new URLSearchParams();
  if (q) qs.set("q", q);
  if (f.sort) qs.set("sort", f.sort);
  if (f.minPrice) qs.set("minPrice", f.minPrice);
  if (f.maxPrice) qs.set("maxPrice", f.maxPrice);
  if (f.inStock) qs.set("inStock", "1");
  const s = qs.toString();
  return s ? path + "?" + s : path;
}

export const hasFilters = (f) => Boolean(f.minPrice || f.maxPrice || f.inStock);
