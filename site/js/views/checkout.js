// Checkout: shipping address, validation, and placing the order exactly once.
//
// Idempotency: one key per checkout *attempt*. An attempt is this cart + this address;
// its key lives in sessionStorage, so a retry after a network error or a 5xx (or even a
// reload mid-request) resends the same key and the API returns the same order instead
// of creating a second one. A definitive answer (success, or a 4xx such as sold out)
// ends the attempt; changing the cart or the address starts a new one.

import * as api from "../api.js";
import { h, render, formatPrice, errorBox, link, field, showFieldErrors } from "../ui.js";
import { state, setCart, refreshCart, takeMergeNotice } from "../store.js";
import { navigate } from "../router.js";
import { COUNTRIES, regionLabel, countryProblems } from "../address.js";

const ATTEMPT_KEY = "nimbus.checkoutAttempt";
const ADDRESS_KEY = "nimbus.lastAddress";

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Older browsers: a v4 UUID from getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The key for this cart + address: reused while they are unchanged, new otherwise. */
function attemptKey(fingerprint) {
  try {
    const a = JSON.parse(sessionStorage.getItem(ATTEMPT_KEY) || "null");
    if (a && a.fingerprint === fingerprint) return a.key;
  } catch {
    /* start a new attempt */
  }
  const key = newKey();
  sessionStorage.setItem(ATTEMPT_KEY, JSON.stringify({ key, fingerprint }));
  return key;
}
const endAttempt = () => sessionStorage.removeItem(ATTEMPT_KEY);

function validate(a) {
  const e = {};
  if (!a.name) e.name = "Enter the recipient's full name.";
  else if (a.name.length > 100) e.name = "Keep the name under 100 characters.";
  if (!a.line1) e.line1 = "Enter the street address.";
  else if (a.line1.length > 200) e.line1 = "Keep the address line under 200 characters.";
  if (a.line2 && a.line2.length > 200) e.line2 = "Keep the address line under 200 characters.";
  if (!a.city) e.city = "Enter the town or city.";
  if (!a.postalCode) e.postalCode = "Enter the postal code.";
  else if (!/^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$/.test(a.postalCode)) e.postalCode = "Enter a valid postal code (letters, digits, spaces or dashes).";
  if (!/^[A-Z]{2}$/.test(a.country || "")) e.country = "Choose a country.";
  return { ...countryProblems(a), ...e };
}

