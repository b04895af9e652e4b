"""AWS Lambda entrypoint for the HTTP API: API Gateway HTTP API payload 2.0 -> the domain.

API Gateway matches the route (its routes are generated from functions/shop/routes.py),
verifies the Cognito access token with its JWT authorizer and passes the verified claims
in requestContext.authorizer.jwt.claims; this module only translates shapes:

    event (payload 2.0) -> functions.shop.http.Request -> api.handle -> {statusCode, ...}

Cold start: module import pulls in only the stdlib and the domain's stdlib-only core
(functions.shop.http/ports/routes). boto3 is imported when the first request builds the
adapters (functions/adapters/aws_services.py), once per container.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import TYPE_CHECKING, Any

from functions.runtimes.origin import ORIGIN_HEADER, origin_verified
from functions.shop import errors
from functions.shop.errors import BadRequest, Forbidden, internal_error
from functions.shop.http import Request, Response, bearer_token
from functions.shop.ports import Principal

if TYPE_CHECKING:
    from functions.runtimes._common import ServicesFactory
    from functions.shop.routes import Route
    from functions.shop.services import Services

log = logging.getLogger("shop.aws_http")

# Content types whose bodies go back to API Gateway as text; anything else is base64.
_TEXT_TYPES = ("application/json", "text/", "application/xml", "application/javascript")


def services() -> Services:
    """The adapters, built on first use and reused by every later invocation of this container."""
    from functions.adapters.aws_services import build_services

    return build_services()  # caches per container


# ---------------------------------------------------------------------------
# Event -> neutral request
# ---------------------------------------------------------------------------


def parse_groups(value: Any) -> tuple[str, ...]:
    """cognito:groups as API Gateway hands it over.

    The JWT carries a JSON array, but the HTTP API authorizer flattens every claim to a
    string: one group arrives as "[admin]", several as "[admin editors]" (space separated);
    hand-built events and other gateways use "admin", "admin,editors" or a real list.
    """
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if isinstance(decoded, list):
                return tuple(dict.fromkeys(str(v).strip() for v in decoded if str(v).strip()))
            text = text[1:-1]
        items = text.replace(",", " ").split()
    return tuple(dict.fromkeys(i.strip().strip('"') for i in items if i.strip().strip('"')))


def principal_from_event(event: dict[str, Any], headers: dict[str, str]) -> Principal | None:
    """The caller from the claims API Gateway's JWT authorizer verified; None on public routes
    (no authorizer, so no claims), when the claims have no subject, or for anything but an
    access token: the authorizer also accepts the pool's ID tokens (their `aud` is the same
    client id), which are meant for the client, not for the API."""
    ctx = event.get("requestContext") or {}
    claims = ((ctx.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or claims.get("token_use") != "access":
        return None
    email = claims.get("email")
    username = claims.get("username") or claims.get("cognito:username")
    return Principal(
        user_id=sub,
        groups=parse_groups(claims.get("cognito:groups")),
        email=email if isinstance(email, str) and email else None,
        username=username if isinstance(username, str) and username else None,
        # The raw access token (identity calls on the user's behalf, e.g. GET /api/me), with
        # or without the "Bearer " prefix, as API Gateway's authorizer accepted it.
        access_token=bearer_token(headers.get("authorization"), bare=True),
    )


class BadEvent(BadRequest):
    """The event cannot be turned into a request (undecodable body): a 400, not a 500."""


def _body(event: dict[str, Any]) -> bytes | None:
    raw = event.get("body")
    if raw is None or raw == "":
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadEvent("request body is not valid base64") from exc
    return raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)


def _query(event: dict[str, Any]) -> dict[str, str]:
    # queryStringParameters joins repeated keys with commas; rawQueryString keeps them
    # apart, so "last value wins" (the neutral Request's rule) is read from it.
    raw = event.get("rawQueryString")
    if raw:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(raw, keep_blank_values=True))
    return {k: str(v) for k, v in (event.get("queryStringParameters") or {}).items()}


def _path(event: dict[str, Any]) -> str:
    ctx = event.get("requestContext") or {}
    path = event.get("rawPath") or (ctx.get("http") or {}).get("path") or "/"
    # A named stage (not $default) prefixes rawPath with "/<stage>"; routes don't have it.
    stage = ctx.get("stage")
    if stage and stage != "$default" and (path == f"/{stage}" or path.startswith(f"/{stage}/")):
        path = path[len(stage) + 1 :] or "/"
    return path


def source_ip(event: dict[str, Any], headers: dict[str, str]) -> str | None:
    """The client's address. Behind CloudFront, API Gateway's sourceIp is an edge server;
    CloudFront appends the viewer's address to X-Forwarded-For, so its last entry is the
    address CloudFront saw (entries before it are whatever the client sent). The origin only
    answers requests that came through CloudFront (README, security)."""
    forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    if forwarded:
        return forwarded[-1]
    ip = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    return str(ip) if ip else None


def request_from_event(event: dict[str, Any], request_id: str) -> Request:
    ctx = event.get("requestContext") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    headers.pop(ORIGIN_HEADER, None)  # the CDN's secret goes no further than the origin check
    method = str((ctx.get("http") or {}).get("method") or event.get("httpMethod") or "GET").upper()
    route_key = event.get("routeKey")
    # "$default" (or a catch-all) means API Gateway did not match a route of the table:
    # let the dispatcher match the path itself.
    if not isinstance(route_key, str) or route_key.startswith("$") or " " not in route_key:
        route_key = None
    params = {str(k): str(v) for k, v in (event.get("pathParameters") or {}).items()}
    path = _path(event)
    route, params = _route(route_key, params, method, path)
    return Request(
        method=method,
        path=path,
        route_key=route_key,
        route=route,
        path_params=params,
        query=_query(event),
        headers=headers,
        body=_body(event),
        principal=principal_from_event(event, headers),
        request_id=request_id,
        source_ip=source_ip(event, headers),
    )


# ---------------------------------------------------------------------------
# Neutral response -> payload 2.0 response
# ---------------------------------------------------------------------------


def to_result(resp: Response, request_id: str) -> dict[str, Any]:
    headers = {k.lower(): str(v) for k, v in resp.headers.items()}
    headers.setdefault("content-type", "application/json")
    headers["x-request-id"] = request_id
    payload = resp.json_bytes()
    if headers["content-type"].startswith(_TEXT_TYPES):
        try:
            return {
                "statusCode": resp.status,
                "headers": headers,
                "body": payload.decode("utf-8"),
                "isBase64Encoded": False,
            }
        except UnicodeDecodeError:
            pass
    return {
        "statusCode": resp.status,
        "headers": headers,
        "body": base64.b64encode(payload).decode("ascii"),
        "isBase64Encoded": True,
    }


def _request_id(event: dict[str, Any], context: Any) -> str:
    rid = (event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", None)
    if rid:
        return str(rid)
    import uuid  # only for hand-built events: API Gateway and Lambda always supply one

    return str(uuid.uuid4())


def _route(
    route_key: str | None, params: dict[str, str], method: str, path: str
) -> tuple[Route | None, dict[str, str]]:
    """The route API Gateway matched, or (a hand-built or $default event) the table's match."""
    from functions.shop import routes

    route = routes.find(route_key) if route_key else None
    if route is not None:
        return route, params
    return routes.match(method, path) or (None, params)


