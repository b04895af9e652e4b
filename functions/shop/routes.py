"""Routes: each declared beside its handler, with `@route(...)`; this module collects them.

A handler module (accounts, catalog, cart, orders, payments, admin, system) declares

    @route("PUT", "/api/cart/items/{productId}", "setCartItem", CUSTOMER, "cart",
           "Set a line's quantity (0 removes it)", request=SetCartItemRequest, response=Cart)
    def http_set_item(ctx: Ctx) -> Cart:
        return set_item(ctx.services, ctx.user.user_id, ctx.param("productId"), ctx.body.quantity)

where `set_item` is the operation (no HTTP in it) and `http_set_item` turns the request
into its arguments. The route carries everything the gateways, the dispatcher and the
OpenAPI document need (models, extra answers, headers): no other file names it. `ROUTES`
(every module's routes, in HANDLER_MODULES order) drives the API gateway routes of every
cloud (the Pulumi program imports it), the OpenAPI document and the local gateway.

Stdlib only. Importing it loads no handler module: `find` and `match` load the modules
SEGMENT_MODULES names for the request's path (a function's own service), `ROUTES` all.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

    ROUTES: tuple[Route, ...]
    ROUTES_BY_KEY: dict[str, Route]

PUBLIC = "public"
CUSTOMER = "customer"  # any signed-in user (valid access token)
ADMIN = "admin"  # signed-in user in the `admin` group
AUTH_LEVELS = (PUBLIC, CUSTOMER, ADMIN)
ADMIN_GROUP = "admin"

# The sitemap lists the storefront's absolute URLs, but behind each cloud's CDN the API sees
# its own host: the CDN passes the one the visitor used in this header (providers/*/cdn.py).
SITEMAP_PATH = "/api/sitemap.xml"
SITE_HOST_HEADER = "X-Shop-Site-Host"

# The modules under functions.shop that declare routes; a new module joins here.
HANDLER_MODULES = ("accounts", "devices", "system", "catalog", "cart", "orders", "admin", "payments")


@dataclass(frozen=True)
class Header:
    """A request header the operation reads (documented as an OpenAPI header parameter)."""

    name: str
    description: str
    schema: dict[str, Any]
    required: bool = True


@dataclass(frozen=True)
class Answer:
    """A success answer besides the route's usual one: its status, what it means, and its
    body (a model; None: the route's response model)."""

    status: int
    description: str
    model: type[BaseModel] | None = None


@dataclass(frozen=True)
class Reply:
    """A handler's result with a status other than the route's `success_status` (one of
    the route's declared `answers`)."""

    status: int
    body: Any


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "/api/products/{productId}"
    operation_id: str  # OpenAPI operationId, unique
    handler: Callable[..., Any]  # called with the dispatcher's Ctx
    auth: str  # PUBLIC | CUSTOMER | ADMIN
    service: str  # the function that serves it (datamodel.SERVICES)
    summary: str
    request_model: type[BaseModel] | None = None  # the JSON body, validated before the call
    response_model: type[BaseModel] | None = None  # None: a free-form JSON object
    success_status: int = 200
    query_params: tuple[str, ...] = ()
    required_query: tuple[str, ...] = ()  # of query_params, those without a default
    headers: tuple[Header, ...] = ()
    answers: tuple[Answer, ...] = ()
    media_type: str = "application/json"  # of the success body
    body_description: str | None = None  # of a non-JSON success body

    @property
    def route_key(self) -> str:
        """API Gateway HTTP API route key, e.g. "GET /api/products/{productId}"."""
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))


F = TypeVar("F", bound=Callable[..., Any])
_declared: dict[str, dict[str, Route]] = {}  # module -> operation id -> route


def route(
    method: str, path: str, operation_id: str, auth: str, service: str, summary: str, **options: Any
) -> Callable[[F], F]:
    """Declare the decorated function as the handler of METHOD PATH; `options` are the
    Route's keyword fields (request=, response=, status= and the others by their names)."""
    renamed = {"request": "request_model", "response": "response_model", "status": "success_status"}
    fields = {renamed.get(k, k): v for k, v in options.items()}

    def declare(fn: F) -> F:
        declared = Route(method, path, operation_id, fn, auth, service, summary, **fields)
        _declared.setdefault(fn.__module__, {})[operation_id] = declared
        return fn

    return declare


# The modules declaring the routes under each first path segment (/api/<segment>/...), so
# that a function's first request loads only its own service's modules (cold start). Only a
# hint: a route not found in them is looked up in every module (tests keep it exact).
SEGMENT_MODULES: dict[str, tuple[str, ...]] = {
    "auth": ("accounts",),
    "me": ("accounts", "devices"),
    "health": ("system",),
    "openapi.json": ("system",),
    "categories": ("catalog",),
    "products": ("catalog",),
    "sitemap.xml": ("catalog",),
    "cart": ("cart",),
    "orders": ("orders", "payments"),
    "payments": ("payments",),
    "admin": ("admin",),
}


def _declared_in(names: tuple[str, ...]) -> list[Route]:
    found: list[Route] = []
    for name in names:
        module = importlib.import_module(f"functions.shop.{name}")
        found += _declared.get(module.__name__, {}).values()
    return found


def _hinted(path: str) -> list[Route]:
    segment = path.split("/")[2] if path.startswith("/api/") else ""
    return _declared_in(SEGMENT_MODULES.get(segment, ()))


@functools.cache
def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", path) + "$")


_all: tuple[Route, ...] | None = None


def _every() -> tuple[Route, ...]:
    global _all
    if _all is None:
        _all = tuple(_declared_in(HANDLER_MODULES))
    return _all


def __getattr__(name: str) -> Any:
    # ROUTES and ROUTES_BY_KEY are computed on first use so that importing this module
    # (as every runtime does) loads no handler module.
    if name == "ROUTES":
        return _every()
    if name == "ROUTES_BY_KEY":
        return {r.route_key: r for r in _every()}
    raise AttributeError(name)


def find(route_key: str) -> Route | None:
    """The route of a gateway's route key ("GET /api/products/{productId}"), or None."""
    _, _, path = route_key.partition(" ")
    found = next((r for r in _hinted(path) if r.route_key == route_key), None)
    return found or next((r for r in _every() if r.route_key == route_key), None)


def _match_in(table: list[Route] | tuple[Route, ...], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in table:
        if candidate.method == method.upper():
            m = _pattern(candidate.path).match(path)
            if m:
                return candidate, m.groupdict()
    return None


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Find the route for a concrete request path (local gateway, Azure, GCP).

    Returns (route, path parameters), or None. A path that exists under another method
    is reported by `allowed_methods` so callers can answer 405.
    """
    return _match_in(_hinted(path), method, path) or _match_in(_every(), method, path)


def allowed_methods(path: str) -> list[str]:
    return sorted({r.method for r in _every() if _pattern(r.path).match(path)})
