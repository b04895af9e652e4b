"""Each cloud's runtime adapter (AWS Lambda event, Azure Functions HttpRequest, Cloud
Functions Flask request) answers errors as the OpenAPI document declares them: a status the
operation lists, and a body that validates against the `Error` schema a generated client
parses. The gateways' own bodies that cannot follow it are listed in docs/gateway-errors.md,
which the document's 401 points to."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from flask import Flask
from jsonschema import Draft202012Validator

from functions.adapters.memory import memory_services
from functions.runtimes import _tokens, aws_http, azure_http, gcp_http
from functions.shop import models
from functions.shop.openapi import build
from functions.shop.routes import match

from .events import claims, http_event

ROOT = Path(__file__).resolve().parents[2]
DOC = build()
ERROR_VALIDATOR = Draft202012Validator({"$ref": "#/components/schemas/Error", "components": DOC["components"]})
CUSTOMER = "c0c0c0c0-0000-4000-8000-000000000002"

# (what, method, path, signed in as a customer, raw body, status, error.code)
CASES = [
    ("no token", "GET", "/api/cart", False, None, 401, "UNAUTHORIZED"),
    ("customer on an admin route", "POST", "/api/admin/products", True, b"{}", 403, "FORBIDDEN"),
    ("unknown path", "GET", "/api/no-such-thing", False, None, 404, "NOT_FOUND"),
    ("malformed JSON", "POST", "/api/auth/signup", False, b"{", 400, "BAD_REQUEST"),
    ("invalid body", "POST", "/api/auth/signup", False, b'{"email": "not-an-address"}', 422, "VALIDATION_ERROR"),
]

Call = Callable[[str, str, bool, bytes | None, Callable[[], Any]], tuple[int, dict[str, str], bytes]]


def _unsigned_access_token() -> str:
    """A token as the gateway hands it on after validating it (the functions trust it then)."""
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{part({'alg': 'RS256'})}.{part({'sub': CUSTOMER, 'token_use': 'access'})}.c2ln"


def call_aws(method: str, path: str, signed_in: bool, body: bytes | None, factory) -> tuple[int, dict, bytes]:
    event = http_event(
        method,
        path,
        body=body.decode() if body else None,
        jwt_claims=claims(sub=CUSTOMER) if signed_in else None,
        headers={"content-type": "application/json"} if body else None,
    )
    result = aws_http.handler(event, None, services_factory=factory)
    return result["statusCode"], {k.lower(): v for k, v in result["headers"].items()}, result["body"].encode()


def call_azure(method: str, path: str, signed_in: bool, body: bytes | None, factory) -> tuple[int, dict, bytes]:
    headers = {"Content-Type": "application/json"} if body else {}
    if signed_in:
        headers["Authorization"] = f"Bearer {_unsigned_access_token()}"
    req = func.HttpRequest(
        method=method,
        url=f"https://shop-func.azurewebsites.net{path}",
        headers=headers,
        route_params={"path": path.removeprefix("/api/")},
        body=body or b"",
    )
    resp = azure_http.handle_http(req, services_factory=factory)
    return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.get_body()


def call_gcp(method: str, path: str, signed_in: bool, body: bytes | None, factory) -> tuple[int, dict, bytes]:
    headers = {"Authorization": "Bearer gateway-signed-google-id-token"}
    if signed_in:
        token = _unsigned_access_token()
        headers["X-Apigateway-Api-Userinfo"] = token.split(".")[1]
        headers["X-Forwarded-Authorization"] = f"Bearer {token}"
    with Flask(__name__).test_request_context(
        path, method=method, headers=headers, data=body, content_type="application/json" if body else None
    ):
        from flask import request

        resp = gcp_http.handle_http(request, services_factory=factory)
    return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.get_data()


RUNTIMES: dict[str, Call] = {"aws": call_aws, "azure": call_azure, "gcp": call_gcp}


@pytest.fixture(autouse=True)
def gateway_validated(monkeypatch):
    monkeypatch.setenv(_tokens.ENV_GATEWAY_VALIDATED, "true")


def declared(method: str, path: str, status: int) -> bool:
    found = match(method, path)
    if found is None:
        return True  # no operation: only the Error schema applies
    route = found[0]
    return str(status) in DOC["paths"][route.path][route.method.lower()]["responses"]


def check_error(cloud: str, what: str, status: int, headers: dict[str, str], raw: bytes, code: str) -> dict:
    assert headers.get("content-type", "").startswith("application/json"), f"{cloud} {what}: {headers}"
    body = json.loads(raw)
    problems = [e.message for e in ERROR_VALIDATOR.iter_errors(body)]
    assert not problems, f"{cloud} {what}: {body} is not the OpenAPI Error: {problems}"
    models.Error.model_validate(body)  # the model the schema is generated from
    assert body["error"]["code"] == code, f"{cloud} {what}: {body}"
    return body


@pytest.mark.parametrize("cloud", RUNTIMES)
@pytest.mark.parametrize(("what", "method", "path", "signed_in", "body", "status", "code"), CASES)
def test_runtime_errors_are_the_documented_error(cloud, what, method, path, signed_in, body, status, code):
    got, headers, raw = RUNTIMES[cloud](method, path, signed_in, body, memory_services)
    assert got == status, f"{cloud} {what}: {got} {raw[:200]!r}"
    assert declared(method, path, status), f"{method} {path} does not declare {status}"
    check_error(cloud, what, status, headers, raw, code)


@pytest.mark.parametrize("cloud", RUNTIMES)
def test_an_unreachable_backend_is_a_documented_500(cloud):
    def broken():
        raise ConnectionError("database unreachable")

    got, headers, raw = RUNTIMES[cloud]("GET", "/api/products", False, None, broken)
    assert got == 500 and declared("GET", "/api/products", 500), (cloud, got)
    body = check_error(cloud, "backend down", got, headers, raw, "INTERNAL")
    assert "unreachable" not in body["error"]["message"], "internal details leak to the client"


def test_the_401_says_which_gateways_answer_their_own_body():
    doc = (ROOT / "docs" / "gateway-errors.md").read_text()
    for route_path, ops in DOC["paths"].items():
        for method, op in ops.items():
            if "401" not in op["responses"]:
                continue
            text = op["responses"]["401"]["description"]
            assert '{"message":"Unauthorized"}' in text and '{"code":401' in text, (method, route_path, text)
            assert "docs/gateway-errors.md" in text, (method, route_path, text)
    # The page the description names lists those bodies, per cloud.
    assert '`{"message":"Unauthorized"}`' in doc and '`{"code":401,"message":' in doc
    assert [line.split(" (")[0] for line in doc.splitlines() if line.startswith("### ") and "Local" not in line] == [
        "### AWS",
        "### Azure",
        "### GCP",
    ]
    assert not ERROR_VALIDATOR.is_valid(json.loads('{"message":"Unauthorized"}'))
