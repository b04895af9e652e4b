"""The Azure Functions entrypoint with realistic azure.functions.HttpRequest objects: the
registered function of function_app.py, route parameters, headers, bodies, claims in both
token modes, error shapes, and the whole purchase scenario on the Cosmos store (fake)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
import pytest

from functions.adapters.cosmos_store import CosmosStore
from functions.runtimes import _tokens, azure_http
from functions.shop.services import Services
from tests.fakes import scenario
from tests.fakes.backends import cosmos_container
from tests.fakes.identity import AUDIENCE, ISSUER, JwtIdentity, RecordingNotifier, StubMedia

BASE = "https://shop-func.azurewebsites.net"


@pytest.fixture
def services():
    pytest.importorskip("functions.shop.api", reason="the domain module lands with the handlers issue")
    with cosmos_container() as container:
        store = CosmosStore(container)
        scenario.seed(store)
        yield Services(
            store=store,
            notifier=RecordingNotifier(),
            identity=JwtIdentity("entra", admins=("boss@example.com",)),
            media=StubMedia(),
        )


@pytest.fixture
def entry(services, monkeypatch):
    """The user function exactly as the Functions host indexes it from function_app.py."""
    monkeypatch.setattr(azure_http, "_services", services)
    import importlib.util
    from pathlib import Path

    path = Path(azure_http.__file__).parent / "azure_app" / "function_app.py"
    spec = importlib.util.spec_from_file_location("function_app_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    by_name = {f.get_function_name(): f for f in module.app.get_functions()}
    assert {"shop_api", "order_events"} <= by_name.keys(), f"registered: {sorted(by_name)}"
    return by_name["shop_api"].get_user_function()


def native(method, path, *, token=None, body=None, headers=None, raw=None):
    """What the Functions host hands the worker for https://<app>/api/<path>?<query>."""
    url = urlsplit(path)
    hdrs = {"Host": "shop-func.azurewebsites.net", "X-Forwarded-For": "203.0.113.9", **(headers or {})}
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    if data:
        hdrs.setdefault("Content-Type", "application/json")
    return func.HttpRequest(
        method=method,
        url=f"{BASE}{url.path}" + (f"?{url.query}" if url.query else ""),
        headers=hdrs,
        params=dict(parse_qsl(url.query)),
        route_params={"path": url.path.removeprefix("/api/")},
        body=data,
    )


def caller(entry):
    def call(method, path, **kw):
        resp = entry(native(method, path, **kw))
        assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
        return resp.status_code, json.loads(resp.get_body() or b"null")

    return call


@pytest.fixture
def gateway_mode(monkeypatch):
    monkeypatch.setenv(_tokens.ENV_GATEWAY_VALIDATED, "true")


def test_purchase_scenario_through_the_function_app(entry, services, gateway_mode):
    order = scenario.purchase(caller(entry), services.store)
    assert [e.type for e in services.notifier.events][:1] == ["OrderPlaced"], services.notifier.events
    assert services.store.find_order(order["orderId"]).status == "CANCELLED"


def test_auth_and_validation_errors_keep_the_json_error_shape(entry, services, gateway_mode):
    call = caller(entry)
    token = scenario.sign_up_and_log_in(call, "ada@example.com")
    scenario.errors(call, token)


def test_admin_role_claim_reaches_admin_routes(entry, services, gateway_mode):
    call = caller(entry)
    token = scenario.sign_up_and_log_in(call, "boss@example.com")
    scenario.expect(call("GET", "/api/admin/orders?status=PLACED", token=token), 200, "admin lists orders")
    scenario.expect(call("PUT", "/api/admin/products/b-1/stock", token=token, body={"stock": 7}), 200, "set stock")
    assert services.store.get_product("b-1").stock == 7


def test_undecodable_or_subjectless_tokens_are_401_even_when_the_gateway_validated(entry, services, gateway_mode):
    call = caller(entry)
    identity = services.identity
    scenario.sign_up_and_log_in(call, "ada@example.com")
    no_subject = identity.token("ada@example.com", oid="", sub="")
    for token, what in [("not-a-jwt", "garbage"), ("a.%%%.c", "bad base64"), (no_subject, "no subject claim")]:
        scenario.expect(call("GET", "/api/cart", token=token), 401, what)


