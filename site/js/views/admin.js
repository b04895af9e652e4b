// Admin (the "admin" group only; the API enforces it too): products, stock, image
// upload through a signed upload form, and orders by status.

import * as api from "../api.js";
import { h, render, formatPrice, formatDate, orderRef, statusBadge, errorBox, link, field, showFieldErrors, toast, parseMoney, moneyInput, productImage } from "../ui.js";
import { state, loadCategories, refreshCart } from "../store.js";
import { countryName } from "../address.js";

const STATUSES = ["PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"];
// Mirrors functions/shop/ports.py NEXT_STATUS: the forward step, and cancel where allowed.
const NEXT = { PLACED: "PAID", PAID: "SHIPPED", SHIPPED: "DELIVERED" };
// Mirrors functions/shop/datamodel.py IMAGE_TYPES and MAX_IMAGE_BYTES (no SVG: it can run scripts).
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"];
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

function adminNav(current) {
  const item = (href, text, key) => h("li", {}, link(href, text, { class: "tab", "aria-current": current === key ? "page" : null }));
  return h("nav", { class: "admin-nav", "aria-label": "Admin" },
    h("ul", {}, item("#/admin", "Products", "products"), item("#/admin/orders", "Orders", "orders"), item("#/admin/products/new", "New product", "new")),
  );
}

const title = (s) => s.charAt(0) + s.slice(1).toLowerCase();

// ---------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------

export async function adminProductsView(_p, _q, isCurrent = () => true) {
  const tbody = h("tbody");
  const more = h("div", { class: "load-more" });
  const msg = h("div", { "aria-live": "polite" });
  let cursor = null;

  async function loadPage() {
    const page = await api.listProducts({ limit: 50, cursor: cursor || undefined });
    cursor = page.nextCursor || null;
    tbody.append(...(page.items || []).map((p) => productRow(p, msg)));
    more.replaceChildren();
    if (cursor) more.append(h("button", { type: "button", class: "btn btn-secondary", onclick: () => loadPage().catch((err) => more.replaceChildren(errorBox(err))) }, "Show more products"));
  }
  await loadPage();
  if (!isCurrent()) return;
  render(
    h("h1", {}, "Admin: products"),
    adminNav("products"),
    msg,
    h("div", { class: "table-wrap", role: "region", "aria-label": "Products table", tabindex: "0" },
      h("table", { class: "admin-table" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Image")),
          ["Name", "Category", "Price", "Stock", "Actions"].map((c) => h("th", { scope: "col" }, c)),
        )),
        tbody,
      ),
    ),
    more,
  );
}

function productRow(p, msg) {
  const stockId = "stock-" + p.productId;
  const stockInput = h("input", { id: stockId, type: "number", min: "0", max: "100000", value: String(p.stock), class: "qty-input", inputmode: "numeric" });
  const row = h("tr", {},
    h("td", { class: "thumb" }, productImage(p, { size: 48 })),
    h("td", {}, link("#/admin/products/" + encodeURIComponent(p.productId), p.name)),
    h("td", {}, state.categories.find((c) => c.categoryId === p.category)?.name || p.category),
    h("td", {}, formatPrice(p.price, p.currency)),
    h("td", {},
      h("form", { class: "inline-form", onsubmit: async (e) => {
        e.preventDefault();
        const n = Number(stockInput.value);
        if (!Number.isInteger(n) || n < 0) {
          msg.replaceChildren(errorBox(`Stock for ${p.name} must be a whole number, 0 or more.`));
          stockInput.focus();
          return;
        }
        const btn = e.currentTarget.querySelector("button");
        btn.disabled = true;
        try {
          const updated = await api.adminSetStock(p.productId, n);
          stockInput.value = String(updated.stock ?? n);
          toast(`Stock of ${p.name} set to ${updated.stock ?? n}.`, "success");
        } catch (err) {
          msg.replaceChildren(errorBox(err));
        } finally {
          btn.disabled = false;
        }
      } },
        h("label", { for: stockId, class: "visually-hidden" }, `Stock of ${p.name}`),
        stockInput,
        h("button", { type: "submit", class: "btn btn-small btn-secondary", "aria-label": `Save stock of ${p.name}` }, "Save"),
      ),
    ),
    h("td", { class: "actions" },
      link("#/admin/products/" + encodeURIComponent(p.productId), "Edit", { class: "btn btn-small btn-ghost", "aria-label": `Edit ${p.name}` }),
      h("button", { type: "button", class: "btn btn-small btn-danger-outline", "aria-label": `Delete ${p.name}`, onclick: (e) => confirmDelete(e.currentTarget, p, row, msg) }, "Delete"),
    ),
  );
  return row;
}