def function_of(request: Request) -> str:
    """The function that serves this request (each route's `service`), "" for no route: the
    role its AWS calls run under where all functions share a process (aws_clients.acting_as)."""
    return request.route.service if request.route is not None else ""


def _through_cdn(event: Any) -> bool:
    raw = (event.get("headers") if isinstance(event, dict) else None) or {}
    return origin_verified({str(k).lower(): str(v) for k, v in raw.items()})


def handler(
    event: dict[str, Any], context: Any = None, services_factory: ServicesFactory | None = None
) -> dict[str, Any]:
    """Lambda handler. `services_factory` lets tests run the real translation on fakes."""
    request_id = _request_id(event if isinstance(event, dict) else {}, context)
    if not _through_cdn(event):
        log.warning("request %s: refused, it did not come through the CDN", request_id)
        return to_result(errors.answer(Forbidden("requests must come through the shop's CDN")), request_id)
    try:
        request = request_from_event(event, request_id)
    except BadEvent as exc:
        return to_result(errors.answer(exc), request_id)
    try:
        from functions.adapters.aws_clients import acting_as
        from functions.shop.api import handle

        with acting_as(function_of(request)):
            resp = handle(request, (services_factory or services)())
    except Exception:
        # The domain maps every expected failure itself; this is a bug or an unreachable
        # backend. Log with the request id (also in the response) so the two can be joined.
        log.exception("request %s: unhandled error on %s %s", request_id, request.method, request.path)
        resp = internal_error(request_id)
    if resp.status >= 500:
        log.error("request %s: %s %s -> %s", request_id, request.method, request.path, resp.status)
    return to_result(resp, request_id)
