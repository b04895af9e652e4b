"""What the Azure and GCP HTTP entrypoints share: route matching onto the neutral
Request, the one call into the domain, and the last-resort JSON 500."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from functions.shop.errors import internal_error
from functions.shop.http import Request, Response
from functions.shop.ports import Principal
from functions.shop.routes import match

if TYPE_CHECKING:
    from functions.shop.services import Services

log = logging.getLogger(__name__)
ServicesFactory = Callable[[], "Services"]  # the adapters, built (once) by the runtime


def neutral_request(
    *,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes | None,
    principal: Principal | None,
    request_id: str | None,
) -> Request:
    method = method.upper()
    # Matched here, once: the dispatcher takes the route as it is (Request.route).
    route, params = match(method, path) or (None, {})
    return Request(
        method=method,
        path=path,
        route_key=route.route_key if route else None,
        route=route,
        path_params=params,
        query=query,
        headers=headers,
        body=body or None,
        principal=principal,
        request_id=request_id or str(uuid.uuid4()),
    )


def dispatch(request: Request, services_factory: ServicesFactory) -> Response:
    """The domain answers every expected failure itself; this only guarantees that a bug
    or an unreachable backend still yields the API's JSON error shape."""
    try:
        from functions.shop.api import handle

        return handle(request, services_factory())
    except Exception:
        log.exception("unhandled error on %s %s (request %s)", request.method, request.path, request.request_id)
        return internal_error(request.request_id)
