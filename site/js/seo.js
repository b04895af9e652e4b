// seo.js: what a search engine reads for the current route: title, description, canonical
// link and schema.org structured data. The router resets them on every navigation and the
// view that knows better (product, category) sets its own.

import { currencyDigits } from "./ui.js";

export const SHOP_NAME = "Nimbus Market";
export const DEFAULT_DESCRIPTION = "Nimbus Market: a small shop for well-made everyday things.";

function headElement(selector, make) {
  let el = document.head.querySelector(selector);
  if (!el) {
    el = make();
    document.head.append(el);
  }
  return el;
}

/** Absolute URL of an in-app path on this origin (canonical links need absolute URLs). */
export function absoluteUrl(path) {
  return new URL(path, location.origin).href;
}

/**
 * Set the page's metadata. `canonical` is an in-app path ("/p/x"), or null when the page
 * has no canonical form (search results, account pages).
 */
export function setPageMeta({ title, description = DEFAULT_DESCRIPTION, canonical = null, data = null, noindex = false } = {}) {
  if (title) document.title = `${title} · ${SHOP_NAME}`;
  // The app answers every path with 200: a "not found" view tells crawlers so itself.
  const robots = document.head.querySelector('meta[name="robots"]');
  if (noindex) {
    headElement('meta[name="robots"]', () => Object.assign(document.createElement("meta"), { name: "robots" })).content = "noindex";
  } else if (robots) {
    robots.remove();
  }
  headElement('meta[name="description"]', () => Object.assign(document.createElement("meta"), { name: "description" })).content =
    description;
  const link = document.head.querySelector('link[rel="canonical"]');
  if (canonical) {
    headElement('link[rel="canonical"]', () => Object.assign(document.createElement("link"), { rel: "canonical" })).href =
      absoluteUrl(canonical);
  } else if (link) {
    link.remove();
  }
  const ld = document.head.querySelector('script[type="application/ld+json"]');
  if (data) {
    // A data block, never executed: the CSP's script-src does not apply to it.
    const script = headElement('script[type="application/ld+json"]', () =>
      Object.assign(document.createElement("script"), { type: "application/ld+json" }),
    );
    script.textContent = JSON.stringify(data);
  } else if (ld) {
    ld.remove();
  }
}

/** Minor units → the decimal string schema.org's Offer.price expects ("19.99"). */
export function decimalPrice(cents, currency) {
  const digits = currencyDigits(currency);
  return (Number(cents || 0) / 10 ** digits).toFixed(digits);
}

/** schema.org Product with one Offer: price, currency and availability from the API. */
export function productData(p, category) {
  const url = absoluteUrl("/p/" + encodeURIComponent(p.productId));
  return {
    "@context": "https://schema.org",
    "@type": "Product",
    name: p.name,
    ...(p.description ? { description: p.description } : {}),
    sku: p.productId,
    url,
    image: absoluteUrl(p.imageUrl || "/img/placeholder.svg"),
    ...(category ? { category: category.name } : {}),
    offers: {
      "@type": "Offer",
      url,
      price: decimalPrice(p.price, p.currency),
      priceCurrency: (p.currency || "USD").toUpperCase(),
      availability: Number(p.stock) > 0 ? "https://schema.org/InStock" : "https://schema.org/OutOfStock",
      itemCondition: "https://schema.org/NewCondition",
    },
  };
}
