"""The API Gateway HTTP API (payload 2.0) event for one request, and its Lambda result back.

The local gateway calls the real Lambda entrypoint (functions/runtimes/aws_http.handler)
with the event API Gateway would send, rather than calling the domain directly: that way
`make dev` runs the deployed translation code too (claims flattened by the authorizer,
base64 bodies, the origin-secret check, x-request-id), and the entrypoint names the
function whose IAM policy every SDK call of the invocation is checked against
(functions/local/iam_policy.py).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .authorizer import Claims, flatten
from .iam_policy import LOCAL_ACCOUNT

Event = dict[str, Any]


@dataclass(frozen=True)
class ApiRequest:
    """What the gateway read from the wire and matched against the route table."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes | None
    route_key: str
    path_params: dict[str, str]
    claims: Claims | None  # verified by the authorizer; None on public routes
    source_ip: str


def _event_body(body: bytes | None) -> Event:
    """Text bodies go in as text, anything else base64-encoded, as API Gateway does."""
    if not body:
        return {"body": None, "isBase64Encoded": False}
    try:
        return {"body": body.decode("utf-8"), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}


def _request_context(request: ApiRequest, now: float) -> Event:
    context: Event = {
        "accountId": LOCAL_ACCOUNT,
        "apiId": "local",
        "domainName": "127.0.0.1",
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": request.headers.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": request.route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if request.claims is not None:
        context["authorizer"] = {"jwt": {"claims": flatten(request.claims), "scopes": None}}
    return context


def api_gateway_event(request: ApiRequest) -> Event:
    return {
        "version": "2.0",
        "routeKey": request.route_key,
        "rawPath": request.path,
        "rawQueryString": request.raw_query,
        "headers": request.headers,
        "queryStringParameters": dict(parse_qsl(request.raw_query)) or None,
        "pathParameters": request.path_params or None,
        **_event_body(request.body),
        "requestContext": _request_context(request, time.time()),
    }


def lambda_result(result: Mapping[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    """(status, body bytes, headers) of the entrypoint's payload 2.0 result."""
    payload = result.get("body") or ""
    raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
    return int(result["statusCode"]), raw, dict(result.get("headers") or {})
