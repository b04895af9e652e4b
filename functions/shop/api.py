"""The dispatcher: one neutral request in, one neutral response out, on every cloud.

Runtimes call only `handle(request, services)`. It resolves the route (the gateway's
route key when it matched one, else the route table), enforces auth (the gateway has
verified the token; the admin group is checked here), validates the path parameters
and the JSON body against the route's pydantic model, calls the handler, and maps
the domain's errors to JSON 4xx responses.

Handler contract (functions.shop.<module>:<function>, named by routes.ROUTES):

    def handler(ctx: Ctx) -> Response | BaseModel | dict | tuple[int, BaseModel | dict]

`ctx.body` is the validated request model (None for routes without one), and
`ctx.principal` is set on customer and admin routes. A bare model or dict is sent with
the route's success status; a tuple picks the status (e.g. 200 for a checkout replay).
Handlers raise ports errors (NotFound, InsufficientStock, ...) or ValueError for a bad
query parameter or cursor; everything else is a bug and answers 500 INTERNAL.

Cold start: this module imports only the stdlib, ports and the route table. The
handler modules (and pydantic with the models) load on first use, so each deployed
function loads only its own service's code.
"""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from . import ports, routes
from .http import Request, Response, error
from .services import Services

log = logging.getLogger("shop.api")

MAX_BODY_BYTES = 64 * 1024
MAX_PATH_PARAM = 128  # the OpenAPI document declares the same bound
MAX_CURSOR = 1024
JSON = "application/json"


class BadRequest(ValueError):
    """A malformed query or path parameter: answered 400 BAD_REQUEST."""