function confirmDelete(button, p, row, msg) {
  const cell = button.parentElement;
  const original = [...cell.childNodes];
  const yes = h("button", { type: "button", class: "btn btn-small btn-danger", onclick: async () => {
    yes.disabled = true;
    try {
      await api.adminDeleteProduct(p.productId);
      row.remove();
      toast(`Deleted ${p.name}.`, "success");
      document.querySelector("main h1")?.focus();
    } catch (err) {
      msg.replaceChildren(errorBox(err));
      cell.replaceChildren(...original);
    }
  } }, `Yes, delete ${p.name}`);
  cell.replaceChildren(
    yes,
    h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => { cell.replaceChildren(...original); button.focus(); } }, "Keep"),
  );
  yes.focus();
}

/** The shop's one selling currency (the API refuses others): the one every cart is priced in. */
async function shopCurrencyCode() {
  const cart = state.cart || (await refreshCart().catch(() => null));
  return cart?.currency || "USD";
}

/** A select, not free text: only the shop's currency (and a product's own, if it differs) exist. */
function currencySelect(current, shopCurrency) {
  const codes = [...new Set([shopCurrency, current])];
  return h("div", { class: "field" },
    h("label", { for: "currency" }, "Currency"),
    h("select", { id: "currency", name: "currency", required: true, "aria-describedby": "currency-error" },
      codes.map((c) => h("option", { value: c, selected: c === current }, c))),
    h("p", { class: "field-error", id: "currency-error" }),
  );
}

