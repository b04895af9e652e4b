"""The dispatcher: one neutral request in, one neutral response out, on every cloud.

Runtimes call only `handle(request, services)`. It resolves the route (the one the
runtime or the gateway matched, else the route table), enforces auth (the gateway has
verified the token; the admin group is checked here), validates the path parameters
and the JSON body against the route's pydantic model, calls the route's handler, and
answers every error through the one error table (functions/shop/errors.py).

Handler contract (declared with functions.shop.routes.route beside the handler):

    def handler(ctx: Ctx) -> BaseModel | dict | Response | Reply

`ctx.body` is the validated request model (None for routes without one), and
`ctx.principal` is set on customer and admin routes. A model or dict is sent with the
route's success status; a `Reply` carries one of the route's declared other `answers`
(e.g. 200 for a checkout replay). Handlers raise domain errors (ports errors, errors.Refused,
errors.BadRequest, ValueError for a bad query parameter or cursor); anything else is a bug
and answers 500 INTERNAL.

Cold start: importing this module loads only the stdlib, ports and the route module; the
handler modules (and pydantic with the models) load with the route table, on the first
request.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from . import errors, ports, routes
from .errors import BadRequest
from .http import Request, Response
from .push import MAX_TOKEN_LENGTH
from .services import Services

log = logging.getLogger("shop.api")

MAX_BODY_BYTES = 64 * 1024
MAX_PATH_PARAM = 128  # the OpenAPI document declares the same bound
# Path parameters allowed to be longer (a device's push token names itself in its path).
PATH_PARAM_MAX: dict[str, int] = {"token": MAX_TOKEN_LENGTH}


def path_param_max(name: str) -> int:
    return PATH_PARAM_MAX.get(name, MAX_PATH_PARAM)


MAX_CURSOR = 1024
JSON = "application/json"


@dataclass
class Ctx:
    request: Request
    services: Services
    route: routes.Route
    body: Any  # the validated request model, or None
    principal: ports.Principal | None

    @property
    def user(self) -> ports.Principal:
        """The signed-in caller (customer and admin routes: the dispatcher checked it)."""
        if self.principal is None:
            raise errors.Unauthorized()
        return self.principal

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


def _parse_body(request: Request, route: routes.Route) -> Any:
    """The validated request model (None for routes without a body); raises the 4xx."""
    if route.request_model is None:
        return None  # a body sent to a route without one is ignored, like a gateway would
    raw = request.body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise errors.PayloadTooLarge(f"request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays/objects
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    from pydantic import ValidationError

    try:
        return route.request_model.model_validate(data)
    except ValidationError as exc:
        fields = [
            (".".join(str(p) for p in e["loc"]) or "body", e["msg"])
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise errors.InvalidFields(fields) from None


def _check_path_params(route: routes.Route, params: dict[str, str]) -> None:
    for name in route.path_params:
        value = params.get(name) or ""
        limit = path_param_max(name)
        if not (0 < len(value) <= limit and value.isprintable()):
            raise BadRequest(f"path parameter {name!r} must be 1-{limit} printable characters")


def _to_response(result: Any, route: routes.Route) -> Response:
    if isinstance(result, Response):
        return result
    status, payload = (
        (result.status, result.body) if isinstance(result, routes.Reply) else (route.success_status, result)
    )
    if hasattr(payload, "model_dump"):
        payload = payload.model_dump(by_alias=True, mode="json")
    return Response(status, payload, {"content-type": JSON})


def resolve(request: Request) -> tuple[routes.Route, dict[str, str]]:
    """The route and its path parameters: the one the runtime or the gateway matched, else
    the table's; raises NoRoute (404/405)."""
    route = request.route or (routes.find(request.route_key) if request.route_key else None)
    if route is not None:
        return route, request.path_params
    found = routes.match(request.method, request.path)
    if found is not None:
        return found
    raise errors.NoRoute(request.method, request.path, routes.allowed_methods(request.path))


def handle(request: Request, services: Services) -> Response:
    try:
        route, request.path_params = resolve(request)
    except errors.NoRoute as exc:
        return _answer(exc, request)
    request.route = route
    try:
        resp = _to_response(_dispatch(request, services, route), route)
    except Exception as exc:
        resp = _answer(exc, request)
    resp.headers.setdefault("content-type", JSON)
    if route.auth != routes.PUBLIC:  # personal data: never cached by the CDN or the browser
        resp.headers.setdefault("cache-control", "no-store")
    if request.request_id:
        resp.headers.setdefault("x-request-id", request.request_id)
    return resp


def _answer(exc: Exception, request: Request) -> Response:
    resp = errors.to_response(exc)
    if resp is None:
        where = request.route.operation_id if request.route else f"{request.method} {request.path}"
        log.exception("unhandled error in %s (request %s)", where, request.request_id or "-")
        return errors.internal_error(request.request_id, in_message=True)
    return resp


def _dispatch(request: Request, services: Services, route: routes.Route) -> Any:
    principal = request.principal
    if route.auth != routes.PUBLIC:
        if principal is None:
            raise errors.Unauthorized()
        if route.auth == routes.ADMIN:
            if routes.ADMIN_GROUP not in principal.groups:
                raise errors.Forbidden()
            _recheck_admin(services, principal)
    _check_path_params(route, request.path_params)
    body = _parse_body(request, route)
    return route.handler(Ctx(request, services, route, body, principal))


def _recheck_admin(services: Services, principal: ports.Principal) -> None:
    """The token's group claim is a snapshot: the identity service answers whether the
    caller is still an enabled admin with a second factor and an unrevoked session."""
    try:
        services.identity.verify_admin(principal)
    except ports.IdentityError:
        raise
    except Exception as exc:  # the identity service is unreachable or throttling: fail closed
        log.exception("admin re-check failed for user %s", principal.user_id)
        raise ports.Unavailable("could not confirm admin access; retry") from exc
