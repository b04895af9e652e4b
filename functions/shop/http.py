"""The neutral request and response every cloud runtime converts to and from.

Runtimes (functions/runtimes/) build a `Request` from their native event, call
`functions.shop.api.handle(request, services)`, and turn the `Response` back into their
native shape. Stdlib only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .ports import Principal

if TYPE_CHECKING:
    from .routes import Route


@dataclass
class Request:
    method: str  # upper case
    path: str  # "/api/products/p-1" (concrete)
    route_key: str | None = None  # "GET /api/products/{productId}" when the gateway matched it
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)  # last value wins for repeated keys
    headers: dict[str, str] = field(default_factory=dict)  # keys lower case
    body: bytes | None = None  # raw, already base64-decoded
    principal: Principal | None = None  # None: no verified token
    source_ip: str | None = None  # the client's address as the cloud's edge vouches for it
    request_id: str = ""
    # The route the runtime already matched, so nothing matches it twice.
    route: Route | None = None


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or bytes/str when content_type is not JSON
    headers: dict[str, str] = field(default_factory=dict)

    def json_bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str) and self.headers.get("content-type", "").startswith("text/"):
            return self.body.encode()
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    """The one error shape: {"error": {"code": ..., "message": ..., ...extra}}."""
    return Response(
        status,
        {"error": {"code": code, "message": message, **extra}},
        {"content-type": "application/json"},
    )


def bearer_token(authorization: str | None, *, bare: bool = False) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or
    None. `bare=True` also takes a header that is only a JWT, as API Gateway's JWT
    authorizer does: a runtime behind it must hand on the token the gateway accepted."""
    value = (authorization or "").strip() if bare else authorization or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer":
        return token.strip() or None
    if bare and value.count(".") == 2 and " " not in value:
        return value
    return None