export async function adminProductFormView(productId, _q, isCurrent = () => true) {
  if (!state.categories.length) await loadCategories();
  const [p, shopCurrency] = await Promise.all([productId ? api.getProduct(productId) : null, shopCurrencyCode()]);
  if (!isCurrent()) return;
  const currency = p?.currency || shopCurrency;
  const slot = h("div", { class: "alert-slot", tabindex: "-1" });
  const catSelect = h("select", { id: "category", name: "category", required: true, "aria-describedby": "category-error" },
    h("option", { value: "" }, "Choose a category"),
    state.categories.map((c) => h("option", { value: c.categoryId, selected: p?.category === c.categoryId }, c.name)),
  );
  const preview = h("div", { class: "image-preview" }, p ? productImage(p, { size: 160, eager: true }) : null);
  const form = h(
    "form",
    { class: "admin-form", novalidate: true, onsubmit: onSubmit },
    slot,
    field({ id: "name", label: "Name", required: true, value: p?.name || "", maxlength: "120" }),
    field({ id: "description", label: "Description", value: p?.description || "", rows: "4", maxlength: "2000" }, "textarea"),
    h("div", { class: "field" }, h("label", { for: "category" }, "Category"), catSelect, h("p", { class: "field-error", id: "category-error" })),
    h("div", { class: "field-row" },
      field({ id: "price", label: "Price", required: true, inputmode: "decimal", value: p ? moneyInput(p.price, currency) : "", hint: "In major units, e.g. 12.50" }),
      currencySelect(currency, shopCurrency),
      field({ id: "stock", label: "Stock", required: true, type: "number", min: "0", inputmode: "numeric", value: String(p?.stock ?? 0) }),
    ),
    field({ id: "image", label: "Image", type: "file", accept: IMAGE_TYPES.join(","), hint: "JPEG, PNG, WebP, AVIF or GIF, up to 5 MB. Uploaded straight to storage." }),
    preview,
    h("div", { class: "button-row" },
      h("button", { type: "submit", class: "btn btn-primary" }, p ? "Save changes" : "Create product"),
      link("#/admin", "Cancel", { class: "btn btn-ghost" }),
    ),
  );
  form.image.addEventListener("change", () => {
    const f = form.image.files[0];
    preview.replaceChildren();
    if (f && IMAGE_TYPES.includes(f.type) && f.size <= MAX_IMAGE_BYTES) {
      // A data: URL, not a blob: one: the CDN's Content-Security-Policy allows img-src data:.
      const reader = new FileReader();
      reader.onload = () => preview.replaceChildren(h("img", { src: reader.result, alt: "Preview of the chosen image", width: 160, height: 160 }));
      reader.readAsDataURL(f);
    }
  });

  async function onSubmit(e) {
    e.preventDefault();
    const v = Object.fromEntries([...new FormData(form)].filter(([, x]) => typeof x === "string").map(([k, x]) => [k, x.trim()]));
    const file = form.image.files[0] || null;
    const errors = {};
    const cur = (v.currency || "").toUpperCase();
    const price = /^[A-Z]{3}$/.test(cur) ? parseMoney(v.price, cur) : null;
    const stock = Number(v.stock);
    if (!v.name) errors.name = "Enter a product name.";
    if (!v.category) errors.category = "Choose a category.";
    if (!/^[A-Z]{3}$/.test(cur)) errors.currency = "Use a three-letter currency code, like USD.";
    else if (price === null || price <= 0) errors.price = "Enter a price above zero, like 12.50.";
    if (v.stock === "" || !Number.isInteger(stock) || stock < 0) errors.stock = "Stock must be a whole number, 0 or more.";
    if (file && !IMAGE_TYPES.includes(file.type)) errors.image = "Choose a JPEG, PNG, WebP, AVIF or GIF image.";
    else if (file && file.size > MAX_IMAGE_BYTES) errors.image = "The image must be 5 MB or smaller.";
    slot.replaceChildren();
    if (!showFieldErrors(form, errors)) return;

    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    const body = { name: v.name, description: v.description || "", category: v.category, price, currency: cur, stock };
    try {
      btn.textContent = "Saving…";
      let saved = p ? await api.adminUpdateProduct(p.productId, body) : await api.adminCreateProduct(body);
      if (p && Number(saved.stock) !== stock) saved = await api.adminSetStock(p.productId, stock);
      if (file) {
        btn.textContent = "Uploading image…";
        const upload = await api.adminImageUpload(saved.productId, file.type);
        const { imageUrl } = upload;
        await api.uploadImage(upload, file);
        // Record the new URL if the API didn't already when it signed the upload.
        const fresh = await api.getProduct(saved.productId);
        if (fresh.imageUrl !== imageUrl) await api.adminUpdateProduct(saved.productId, { ...body, imageUrl });
      }
      toast(p ? `Saved ${v.name}.` : `Created ${v.name}.`, "success");
      location.hash = "#/admin";
    } catch (err) {
      // The API names the refused fields: show each next to its field.
      const refused = Object.fromEntries((err.details?.details || []).map((d) => [String(d.field).split(".").pop(), d.message]));
      showFieldErrors(form, refused);
      slot.replaceChildren(errorBox(err));
      slot.focus();
      btn.disabled = false;
      btn.textContent = p ? "Save changes" : "Create product";
    }
  }

  render(h("h1", {}, p ? `Edit ${p.name}` : "New product"), adminNav(p ? "" : "new"), form);
}

// ---------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------

