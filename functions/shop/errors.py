"""The domain's refusals, and the one table that turns any error into the API's answer.

Handlers and the dispatcher raise; only `to_response` (and `internal_error`, the catch-all
500) build error responses. The runtimes (functions/runtimes/) use the same two functions,
so every cloud answers a given failure with the same status, body and headers.

Stdlib only: this module is on every function's cold-start path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import ports
from .http import Response, error

log = logging.getLogger("shop.api")


class Refused(Exception):
    """A business rule refuses the operation in the resource's current state (409), e.g.
    CART_EMPTY, NOT_CANCELLABLE, INVALID_TRANSITION; `extra` joins the error body."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


class BadRequest(ValueError):
    """A malformed request outside the body's model: a query or path parameter, a header."""

    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.code = code


class PayloadTooLarge(Exception):
    pass


@dataclass
class InvalidFields(Exception):
    """Input that fails a rule: [(field path, message), ...], answered like a body that fails
    its model (422 VALIDATION_ERROR with one detail per field)."""

    fields: list[tuple[str, str]] = field(default_factory=list)


class PaymentsUnavailable(Exception):
    """This deployment has no payment processor (a configuration, not a transient state)."""


class Unauthorized(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "this operation needs the admin group") -> None:
        super().__init__(message)


class NoRoute(Exception):
    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__(f"{method} {path}")
        self.method, self.path, self.allowed = method, path, allowed


def _validation(exc: InvalidFields) -> Response:
    details = [{"field": name, "message": message} for name, message in exc.fields]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return error(422, "VALIDATION_ERROR", f"request body is invalid: {summary}", details=details)


def _retry_later(message: str) -> Response:
    resp = error(503, "UNAVAILABLE", message)
    resp.headers["retry-after"] = "1"
    return resp


def _no_route(exc: NoRoute) -> Response:
    if not exc.allowed:
        return error(404, "NOT_FOUND", f"no route for {exc.method} {exc.path}")
    resp = error(405, "METHOD_NOT_ALLOWED", f"{exc.method} is not allowed on {exc.path}")
    resp.headers["allow"] = ", ".join(exc.allowed)
    return resp


def _insufficient(exc: ports.InsufficientStock) -> Response:
    ids = list(exc.product_ids)
    available = {pid: exc.available.get(pid, 0) for pid in ids}
    return error(409, "INSUFFICIENT_STOCK", exc.explained(), productIds=ids, available=available)


def _cart_changed(exc: ports.CartChanged) -> Response:
    message = "your cart changed or was just ordered while checking out; review it and check out again"
    return error(409, "CART_CHANGED", message, productIds=list(exc.product_ids))


# Most specific first: the first entry whose type matches answers.
_TABLE: tuple[tuple[type[Exception], Callable[[Any], Response]], ...] = (
    (NoRoute, _no_route),
    (Unauthorized, lambda e: error(401, "UNAUTHORIZED", "sign in: a valid bearer access token is required")),
    (Forbidden, lambda e: error(403, "FORBIDDEN", str(e))),
    (PayloadTooLarge, lambda e: error(413, "PAYLOAD_TOO_LARGE", str(e))),
    (InvalidFields, _validation),
    (Refused, lambda e: error(409, e.code, e.message, **e.extra)),
    (ports.NotFound, lambda e: error(404, "NOT_FOUND", str(e) or "not found")),
    (ports.AlreadyExists, lambda e: error(409, "ALREADY_EXISTS", str(e) or "already exists")),
    (ports.InsufficientStock, _insufficient),
    (ports.CartChanged, _cart_changed),
    (
        ports.IdempotencyConflict,
        lambda e: error(409, "IDEMPOTENCY_CONFLICT", "this Idempotency-Key was used with a different request"),
    ),
    (ports.StaleState, lambda e: error(409, "CONFLICT", e.detail or "the resource changed; reload and retry")),
    (ports.Unavailable, lambda e: _retry_later(str(e) or "temporarily unavailable; retry")),
    (ports.IdentityError, lambda e: error(e.status, e.code, e.message)),
    (ports.PaymentSignatureError, lambda e: error(400, "BAD_SIGNATURE", f"payment event refused: {e}")),
    # No Retry-After: a deployment without a processor stays without one.
    (
        PaymentsUnavailable,
        lambda e: error(503, "PAYMENTS_UNAVAILABLE", "payments are not configured on this deployment"),
    ),
    (BadRequest, lambda e: error(400, e.code, str(e) or "bad request")),
)


def to_response(exc: Exception) -> Response | None:
    """The answer for an expected error, None for a bug (the caller answers `internal_error`)."""
    for kind, render in _TABLE:
        if isinstance(exc, kind):
            return render(exc)
    # pydantic's ValidationError is a ValueError too, but one raised after the body was
    # validated comes from building a response, i.e. from server data: a bug, not bad input.
    if isinstance(exc, ValueError) and not type(exc).__module__.startswith("pydantic"):
        return error(400, "BAD_REQUEST", str(exc) or "bad request")
    return None


def answer(exc: Exception) -> Response:
    """The answer for an error the caller knows is expected (a bug still gets the 500)."""
    return to_response(exc) or internal_error("")


def internal_error(request_id: str, *, in_message: bool = False) -> Response:
    """The catch-all 500: never the exception's text, always the request id to quote. The
    dispatcher quotes it in the message, the runtimes' last resort in `requestId` (the
    shapes clients already parse)."""
    if in_message:
        return error(500, "INTERNAL", "internal error" + (f" (request {request_id})" if request_id else ""))
    return error(500, "INTERNAL", "internal error", requestId=request_id)
