"""Azure Functions (Python v2 programming model) entrypoint for the whole HTTP API.

One HTTP trigger, route "{*path}" under the host's default "api" route prefix, so every
path under /api reaches the same neutral dispatcher and the route table stays the only
list of routes (API Management, in front, exposes exactly the OpenAPI operations).
Registered as a Blueprint; functions/runtimes/azure_app/function_app.py composes it.

The caller: API Management's `validate-jwt` policy checked the bearer token and passes it
through. With SHOP_GATEWAY_VALIDATED_JWT=true (set only when the Function App accepts
traffic from API Management alone: access restrictions / private endpoint + function
key held by APIM) the claims are read without re-verifying; otherwise the function
verifies the token against the tenant's JWKS (see functions/runtimes/_tokens.py).
"""

from __future__ import annotations

import azure.functions as func

from functions.shop.http import Response
from functions.shop.services import Services

from . import _tokens
from ._common import ServicesFactory, dispatch, neutral_request

bp = func.Blueprint()

_services: Services | None = None


def services() -> Services:
    """Adapters built once per worker process (the first request pays, later ones reuse)."""
    global _services
    if _services is None:
        from functions.adapters.azure_services import build_services

        _services = build_services()
    return _services


def to_response(resp: Response) -> func.HttpResponse:
    headers = {k.lower(): v for k, v in resp.headers.items()}
    headers.setdefault("content-type", "application/json")
    mimetype = headers["content-type"].split(";")[0].strip()  # else the worker may report text/plain
    return func.HttpResponse(body=resp.json_bytes(), status_code=resp.status, headers=headers, mimetype=mimetype)


def handle_http(req: func.HttpRequest, services_factory: ServicesFactory | None = None) -> func.HttpResponse:
    headers = {k.lower(): v for k, v in req.headers.items()}
    path = "/api/" + (req.route_params.get("path") or "").lstrip("/")
    request = neutral_request(
        method=req.method,
        path=path.rstrip("/") if path != "/api/" else "/api",
        query=dict(req.params),
        headers=headers,
        body=req.get_body(),
        principal=_tokens.principal_from_bearer(headers.get("authorization")),
        request_id=headers.get("x-request-id") or headers.get("x-ms-request-id"),
    )
    return to_response(dispatch(request, services_factory or services))


@bp.route(
    route="{*path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"],
    # A function key: API Management sends it (providers/azure/api.py), a caller who went
    # around Front Door and API Management to *.azurewebsites.net has none and gets a 401.
    auth_level=func.AuthLevel.FUNCTION,
)
def shop_api(req: func.HttpRequest) -> func.HttpResponse:
    return handle_http(req)