@dataclass
class Ctx:
    request: Request
    services: Services
    route: routes.Route
    body: Any  # the validated request model, or None
    principal: ports.Principal | None

    def param(self, name: str) -> str:
        return self.request.path_params[name]

    def query_str(self, name: str, max_length: int) -> str | None:
        """A trimmed query parameter, None when absent or blank."""
        raw = (self.request.query.get(name) or "").strip()
        if len(raw) > max_length or not raw.isprintable():
            raise BadRequest(f"query parameter {name!r} must be at most {max_length} printable characters")
        return raw or None

    def query_int(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.request.query.get(name)
        if raw in (None, ""):
            return default
        # isascii: int() also accepts other scripts' digits, which no client means to send
        if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
            raise BadRequest(f"query parameter {name!r} must be an integer from {lo} to {hi}")
        return int(raw)

    def cursor(self) -> str | None:
        """The opaque page cursor; the store raises ValueError if it does not decode."""
        return self.query_str("cursor", MAX_CURSOR)


_handlers: dict[str, Any] = {}


def _handler(route: routes.Route):
    fn = _handlers.get(route.handler)
    if fn is None:
        module, name = route.handler.split(":")
        fn = getattr(importlib.import_module(f"functions.shop.{module}"), name)
        _handlers[route.handler] = fn
    return fn


def _models():
    from . import models  # pydantic: loaded by the first route that has a body

    return models


def _parse_body(request: Request, route: routes.Route) -> Any:
    """The validated request model, or an error Response."""
    if route.request_model is None:
        return None  # a body sent to a route without one is ignored, like a gateway would
    raw = request.body or b""
    if len(raw) > MAX_BODY_BYTES:
        return error(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays/objects
        return error(400, "BAD_REQUEST", "request body is not valid JSON")
    if not isinstance(data, dict):
        return error(400, "BAD_REQUEST", "request body must be a JSON object")
    from pydantic import ValidationError

    try:
        return getattr(_models(), route.request_model).model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return error(422, "VALIDATION_ERROR", f"request body is invalid: {summary}", details=details)


def _bad_path_param(route: routes.Route, params: dict[str, str]) -> Response | None:
    for name in route.path_params:
        value = params.get(name) or ""
        if not (0 < len(value) <= MAX_PATH_PARAM and value.isprintable()):
            return error(400, "BAD_REQUEST", f"path parameter {name!r} must be 1-{MAX_PATH_PARAM} printable characters")
    return None


def _to_response(result: Any, route: routes.Route) -> Response:
    if isinstance(result, Response):
        return result
    status, payload = result if isinstance(result, tuple) else (route.success_status, result)
    if hasattr(payload, "model_dump"):
        payload = payload.model_dump(by_alias=True, mode="json")
    return Response(status, payload, {"content-type": JSON})


def resolve(request: Request) -> tuple[routes.Route, dict[str, str]] | Response:
    """The route and its path parameters, or a 404/405 error."""
    route = routes.ROUTES_BY_KEY.get(request.route_key or "")
    if route is not None:
        return route, request.path_params
    found = routes.match(request.method, request.path)
    if found is not None:
        return found
    allowed = routes.allowed_methods(request.path)
    if allowed:
        resp = error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.path}")
        resp.headers["allow"] = ", ".join(allowed)
        return resp
    return error(404, "NOT_FOUND", f"no route for {request.method} {request.path}")


def handle(request: Request, services: Services) -> Response:
    resolved = resolve(request)
    if isinstance(resolved, Response):
        return resolved
    route, request.path_params = resolved
    resp = _dispatch(request, services, route)
    resp.headers.setdefault("content-type", JSON)
    if route.auth != routes.PUBLIC:  # personal data: never cached by the CDN or the browser
        resp.headers.setdefault("cache-control", "no-store")
    if request.request_id:
        resp.headers.setdefault("x-request-id", request.request_id)
    return resp


def _dispatch(request: Request, services: Services, route: routes.Route) -> Response:
    principal = request.principal
    if route.auth != routes.PUBLIC:
        if principal is None:
            return error(401, "UNAUTHORIZED", "sign in: a valid bearer access token is required")
        if route.auth == routes.ADMIN:
            if routes.ADMIN_GROUP not in principal.groups:
                return error(403, "FORBIDDEN", "this operation needs the admin group")
            refused = _admin_refused(services, principal)
            if refused is not None:
                return refused
    bad = _bad_path_param(route, request.path_params)
    if bad is not None:
        return bad
    body = _parse_body(request, route)
    if isinstance(body, Response):
        return body
    try:
        return _to_response(_handler(route)(Ctx(request, services, route, body, principal)), route)
    except ports.NotFound as exc:
        return error(404, "NOT_FOUND", str(exc) or "not found")
    except ports.AlreadyExists as exc:
        return error(409, "ALREADY_EXISTS", str(exc) or "already exists")
    except ports.InsufficientStock as exc:
        ids = list(exc.product_ids)
        available = {pid: exc.available.get(pid, 0) for pid in ids}
        return error(409, "INSUFFICIENT_STOCK", exc.explained(), productIds=ids, available=available)
    except ports.CartChanged as exc:
        ids = list(exc.product_ids)
        return error(
            409,
            "CART_CHANGED",
            "your cart changed or was just ordered while checking out; review it and check out again",
            productIds=ids,
        )
    except ports.IdempotencyConflict:
        return error(409, "IDEMPOTENCY_CONFLICT", "this Idempotency-Key was used with a different request")
    except ports.StaleState as exc:
        return error(409, "CONFLICT", exc.detail or "the resource changed; reload and retry")
    except ports.Unavailable as exc:
        resp = error(503, "UNAVAILABLE", str(exc) or "temporarily unavailable; retry")
        resp.headers["retry-after"] = "1"
        return resp
    except ports.IdentityError as exc:
        return error(exc.status, exc.code, exc.message)
    except ValueError as exc:
        # pydantic's ValidationError is a ValueError too, but one raised here comes from
        # building a response, i.e. from server data: that is a bug, not bad input.
        if type(exc).__module__.startswith("pydantic"):
            return _internal(route, request)
        return error(400, "BAD_REQUEST", str(exc) or "bad request")
    except Exception:
        return _internal(route, request)


def _admin_refused(services: Services, principal: ports.Principal) -> Response | None:
    """The token's group claim is a snapshot: the identity service answers whether the
    caller is still an enabled admin with a second factor and an unrevoked session."""
    try:
        services.identity.verify_admin(principal)
    except ports.IdentityError as exc:
        return error(exc.status, exc.code, exc.message)
    except Exception:  # the identity service is unreachable or throttling: fail closed
        log.exception("admin re-check failed for user %s", principal.user_id)
        resp = error(503, "UNAVAILABLE", "could not confirm admin access; retry")
        resp.headers["retry-after"] = "1"
        return resp
    return None


def _internal(route: routes.Route, request: Request) -> Response:
    log.exception("unhandled error in %s (request %s)", route.operation_id, request.request_id or "-")
    return error(500, "INTERNAL", "internal error" + (f" (request {request.request_id})" if request.request_id else ""))