@pytest.fixture
def jwks_mode(services, monkeypatch):
    monkeypatch.delenv(_tokens.ENV_GATEWAY_VALIDATED, raising=False)
    with services.identity.serve_jwks() as url:
        monkeypatch.setenv(_tokens.ENV_JWKS_URL, url)
        monkeypatch.setenv(_tokens.ENV_JWT_ISSUER, ISSUER)
        monkeypatch.setenv(_tokens.ENV_JWT_AUDIENCE, AUDIENCE)
        monkeypatch.setattr(_tokens, "_jwks_client", None)
        yield


def test_without_the_gateway_flag_tokens_are_verified_against_the_jwks(entry, services, jwks_mode):
    call = caller(entry)
    good = scenario.sign_up_and_log_in(call, "ada@example.com")
    scenario.expect(call("GET", "/api/cart", token=good), 200, "valid token")
    forged = JwtIdentity("entra")
    forged.users = services.identity.users
    for token, what in [
        (services.identity.token("ada@example.com", expires_in=-60), "expired"),
        (services.identity.token("ada@example.com", audience="someone-else"), "wrong audience"),
        (forged.token("ada@example.com"), "signed by another key"),
    ]:
        scenario.expect(call("GET", "/api/cart", token=token), 401, what)


def test_no_token_mode_configured_means_no_principal(entry, services, monkeypatch):
    for name in (_tokens.ENV_GATEWAY_VALIDATED, _tokens.ENV_JWKS_URL):
        monkeypatch.delenv(name, raising=False)
    call = caller(entry)
    token = scenario.sign_up_and_log_in(call, "ada@example.com")
    scenario.expect(call("GET", "/api/cart", token=token), 401, "fail closed")


def test_request_conversion(monkeypatch, gateway_mode):
    seen = {}

    def fake_dispatch(request, factory):
        seen["request"] = request
        from functions.shop.http import Response

        return Response(201, {"ok": True}, {"content-type": "application/json", "x-extra": "1"})

    monkeypatch.setattr(azure_http, "dispatch", fake_dispatch)
    identity = JwtIdentity("entra", admins=("ada@example.com",))
    identity.sign_up("ada@example.com", "Correct-Horse-1")
    token = identity.token("ada@example.com")
    req = native(
        "PUT", "/api/cart/items/p%2F1?x=1&y=2", token=token, body={"quantity": 3}, headers={"Idempotency-Key": "K"}
    )
    resp = azure_http.handle_http(req, services_factory=lambda: None)
    r = seen["request"]
    assert (r.method, r.route_key, r.path_params) == ("PUT", "PUT /api/cart/items/{productId}", {"productId": "p%2F1"})
    assert r.query == {"x": "1", "y": "2"} and r.headers["idempotency-key"] == "K"
    assert json.loads(r.body) == {"quantity": 3}
    assert r.principal.user_id == identity.users["ada@example.com"][0]
    assert r.principal.groups == ("admin",) and r.principal.email == "ada@example.com"
    assert r.principal.access_token == token
    assert resp.status_code == 201 and resp.headers["x-extra"] == "1"


def test_an_unexpected_exception_is_a_json_500(monkeypatch, gateway_mode):
    def broken():
        raise RuntimeError("cosmos endpoint unreachable")

    resp = azure_http.handle_http(native("GET", "/api/categories"), services_factory=broken)
    body = json.loads(resp.get_body())
    assert resp.status_code == 500 and body["error"]["code"] == "INTERNAL"
    assert "cosmos" not in json.dumps(body), "internal details must not leak"


def test_the_http_trigger_demands_a_function_key_only_api_management_holds(monkeypatch):
    # Anonymous, *.azurewebsites.net answered anyone who skipped Front Door and API Management.
    import importlib

    monkeypatch.setenv("SHOP_AZURE_TRIGGERS", "http")
    from functions.runtimes.azure_app import function_app

    app = importlib.reload(function_app).app
    levels = {
        f.get_function_name(): [b.auth_level for b in f.get_bindings() if b.type == "httpTrigger"]
        for f in app.get_functions()
    }
    assert levels == {"shop_api": [func.AuthLevel.FUNCTION]}, levels
