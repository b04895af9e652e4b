"""The route table: every API operation, declared once.

It drives the API gateway routes of every cloud (the Pulumi program imports it), the
OpenAPI document, the local gateway and the dispatcher. Adding an entry here adds the
route everywhere with no infrastructure edit.

Stdlib only, so the infrastructure can import it without the handlers' dependencies;
handlers and models are named by string and resolved lazily by the dispatcher, so a
function imports only the modules of its own service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PUBLIC = "public"
CUSTOMER = "customer"  # any signed-in user (valid access token)
ADMIN = "admin"  # signed-in user in the `admin` group
AUTH_LEVELS = (PUBLIC, CUSTOMER, ADMIN)
ADMIN_GROUP = "admin"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "/api/products/{productId}"
    operation_id: str  # OpenAPI operationId, unique
    handler: str  # "module:function" under functions.shop, e.g. "catalog:list_products"
    auth: str  # PUBLIC | CUSTOMER | ADMIN
    service: str  # the function that serves it (datamodel.SERVICES)
    summary: str
    request_model: str | None = None  # class name in functions.shop.models
    response_model: str | None = None  # class name in functions.shop.models
    success_status: int = 200
    query_params: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        """API Gateway HTTP API route key, e.g. "GET /api/products/{productId}"."""
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))


R = Route
# The sitemap lists the storefront's absolute URLs, but behind each cloud's CDN the API sees
# its own host: the CDN passes the one the visitor used in this header (providers/*/cdn.py).
SITEMAP_PATH = "/api/sitemap.xml"
SITE_HOST_HEADER = "X-Shop-Site-Host"
ROUTES: tuple[Route, ...] = (
    # accounts
    R(
        "POST",
        "/api/auth/signup",
        "signUp",
        "accounts:sign_up",
        PUBLIC,
        "accounts",
        "Create an account (the same 202 whether or not the address has one)",
        "SignUpRequest",
        "SignUpResponse",
        202,
    ),
    R(
        "POST",
        "/api/auth/confirm",
        "confirmSignUp",
        "accounts:confirm",
        PUBLIC,
        "accounts",
        "Confirm an account with the emailed code",
        "ConfirmRequest",
        "StatusResponse",
    ),
    R(
        "POST",
        "/api/auth/login",
        "logIn",
        "accounts:log_in",
        PUBLIC,
        "accounts",
        "Sign in: tokens, or 202 with an MFA challenge to answer",
        "LoginRequest",
        "TokensResponse",
    ),
    R(
        "POST",
        "/api/auth/mfa",
        "answerMfaChallenge",
        "accounts:answer_mfa",
        PUBLIC,
        "accounts",
        "Finish sign-in with the code from the authenticator app",
        "MfaRequest",
        "TokensResponse",
    ),
    R(
        "POST",
        "/api/auth/mfa/setup",
        "startMfaSetup",
        "accounts:start_mfa_setup",
        CUSTOMER,
        "accounts",
        "Start enrolling an authenticator app: its secret",
        None,
        "MfaSetupResponse",
    ),
    R(
        "POST",
        "/api/auth/mfa/verify",
        "verifyMfaSetup",
        "accounts:verify_mfa_setup",
        CUSTOMER,
        "accounts",
        "Turn the authenticator on with its first code; ends every session (sign in again)",
        "MfaVerifyRequest",
        "StatusResponse",
    ),
    R(
        "POST",
        "/api/auth/signout",
        "signOut",
        "accounts:sign_out",
        CUSTOMER,
        "accounts",
        "Sign out: revokes the refresh tokens server-side",
        None,
        "StatusResponse",
    ),
    R(
        "POST",
        "/api/auth/refresh",
        "refreshTokens",
        "accounts:refresh",
        PUBLIC,
        "accounts",
        "Exchange a refresh token for new tokens",
        "RefreshRequest",
        "TokensResponse",
    ),
    R("GET", "/api/me", "getMe", "accounts:me", CUSTOMER, "accounts", "The signed-in user", None, "MeResponse"),
    # catalog
    R("GET", "/api/health", "health", "system:health", PUBLIC, "catalog", "Liveness", None, "HealthResponse"),
    R("GET", "/api/openapi.json", "openapi", "system:openapi", PUBLIC, "catalog", "This API's OpenAPI document"),
    R(
        "GET",
        "/api/categories",
        "listCategories",
        "catalog:list_categories",
        PUBLIC,
        "catalog",
        "Product categories",
        None,
        "CategoryList",
    ),
    R(
        "GET",
        "/api/products",
        "listProducts",
        "catalog:list_products",
        PUBLIC,
        "catalog",
        "Products by category or name search, filtered by price and stock, sorted, paginated",
        None,
        "ProductList",
        query_params=("category", "q", "limit", "cursor", "minPrice", "maxPrice", "inStock", "sort"),
    ),
    R(
        "GET",
        "/api/products/{productId}",
        "getProduct",
        "catalog:get_product",
        PUBLIC,
        "catalog",
        "One product",
        None,
        "Product",
    ),
    R(
        "GET",
        SITEMAP_PATH,
        "getSitemap",
        "catalog:sitemap",
        PUBLIC,
        "catalog",
        "Sitemap of the storefront (XML): home, every category page and every product page",
    ),
    # cart
    R("GET", "/api/cart", "getCart", "cart:get_cart", CUSTOMER, "cart", "My cart with live prices", None, "Cart"),
    R(
        "PUT",
        "/api/cart/items/{productId}",
        "setCartItem",
        "cart:set_item",
        CUSTOMER,
        "cart",
        "Set a line's quantity (0 removes it)",
        "SetCartItemRequest",
        "Cart",
    ),
    R(
        "DELETE",
        "/api/cart/items/{productId}",
        "removeCartItem",
        "cart:remove_item",
        CUSTOMER,
        "cart",
        "Remove a line",
        None,
        "Cart",
    ),
    R("DELETE", "/api/cart", "clearCart", "cart:clear", CUSTOMER, "cart", "Empty my cart", None, "Cart"),
    # orders
    R(
        "POST",
        "/api/orders",
        "placeOrder",
        "orders:place_order",
        CUSTOMER,
        "orders",
        "Check out the cart (Idempotency-Key header required)",
        "PlaceOrderRequest",
        "Order",
        201,
    ),
    R(
        "GET",
        "/api/orders",
        "listMyOrders",
        "orders:list_my_orders",
        CUSTOMER,
        "orders",
        "My orders, newest first",
        None,
        "OrderList",
        query_params=("limit", "cursor"),
    ),
    R(
        "GET",
        "/api/orders/{orderId}",
        "getMyOrder",
        "orders:get_my_order",
        CUSTOMER,
        "orders",
        "One of my orders",
        None,
        "Order",
    ),
    R(
        "POST",
        "/api/orders/{orderId}/cancel",
        "cancelMyOrder",
        "orders:cancel_my_order",
        CUSTOMER,
        "orders",
        "Cancel my order while it has not shipped",
        None,
        "Order",
    ),
    # admin
    R(
        "POST",
        "/api/admin/products",
        "adminCreateProduct",
        "admin:create_product",
        ADMIN,
        "admin",
        "Create a product",
        "ProductInput",
        "Product",
        201,
    ),
    R(
        "PUT",
        "/api/admin/products/{productId}",
        "adminUpdateProduct",
        "admin:update_product",
        ADMIN,
        "admin",
        "Update a product",
        "ProductInput",
        "Product",
    ),
    R(
        "DELETE",
        "/api/admin/products/{productId}",
        "adminDeleteProduct",
        "admin:delete_product",
        ADMIN,
        "admin",
        "Delete a product",
        None,
        "StatusResponse",
    ),
    R(
        "PUT",
        "/api/admin/products/{productId}/stock",
        "adminSetStock",
        "admin:set_stock",
        ADMIN,
        "admin",
        "Set a product's stock",
        "StockInput",
        "Product",
    ),
    R(
        "POST",
        "/api/admin/products/{productId}/image",
        "adminImageUpload",
        "admin:image_upload_url",
        ADMIN,
        "admin",
        "Get a pre-signed URL to upload a product image",
        "ImageUploadRequest",
        "ImageUploadResponse",
    ),
    R(
        "GET",
        "/api/admin/orders",
        "adminListOrders",
        "admin:list_orders",
        ADMIN,
        "admin",
        "Orders by status",
        None,
        "OrderList",
        query_params=("status", "limit", "cursor"),
    ),
    R(
        "PUT",
        "/api/admin/orders/{orderId}/status",
        "adminSetOrderStatus",
        "admin:set_order_status",
        ADMIN,
        "admin",
        "Advance an order's status",
        "OrderStatusInput",
        "Order",
    ),
    R(
        "POST",
        "/api/cart/merge",
        "mergeCart",
        "cart:merge",
        CUSTOMER,
        "cart",
        "Add a guest cart to mine (quantities added, capped at stock)",
        "MergeCartRequest",
        "MergedCart",
    ),
    R(
        "POST",
        "/api/orders/{orderId}/payment",
        "payMyOrder",
        "payments:pay",
        CUSTOMER,
        "orders",
        "Start (or, with the simulated processor, make) the payment of my order",
        "PayRequest",
        "PaymentResponse",
    ),
    R(
        "POST",
        "/api/payments/webhook",
        "paymentWebhook",
        "payments:webhook",
        PUBLIC,
        "orders",
        "The payment processor's events (Stripe-Signature verified); the only way an order becomes PAID",
        None,
        "StatusResponse",
    ),
)
del R

ROUTES_BY_KEY: dict[str, Route] = {r.route_key: r for r in ROUTES}


def routes_for_service(service: str) -> tuple[Route, ...]:
    return tuple(r for r in ROUTES if r.service == service)


_compiled: list[tuple[re.Pattern[str], Route]] | None = None


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Find the route for a concrete request path (local gateway, Azure, GCP).

    Returns (route, path parameters), or None. A path that exists under another method
    is reported by `allowed_methods` so callers can answer 405.
    """
    global _compiled
    if _compiled is None:
        _compiled = [(re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", r.path) + "$"), r) for r in ROUTES]
    for pattern, route in _compiled:
        if route.method == method.upper():
            m = pattern.match(path)
            if m:
                return route, m.groupdict()
    return None


def allowed_methods(path: str) -> list[str]:
    match("GET", "/")  # compile
    assert _compiled is not None
    return sorted({r.method for p, r in _compiled if p.match(path)})
