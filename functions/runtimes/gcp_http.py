"""Cloud Functions (2nd gen) entrypoint for the whole HTTP API, on functions-framework.

API Gateway forwards every operation of the OpenAPI document to this one function
(`x-google-backend` with `path_translation: APPEND_PATH_TO_ADDRESS`, so the function sees
the original /api/... path) and dispatches through the shared route table.

The caller: API Gateway validates the Identity Platform JWT and passes its claims in
`X-Apigateway-Api-Userinfo` (base64url JSON); the original token moves to
`X-Forwarded-Authorization` because the gateway authenticates to the function with its
own Google-signed token. The header is trusted only with SHOP_GATEWAY_VALIDATED_JWT=true,
which the infrastructure sets when the function allows invocation by the gateway's
service account alone (no allUsers invoker). Otherwise the bearer token is verified
against SHOP_JWKS_URL (functions/runtimes/_tokens.py).
"""

from __future__ import annotations

import flask
import functions_framework

from functions.shop.http import bearer_token
from functions.shop.ports import Principal
from functions.shop.services import Services

from . import _tokens
from ._common import ServicesFactory, dispatch, neutral_request

USERINFO_HEADER = "x-apigateway-api-userinfo"

_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        from functions.adapters.gcp_services import build_services

        _services = build_services()
    return _services


def principal(headers: dict[str, str]) -> Principal | None:
    original = headers.get("x-forwarded-authorization") or headers.get("authorization")
    if _tokens.gateway_validated():
        userinfo = headers.get(USERINFO_HEADER)
        if userinfo is None:
            return None
        return _tokens.principal_from_claims(_tokens.b64url_json(userinfo.strip()), bearer_token(original))
    return _tokens.principal_from_bearer(original)


def handle_http(request: flask.Request, services_factory: ServicesFactory | None = None) -> flask.Response:
    headers = {k.lower(): v for k, v in request.headers.items()}
    neutral = neutral_request(
        method=request.method,
        path=request.path.rstrip("/") or "/",
        query={k: v[-1] for k, v in request.args.lists()},
        headers=headers,
        body=request.get_data(),
        principal=principal(headers),
        request_id=headers.get("x-cloud-trace-context", "").split("/")[0] or headers.get("x-request-id"),
    )
    resp = dispatch(neutral, services_factory or services)
    out = flask.Response(resp.json_bytes(), status=resp.status)
    for k, v in resp.headers.items():
        out.headers[k] = v
    out.headers.setdefault("content-type", "application/json")
    return out


@functions_framework.http
def shop_api(request: flask.Request) -> flask.Response:
    return handle_http(request)