export async function checkoutView(_p, _q, isCurrent = () => true) {
  const cart = await refreshCart();
  if (!isCurrent()) return;
  if (!cart?.items?.length) {
    render(h("h1", {}, "Checkout"), h("div", { class: "empty" }, h("p", {}, "Your cart is empty."), link("/", "Start shopping", { class: "btn btn-primary" })));
    return;
  }
  const summaryEl = h("div", { class: "alert-slot", tabindex: "-1" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-large btn-block" }, "Place order");
  let inFlight = false;
  const form = addressForm(savedAddress(), submit, onSubmit);

  async function onSubmit(e) {
    e.preventDefault();
    // The in-flight flag (set before any await) is what stops a double click from sending
    // twice; the disabled button is the visible half of it.
    if (inFlight) return;
    const address = readAddress(form);
    summaryEl.replaceChildren();
    if (!showFieldErrors(form, validate(address))) {
      summaryEl.replaceChildren(errorBox("Please fix the highlighted fields."));
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
    inFlight = true;
    submit.disabled = true;
    submit.textContent = "Placing order…";
    const fingerprint = JSON.stringify([state.cart.items.map((i) => [i.productId, i.quantity]), address]);
    const key = attemptKey(fingerprint);
    try {
      const { data: order } = await api.placeOrder(address, key);
      endAttempt();
      localStorage.setItem(ADDRESS_KEY, JSON.stringify(address));
      setCart({ items: [], subtotal: 0, currency: order.currency });
      navigate("/orders/" + encodeURIComponent(order.orderId) + "?placed=1");
    } catch (err) {
      inFlight = false;
      submit.disabled = false;
      submit.textContent = err.retryable ? "Try again" : "Place order";
      if (!err.retryable) endAttempt();
      summaryEl.replaceChildren(checkoutError(err));
      summaryEl.focus();
    }
  }

  render(
    h("h1", {}, "Checkout"),
    takeMergeNotice(),
    summaryEl,
    h("div", { class: "checkout-layout" },
      form,
      h("aside", { class: "summary", "aria-labelledby": "summary-title" },
        h("h2", { id: "summary-title" }, "Order summary"),
        h("ul", { class: "summary-lines" },
          cart.items.map((i) =>
            h("li", {}, h("span", {}, `${i.quantity} × ${i.name}`), h("span", {}, formatPrice(i.lineTotal, cart.currency))),
          ),
        ),
        h("dl", {}, h("div", { class: "total" }, h("dt", {}, "Total"), h("dd", {}, formatPrice(cart.subtotal, cart.currency)))),
        h("p", { class: "muted" }, link("/cart", "Edit cart")),
      ),
    ),
  );
}

/** The address of the last order on this device, if any. */
function savedAddress() {
  try {
    return JSON.parse(localStorage.getItem(ADDRESS_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

/** The shipping address form, its fields fitted to the chosen country. */
function addressForm(saved, submit, onSubmit) {
  const guessCountry = (navigator.language || "en-US").split("-")[1]?.toUpperCase();
  const country = saved.country || (COUNTRIES.some(([c]) => c === guessCountry) ? guessCountry : "US");
  const form = h(
    "form",
    { class: "address-form", novalidate: true, "aria-labelledby": "shipping-title", onsubmit: onSubmit },
    h("h2", { id: "shipping-title" }, "Shipping address"),
    field({ id: "name", label: "Full name", required: true, autocomplete: "name", value: saved.name || "" }),
    field({ id: "line1", label: "Address line 1", required: true, autocomplete: "address-line1", value: saved.line1 || "" }),
    field({ id: "line2", label: "Address line 2", autocomplete: "address-line2", value: saved.line2 || "" }),
    h("div", { class: "field-row" },
      field({ id: "city", label: "City", required: true, autocomplete: "address-level2", value: saved.city || "" }),
      field({ id: "region", label: "State", required: true, autocomplete: "address-level1", value: saved.region || "" }),
      field({ id: "postalCode", label: "Postal code", required: true, autocomplete: "postal-code", value: saved.postalCode || "" }),
    ),
    countrySelect(country),
    field({ id: "phone", label: "Phone", type: "tel", autocomplete: "tel", value: saved.phone || "", hint: "For the carrier, if they need to reach you." }),
    submit,
  );
  fitToCountry(form);
  form.country.addEventListener("change", () => fitToCountry(form));
  return form;
}

/** The form's address as the API takes it: no region where the country has none, no empty optionals. */
function readAddress(form) {
  const fd = new FormData(form);
  const address = {};
  for (const k of ["name", "line1", "line2", "city", "region", "postalCode", "country", "phone"]) address[k] = String(fd.get(k) || "").trim();
  if (!regionLabel(address.country)) address.region = "";
  for (const k of ["line2", "region", "phone"]) if (!address[k]) delete address[k];
  return address;
}

/** The region field only where the country has one, named as it is called there. */
function fitToCountry(form) {
  const country = form.country.value;
  const region = regionLabel(country);
  const wrap = form.region.closest(".field");
  wrap.hidden = !region;
  form.region.required = Boolean(region);
  if (region) wrap.querySelector("label").textContent = region;
}

function countrySelect(selected) {
  const sel = h(
    "select",
    { id: "country", name: "country", required: true, autocomplete: "country", "aria-describedby": "country-error" },
    COUNTRIES.map(([code, name]) => h("option", { value: code, selected: code === selected }, name)),
  );
  return h("div", { class: "field" }, h("label", { for: "country" }, "Country"), sel, h("p", { class: "field-error", id: "country-error" }));
}

/** Readable checkout failures; sold-out lines are named. */
function checkoutError(err) {
  if (err.code === "INSUFFICIENT_STOCK") {
    const ids = err.details.productIds || [];
    const available = err.details.available || {};
    const short = ids.map((id) => {
      const name = state.cart?.items.find((i) => i.productId === id)?.name || id;
      const left = Number(available[id] ?? 0);
      return h("li", {}, left > 0 ? `${name}: only ${left} left` : `${name}: sold out`);
    });
    return h(
      "div",
      { class: "alert alert-error", role: "alert" },
      h("p", {}, h("strong", {}, "Sorry, not enough stock. "),
        short.length ? "" : "Some items in your cart sold out.",
        " Nothing was charged and no order was placed."),
      short.length ? h("ul", { class: "short-lines" }, short) : null,
      h("p", {}, link("/cart", "Update your cart"), " to remove these items or lower their quantity, then try again."),
    );
  }
  if (err.status === 401) return errorBox(err, h("p", {}, link("/signin?next=%23%2Fcheckout", "Sign in again")));
  if (err.retryable) return errorBox(err.message + " Your order was not duplicated: retrying is safe.");
  return errorBox(err);
}
