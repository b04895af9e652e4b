// api.js: the shop API client. One function per route of functions/shop/routes.py
// (named after its operationId), plus the session (tokens in localStorage) and refresh.
//
// config.json is written by each cloud deployment next to index.html; every field is
// optional. `apiBase` may be "/api", "https://cdn.example.com/api" or a gateway URL
// without the "/api" suffix: all routes live under /api, so we append it when missing.

const SESSION_KEY = "nimbus.session";
const REFRESH_MARGIN_MS = 60_000; // refresh a minute before the access token expires

let config = {};
let apiBase = "/api";

/**
 * Load /config.json once; a missing or broken file means "same origin, /api".
 * index.html preloads it (the server marks it no-cache, so it is always revalidated).
 */
export async function loadConfig() {
  try {
    const res = await fetch("/config.json");
    if (res.ok) config = (await res.json()) || {};
  } catch {
    config = {};
  }
  let base = typeof config.apiBase === "string" && config.apiBase.trim() ? config.apiBase.trim() : "/api";
  base = base.replace(/\/+$/, "");
  if (!/\/api$/.test(base)) base += "/api";
  apiBase = base;
  return config;
}

export function getConfig() {
  return config;
}

/** An API failure: HTTP status plus the {error: {code, message, ...}} body. */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** Network failures and 5xx may be retried safely (checkout reuses its idempotency key). */
  get retryable() {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

// ---------------------------------------------------------------------------
// Session: tokens persisted in localStorage so a reload keeps the customer signed in.
// ---------------------------------------------------------------------------

let session = readSession();
const listeners = new Set();

function readSession() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
    return s && s.accessToken && s.refreshToken ? s : null;
  } catch {
    return null;
  }
}

function writeSession(next) {
  session = next;
  if (next) localStorage.setItem(SESSION_KEY, JSON.stringify(next));
  else localStorage.removeItem(SESSION_KEY);
  listeners.forEach((fn) => fn(session));
}

function sessionFromTokens(tokens, email, previous) {
  return {
    email: email ?? previous?.email ?? null,
    accessToken: tokens.accessToken,
    idToken: tokens.idToken,
    // Cognito-style refresh responses omit the refresh token: keep the one we have.
    refreshToken: tokens.refreshToken || previous?.refreshToken,
    expiresAt: Date.now() + (Number(tokens.expiresIn) || 3600) * 1000,
  };
}

export function getSession() {
  return session;
}

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Forget the session here at once, and have the identity service revoke its refresh token. */
export function signOut() {
  const ending = session;
  writeSession(null);
  if (ending?.accessToken) send("POST", "/auth/signout", { token: ending.accessToken }).catch(() => {});
}

// Another tab signing in or out updates this one too.
window.addEventListener("storage", (e) => {
  if (e.key === SESSION_KEY) {
    session = readSession();
    listeners.forEach((fn) => fn(session));
  }
});

let refreshing = null; // one refresh in flight, shared by every waiting request