export async function adminOrdersView(_p, query = {}, isCurrent = () => true) {
  const status = STATUSES.includes(query.status) ? query.status : "PLACED";
  const list = h("ul", { class: "order-list", "aria-label": `${title(status)} orders` });
  const msg = h("div", { "aria-live": "polite" });
  const more = h("div", { class: "load-more" });
  let cursor = null;

  async function loadPage() {
    const page = await api.adminListOrders({ status, limit: 25, cursor: cursor || undefined });
    cursor = page.nextCursor || null;
    list.append(...(page.items || []).map((o) => adminOrderRow(o, msg, status)));
    more.replaceChildren();
    if (cursor) more.append(h("button", { type: "button", class: "btn btn-secondary", onclick: () => loadPage().catch((err) => more.replaceChildren(errorBox(err))) }, "Show more orders"));
  }
  await loadPage();
  if (!isCurrent()) return;

  const select = h("select", { id: "status-filter", onchange: (e) => (location.hash = "#/admin/orders?status=" + e.target.value) },
    STATUSES.map((s) => h("option", { value: s, selected: s === status }, title(s))));
  render(
    h("h1", {}, "Admin: orders"),
    adminNav("orders"),
    h("div", { class: "field field-inline" }, h("label", { for: "status-filter" }, "Show orders with status"), select),
    msg,
    list.children.length ? list : h("p", { class: "empty" }, `No ${title(status).toLowerCase()} orders.`),
    more,
  );
}

/** "ada@example.com · Ada Lovelace · Springfield, IL, United States" from the order's `customer`. */
function customerLine(o) {
  const c = o.customer || { name: o.shippingAddress?.name, city: o.shippingAddress?.city, region: o.shippingAddress?.region, country: o.shippingAddress?.country };
  const place = [c.city, c.region, c.country ? countryName(c.country) : null].filter(Boolean).join(", ");
  return h("p", { class: "order-customer" },
    c.email ? h("a", { href: "mailto:" + c.email }, c.email) : "e-mail not recorded",
    " · ", c.name || "", place ? " · ships to " + place : "");
}

function adminOrderRow(o, msg, listed) {
  const count = (o.items || []).reduce((n, i) => n + Number(i.quantity || 0), 0);
  const ref = orderRef(o.orderId);
  const row = h("li", { class: "order-row" });
  const next = NEXT[o.status];

  async function move(to, button) {
    button.disabled = true;
    try {
      const updated = await api.adminSetOrderStatus(o.orderId, to);
      toast(`Order ${ref} is now ${updated.status || to}.`, "success");
      // The list shows one status: an order that moved on leaves it at once.
      if ((updated.status || to) !== listed) {
        const list = row.parentElement;
        row.remove();
        if (list && !list.children.length) list.replaceWith(h("p", { class: "empty" }, `No ${title(listed).toLowerCase()} orders left.`));
        document.querySelector("main h1")?.focus();
      } else row.replaceWith(adminOrderRow(updated, msg, listed));
    } catch (err) {
      msg.replaceChildren(errorBox(err));
      button.disabled = false;
    }
  }

  row.append(
    h("div", {},
      h("p", { class: "order-link" }, "Order " + ref),
      customerLine(o),
      h("p", { class: "muted" }, formatDate(o.createdAt), " · ", `${count} ${count === 1 ? "item" : "items"}`,
        " · ", (o.items || []).map((i) => `${i.quantity}× ${i.name}`).join(", ")),
    ),
    statusBadge(o.status),
    h("p", { class: "order-total" }, formatPrice(o.total, o.currency)),
    h("div", { class: "button-row" },
      next ? h("button", { type: "button", class: "btn btn-small btn-primary", "aria-label": `Mark order ${ref} as ${title(next).toLowerCase()}`, onclick: (e) => move(next, e.currentTarget) }, `Mark ${title(next).toLowerCase()}`) : null,
      o.status === "PLACED" || o.status === "PAID"
        ? h("button", { type: "button", class: "btn btn-small btn-danger-outline", "aria-label": `Cancel order ${ref}`, onclick: (e) => move("CANCELLED", e.currentTarget) }, "Cancel")
        : null,
    ),
  );
  return row;
}
