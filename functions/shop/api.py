"""The dispatcher: one neutral request in, one neutral response out, on every cloud.

Handlers live in functions.shop.<module> (named by the route table) with the signature
`handler(ctx: Ctx) -> Response | tuple[int, BaseModel | dict]`. Modules are imported on
first use, so each deployed function loads only its own service's code.
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
JSON = "application/json"


@dataclass
class Ctx:
    request: Request
    services: Services
    route: routes.Route
    body: Any  # the validated request model, or None
    principal: ports.Principal | None

    def param(self, name: str) -> str:
        return self.request.path_params[name]

    def query_int(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.request.query.get(name)
        if raw in (None, ""):
            return default
        if not raw.isdigit() or not lo <= int(raw) <= hi:
            raise ValueError(f"query parameter {name!r} must be an integer from {lo} to {hi}")
        return int(raw)


_handlers: dict[str, Any] = {}
_models: Any = None


def _handler(route: routes.Route):
    fn = _handlers.get(route.handler)
    if fn is None:
        module, name = route.handler.split(":")
        fn = getattr(importlib.import_module(f"functions.shop.{module}"), name)
        _handlers[route.handler] = fn
    return fn


def _parse_body(request: Request, route: routes.Route) -> Any | Response:
    global _models
    if route.request_model is None:
        return None
    raw = request.body or b""
    if len(raw) > MAX_BODY_BYTES:
        return error(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        return error(400, "BAD_REQUEST", "request body is not valid JSON")
    if not isinstance(data, dict):
        return error(400, "BAD_REQUEST", "request body must be a JSON object")
    if _models is None:
        from . import models as _m

        _models = _m
    from pydantic import ValidationError

    try:
        return getattr(_models, route.request_model).model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors(include_url=False)
        ]
        return error(422, "VALIDATION_ERROR", "request body is invalid: " + "; ".join(
            f"{d['field'] or 'body'}: {d['message']}" for d in details[:5]), details=details)


def _to_response(result: Any, route: routes.Route) -> Response:
    if isinstance(result, Response):
        return result
    status, payload = (result if isinstance(result, tuple) else (route.success_status, result))
    if hasattr(payload, "model_dump"):
        payload = payload.model_dump(by_alias=True, mode="json")
    return Response(status, payload, {"content-type": JSON})


def handle(request: Request, services: Services) -> Response:
    if request.route_key and request.route_key in routes.ROUTES_BY_KEY:
        route, params = routes.ROUTES_BY_KEY[request.route_key], request.path_params
    else:
        found = routes.match(request.method, request.path)
        if found is None:
            allowed = routes.allowed_methods(request.path)
            if allowed:
                resp = error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.path}")
                resp.headers["allow"] = ", ".join(allowed)
                return resp
            return error(404, "NOT_FOUND", f"no route for {request.method} {request.path}")
        route, params = found
        request.path_params = params
    resp = _dispatch(request, services, route)
    if route.auth != routes.PUBLIC:
        resp.headers.setdefault("cache-control", "no-store")
    if request.request_id:
        resp.headers.setdefault("x-request-id", request.request_id)
    return resp


def _dispatch(request: Request, services: Services, route: routes.Route) -> Response:
    principal = request.principal
    if route.auth != routes.PUBLIC:
        if principal is None:
            return error(401, "UNAUTHORIZED", "sign in: a valid bearer access token is required")
        if route.auth == routes.ADMIN and routes.ADMIN_GROUP not in principal.groups:
            return error(403, "FORBIDDEN", "this operation needs the admin group")
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
        return error(409, "INSUFFICIENT_STOCK", f"not enough stock for: {', '.join(exc.product_ids)}",
                     productIds=list(exc.product_ids))
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
        return error(400, "BAD_REQUEST", str(exc))
    except Exception:
        log.exception("unhandled error in %s (request %s)", route.operation_id, request.request_id)
        return error(500, "INTERNAL", "internal error")
