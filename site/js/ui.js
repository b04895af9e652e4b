// ui.js: small DOM helpers shared by the views. Elements are built with h(), never
// from HTML strings, so product names and API messages can't inject markup.

/**
 * h("button", {class: "btn", onclick: fn, disabled: true}, "Label", child, [more])
 * Attributes starting with "on" become listeners; false/null attributes are omitted.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const priceFormats = new Map();

/** Integer minor units + ISO currency → "$12.50" in the visitor's locale. */
export function formatPrice(cents, currency = "USD") {
  const cur = (currency || "USD").toUpperCase();
  let fmt = priceFormats.get(cur);
  if (!fmt) {
    try {
      fmt = new Intl.NumberFormat(undefined, { style: "currency", currency: cur });
    } catch {
      fmt = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" });
    }
    priceFormats.set(cur, fmt);
  }
  const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
  return fmt.format(Number(cents || 0) / 10 ** digits);
}

/** Minor-unit digits of a currency (JPY 0, USD 2, KWD 3). */
export function currencyDigits(currency = "USD") {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** "12.5" → 1250 without floating-point rounding; null when not a valid amount. */
export function parseMoney(text, currency = "USD") {
  const digits = currencyDigits(currency);
  const m = String(text).trim().replace(",", ".").match(/^(\d{1,7})(?:\.(\d*))?$/);
  if (!m) return null;
  const frac = m[2] || "";
  if (frac.length > digits) return null;
  return Number(m[1]) * 10 ** digits + Number((frac + "0".repeat(digits)).slice(0, digits) || 0);
}

/** Minor units → "12.50" for a form field. */
export function moneyInput(cents, currency = "USD") {
  const digits = currencyDigits(currency);
  return digits ? (cents / 10 ** digits).toFixed(digits) : String(cents);
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso || "" : dateFmt.format(d);
}

/** Stock state shown on cards and product pages. */
export function stockState(stock) {
  const n = Number(stock ?? 0);
  if (n <= 0) return { text: "Sold out", tone: "out", available: false };
  if (n <= 5) return { text: `Only ${n} left`, tone: "low", available: true };
  return { text: "In stock", tone: "ok", available: true };
}

/** The order's reference as the e-mails print it (functions/shop/notifications.py): the
 * whole id, so what a customer reads in the mail is what they find here. */
export function orderRef(id) {
  return String(id || "");
}

export function statusBadge(status) {
  return h("span", { class: "status status-" + String(status || "").toLowerCase() }, status);
}

// Absolute: the page itself may be at /p/<id> or /c/<id>.
const PLACEHOLDER = "/img/placeholder.svg";

/**
 * A product image with fixed dimensions (no layout shift) and a placeholder fallback.
 * `eager` is for images in the first screenful: fetched at once, ahead of other requests.
 */
export function productImage(product, { size = 320, eager = false } = {}) {
  return h("img", {
    src: product.imageUrl || PLACEHOLDER,
    alt: product.name || "Product photo",
    width: size,
    height: size,
    loading: eager ? "eager" : "lazy",
    fetchpriority: eager ? "high" : null,
    decoding: eager ? "sync" : "async",
    onerror: (e) => {
      if (!e.target.src.endsWith("placeholder.svg")) e.target.src = PLACEHOLDER;
    },
  });
}

/** A polite, self-dismissing message in the shared live region. */
export function toast(message, tone = "info") {
  const box = document.getElementById("toasts");
  const el = h("p", { class: "toast toast-" + tone }, message);
  // One at a time: a stack of toasts would cover the page on a phone.
  box.replaceChildren(el);
  setTimeout(() => el.remove(), 4000);
}

/** An error box (role=alert) with the API's readable message. */
export function errorBox(err, extra) {
  const msg = typeof err === "string" ? err : err?.message || "Something went wrong.";
  return h("div", { class: "alert alert-error", role: "alert" }, h("p", {}, msg), extra);
}

/** Replace <main>'s content and move focus to its heading for screen readers and keyboards. */
export function render(...nodes) {
  clearTimeout(busyTimer);
  const main = document.getElementById("main");
  main.replaceChildren(...nodes.flat());
  main.removeAttribute("aria-busy");
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    // On the first view, leave focus at the top of the document (skip link first);
    // after that, move it to the new view's heading as a page load would.
    if (rendered) heading.focus({ preventScroll: true });
    document.title = heading.textContent + " · Nimbus Market";
  }
  rendered = true;
}
let rendered = false;

let busyTimer = 0;

/** Mark <main> busy; show a loading line only if the view takes long enough to notice (no flicker). */
export function busy(label = "Loading…") {
  const main = document.getElementById("main");
  main.setAttribute("aria-busy", "true");
  clearTimeout(busyTimer);
  busyTimer = setTimeout(() => main.replaceChildren(h("p", { class: "loading" }, label)), 250);
}

/** A labelled form field with an error slot wired through aria-describedby. */
export function field({ id, label, hint, required = false, ...inputAttrs }, tag = "input") {
  const errId = id + "-error";
  const hintId = hint ? id + "-hint" : null;
  const input = h(tag, {
    id,
    name: inputAttrs.name || id,
    required,
    "aria-describedby": [hintId, errId].filter(Boolean).join(" "),
    ...inputAttrs,
  });
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label, required ? null : h("span", { class: "optional" }, " (optional)")),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    input,
    h("p", { class: "field-error", id: errId }),
  );
}

/** Show per-field errors; returns true when there were none. Focuses the first bad field. */
export function showFieldErrors(form, errors) {
  let first = null;
  for (const el of form.querySelectorAll("[aria-describedby]")) {
    const msg = errors[el.name] || "";
    el.toggleAttribute("aria-invalid", Boolean(msg));
    if (msg) el.setAttribute("aria-invalid", "true");
    const slot = form.querySelector("#" + CSS.escape(el.id + "-error"));
    if (slot) slot.textContent = msg;
    if (msg && !first) first = el;
  }
  if (first) first.focus();
  return !first;
}

export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

// Inline icons (static, trusted markup) so they inherit currentColor and need no request.
const ICONS = {
  cart: '<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="20" height="20"><path d="M3 4h2l2.4 10.2a2 2 0 0 0 2 1.5h7.7a2 2 0 0 0 1.9-1.4L21 8H6.2" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/><circle cx="10" cy="20" r="1.5" fill="currentColor"/><circle cx="17" cy="20" r="1.5" fill="currentColor"/></svg>',
  minus: '<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="16" height="16"><path d="M5 12h14" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/></svg>',
  plus: '<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="16" height="16"><path d="M5 12h14M12 5v14" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/></svg>',
};

export function icon(name) {
  const tpl = document.createElement("template");
  tpl.innerHTML = ICONS[name] || "";
  return tpl.content.firstChild;
}