async function refreshSession() {
  if (!session?.refreshToken) throw new ApiError(401, "NOT_SIGNED_IN", "Please sign in.");
  if (!refreshing) {
    const previous = session;
    refreshing = request("POST", "/auth/refresh", { body: { refreshToken: previous.refreshToken }, auth: false })
      .then((tokens) => writeSession(sessionFromTokens(tokens, null, previous)))
      .catch((err) => {
        // A refused refresh token means the session is over; a network error does not.
        if (err.status === 400 || err.status === 401 || err.status === 403) writeSession(null);
        throw err.status === 0 ? err : new ApiError(401, "SESSION_EXPIRED", "Your session has expired. Please sign in again.");
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

// ---------------------------------------------------------------------------
// The transport
// ---------------------------------------------------------------------------

function apiUrl(path, query) {
  let url = apiBase + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") qs.set(k, v);
    const s = qs.toString();
    if (s) url += "?" + s;
  }
  return url;
}

// Public GETs started before the view that needs them has loaded (see prefetch below).
const primed = new Map();

/**
 * Start a public GET now, while the view's module is still loading; the view's identical
 * request then takes this answer instead of asking again. One route's worth at a time:
 * a new prefetch drops answers nobody took, so nothing stale is ever served.
 */
function prefetch(path, query) {
  primed.clear();
  const url = apiUrl(path, query);
  const pending = fetch(url, { headers: { Accept: "application/json" } });
  pending.catch(() => {}); // a failure surfaces when the view takes it
  primed.set(url, pending);
}

async function send(method, path, { body, query, headers = {}, token } = {}) {
  const url = apiUrl(path, query);
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (token) init.headers.Authorization = "Bearer " + token;
  const early = method === "GET" && !token && body === undefined ? primed.get(url) : undefined;
  primed.delete(url);
  let res;
  try {
    res = await (early || fetch(url, init));
  } catch {
    throw new ApiError(0, "NETWORK", "We couldn't reach the shop. Check your connection and try again.");
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const { code, message, ...details } = e;
    // The API's own text is for developers: shoppers read a sentence written for them.
    const friendly = FRIENDLY[code] || message || defaultMessage(res.status);
    throw new ApiError(res.status, code || "HTTP_" + res.status, friendly, { ...details, apiMessage: message });
  }
  return { status: res.status, data };
}

// Messages for the API's error codes (functions/shop/api.py, the identity adapters).
// Codes not listed keep the API's message (e.g. INSUFFICIENT_STOCK, which views explain).
const FRIENDLY = {
  NOT_AUTHORIZED: "That email and password don't match an account. Check both and try again.",
  USER_EXISTS: "An account with this email already exists. Sign in instead.",
  INVALID_PASSWORD: "Choose a longer password with upper and lower case letters, digits and a symbol.",
  CODE_MISMATCH: "That code isn't right. Check it and try again.",
  CODE_EXPIRED: "That code has expired. Ask for a new one.",
  SESSION_EXPIRED: "Your sign-in took too long. Please sign in again.",
  INVALID_PARAMETER: "Check your email address and password and try again.",
  TOO_MANY_REQUESTS: "Too many attempts. Wait a minute and try again.",
  VALIDATION_ERROR: "Some details weren't accepted. Check the highlighted fields.",
  BAD_REQUEST: "That request wasn't understood. Reload the page and try again.",
  CART_FULL: "Your cart holds as many different products as it can. Remove one to add another.",
  CART_EMPTY: "Your cart is empty.",
  CART_CHANGED: "Your cart changed while you were checking out. Review it and try again.",
  NOT_CANCELLABLE: "This order can no longer be cancelled.",
  NOT_PAYABLE: "This order isn't waiting for a payment.",
  PAYMENTS_UNAVAILABLE: "Payments aren't available on this shop right now.",
  INVALID_TRANSITION: "That order can't move to this status from where it is.",
  FORBIDDEN: "You don't have access to that.",
  NOT_FOUND: "We couldn't find that.",
  UNAVAILABLE: "The shop is busy. Please try again in a moment.",
  INTERNAL: "Something went wrong on our side. Please try again.",
};

function defaultMessage(status) {
  if (status === 401) return "Please sign in.";
  if (status === 403) return "You don't have access to that.";
  if (status === 404) return "We couldn't find that.";
  if (status >= 500) return "Something went wrong on our side. Please try again.";
  return "The request failed (" + status + ").";
}

/**
 * Call the API. Authenticated calls refresh the access token shortly before it
 * expires, and once more (then retry) if the API answers 401 anyway.
 */
async function request(method, path, { auth = false, full = false, ...opts } = {}) {
  if (!auth) {
    const r = await send(method, path, opts);
    return full ? r : r.data;
  }
  if (!session) throw new ApiError(401, "NOT_SIGNED_IN", "Please sign in to continue.");
  if (session.expiresAt - REFRESH_MARGIN_MS < Date.now()) await refreshSession();
  try {
    const r = await send(method, path, { ...opts, token: session.accessToken });
    return full ? r : r.data;
  } catch (err) {
    if (err.status !== 401 || !session) throw err;
    await refreshSession();
    const r = await send(method, path, { ...opts, token: session.accessToken });
    return full ? r : r.data;
  }
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

/** POST /api/auth/signup → 202 {status, confirmed}, the same for a new or an existing address. */
export const signUp = (email, password) => request("POST", "/auth/signup", { body: { email, password } });
export const confirmSignUp = (email, code) => request("POST", "/auth/confirm", { body: { email, code } });
/**
 * Sign in. Resolves to null when signed in, or to the challenge to answer:
 * {challenge: "SOFTWARE_TOKEN_MFA", session} (answerMfa) or {challenge: "MFA_SETUP", session}
 * (an admin without an authenticator: startMfaSetup / verifyMfaSetup with that session).
 */
export async function logIn(email, password) {
  const { status, data } = await send("POST", "/auth/login", { body: { email, password } });
  if (status === 202) return data;
  writeSession(sessionFromTokens(data, email, null));
  return null;
}
export async function answerMfa(email, session, code) {
  const tokens = await request("POST", "/auth/mfa", { body: { email, session, code } });
  writeSession(sessionFromTokens(tokens, email, null));
}
/** {secretCode, otpauthUri, session} for the authenticator app. */
export const startMfaSetup = (setupSession) => send("POST", "/auth/mfa/setup", { token: setupSession }).then((r) => r.data);
export const verifyMfaSetup = (setupSession, code, session) =>
  send("POST", "/auth/mfa/verify", { token: setupSession, body: { code, session: session || null } }).then((r) => r.data);
export const refreshTokens = () => refreshSession();
export const getMe = () => request("GET", "/me", { auth: true });

// ---------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------

export const health = () => request("GET", "/health");
export const listCategories = () => request("GET", "/categories");
/** The browse parameters of GET /api/products (functions/shop/catalog.py): prices in cents. */
function productQuery({ category, q, limit, cursor, minPrice, maxPrice, inStock, sort } = {}) {
  return { category, q, limit, cursor, minPrice, maxPrice, inStock: inStock ? "true" : undefined, sort };
}
export const listProducts = (params = {}) => request("GET", "/products", { query: productQuery(params) });
export const getProduct = (productId) => request("GET", "/products/" + enc(productId));
export const prefetchProducts = (params = {}) => prefetch("/products", productQuery(params));
export const prefetchProduct = (productId) => prefetch("/products/" + enc(productId));

// ---------------------------------------------------------------------------
// Cart
// ---------------------------------------------------------------------------

export const getCart = () => request("GET", "/cart", { auth: true });
export const setCartItem = (productId, quantity) =>
  request("PUT", "/cart/items/" + enc(productId), { auth: true, body: { quantity } });
export const removeCartItem = (productId) => request("DELETE", "/cart/items/" + enc(productId), { auth: true });
export const clearCart = () => request("DELETE", "/cart", { auth: true });
/** POST /api/cart/merge: the guest cart added to the account's → the cart plus `adjusted` lines. */
export const mergeCart = (items) => request("POST", "/cart/merge", { auth: true, body: { items } });

// ---------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------

/** POST /api/orders → {status: 201 new | 200 replay of the same key, data: order}. */
export const placeOrder = (shippingAddress, idempotencyKey) =>
  request("POST", "/orders", {
    auth: true,
    full: true,
    body: { shippingAddress },
    headers: { "Idempotency-Key": idempotencyKey },
  });
export const listMyOrders = ({ limit, cursor } = {}) => request("GET", "/orders", { auth: true, query: { limit, cursor } });
export const getMyOrder = (orderId) => request("GET", "/orders/" + enc(orderId), { auth: true });
/** POST /api/orders/{id}/payment: {testCard} or {completeAction} with the simulated processor. */
export const payOrder = (orderId, body = {}) => request("POST", "/orders/" + enc(orderId) + "/payment", { auth: true, body });
export const cancelMyOrder = (orderId) => request("POST", "/orders/" + enc(orderId) + "/cancel", { auth: true });

// ---------------------------------------------------------------------------
// Admin
// ---------------------------------------------------------------------------

export const adminCreateProduct = (product) => request("POST", "/admin/products", { auth: true, body: product });
export const adminUpdateProduct = (productId, product) =>
  request("PUT", "/admin/products/" + enc(productId), { auth: true, body: product });
export const adminDeleteProduct = (productId) => request("DELETE", "/admin/products/" + enc(productId), { auth: true });
export const adminSetStock = (productId, stock) =>
  request("PUT", "/admin/products/" + enc(productId) + "/stock", { auth: true, body: { stock } });
export const adminImageUpload = (productId, contentType) =>
  request("POST", "/admin/products/" + enc(productId) + "/image", { auth: true, body: { contentType } });
export const adminListOrders = ({ status, limit, cursor } = {}) =>
  request("GET", "/admin/orders", { auth: true, query: { status, limit, cursor } });
export const adminSetOrderStatus = (orderId, status) =>
  request("PUT", "/admin/orders/" + enc(orderId) + "/status", { auth: true, body: { status } });

/** Send the file itself to object storage with the signed form the API returned (no
 * bearer token). POST: the signed fields first, the file last (storage ignores fields after
 * it); the policy pins the key, type and size. PUT: the file as the body, with the headers. */
export async function uploadImage(upload, file) {
  if (file.size > upload.maxBytes) throw new ApiError(413, "UPLOAD_TOO_LARGE", "The image is larger than the shop accepts.");
  let init;
  if (upload.uploadMethod === "POST") {
    const body = new FormData();
    for (const [name, value] of Object.entries(upload.uploadFields)) body.append(name, value);
    body.append("file", file);
    init = { method: "POST", body };
  } else {
    init = { method: "PUT", headers: upload.uploadHeaders, body: file };
  }
  let res;
  try {
    res = await fetch(upload.uploadUrl, init);
  } catch {
    throw new ApiError(0, "UPLOAD_FAILED", "The image upload could not reach storage.");
  }
  if (!res.ok) throw new ApiError(res.status, "UPLOAD_FAILED", "The image upload was refused (" + res.status + ").");
}
