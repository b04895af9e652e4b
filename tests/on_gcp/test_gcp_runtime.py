"""The Cloud Functions entrypoint through functions-framework's own Flask app (built from
functions/runtimes/gcp_app/main.py exactly as the runtime does): API Gateway's userinfo
header and forwarded authorization, bodies, error shapes, and the whole purchase scenario
on the Firestore store (Google's emulator, and the fake)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import functions_framework
import pytest

from functions.adapters.firestore_store import FirestoreStore
from functions.runtimes import _tokens, gcp_http
from functions.shop.services import Services
from tests.fakes import scenario
from tests.fakes.backends import firestore_client
from tests.fakes.identity import AUDIENCE, ISSUER, JwtIdentity, RecordingNotifier, StubMedia

MAIN = Path(gcp_http.__file__).parent / "gcp_app" / "main.py"


@pytest.fixture
def services(request):
    """On the fake by default; `indirect` param "emulator" runs on Google's Firestore emulator."""
    with firestore_client(emulator=getattr(request, "param", "fake") == "emulator") as (client, root):
        store = FirestoreStore(client, root=root)
        scenario.seed(store)
        yield Services(
            store=store,
            notifier=RecordingNotifier(),
            identity=JwtIdentity("identity-platform", admins=("boss@example.com",)),
            media=StubMedia(),
        )


@pytest.fixture
def client(services, monkeypatch):
    monkeypatch.setattr(gcp_http, "_services", services)
    app = functions_framework.create_app(target="shop_api", source=str(MAIN))
    return app.test_client()


def userinfo(token: str) -> str:
    """What API Gateway does after validating the JWT: the payload, base64url, unpadded."""
    return base64.urlsafe_b64encode(base64.urlsafe_b64decode(token.split(".")[1] + "==")).decode().rstrip("=")


def gateway_caller(client):
    def call(method, path, *, token=None, body=None, headers=None, raw=None):
        hdrs = {"Authorization": "Bearer gateway-signed-google-id-token", **(headers or {})}
        if token:
            hdrs["X-Apigateway-Api-Userinfo"] = userinfo(token)
            hdrs["X-Forwarded-Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        resp = client.open(path, method=method, headers=hdrs, data=data, content_type="application/json")
        assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
        return resp.status_code, resp.get_json(silent=True)

    return call


@pytest.fixture
def gateway_mode(monkeypatch):
    monkeypatch.setenv(_tokens.ENV_GATEWAY_VALIDATED, "true")


@pytest.mark.parametrize("services", ["emulator", "fake"], indirect=True)
def test_purchase_scenario_through_functions_framework(client, services, gateway_mode):
    order = scenario.purchase(gateway_caller(client), services.store)
    assert [e.type for e in services.notifier.events][:1] == ["OrderPlaced"], services.notifier.events
    assert services.store.find_order(order["orderId"]).status == "CANCELLED"


def test_auth_and_validation_errors_keep_the_json_error_shape(client, services, gateway_mode):
    call = gateway_caller(client)
    token = scenario.sign_up_and_log_in(call, "ada@example.com")
    scenario.errors(call, token)


def test_groups_custom_claim_reaches_admin_routes(client, services, gateway_mode):
    call = gateway_caller(client)
    token = scenario.sign_up_and_log_in(call, "boss@example.com")
    scenario.expect(call("PUT", "/api/admin/products/g-1/stock", token=token, body={"stock": 9}), 200, "set stock")
    assert services.store.get_product("g-1").stock == 9


def test_bad_or_missing_userinfo_is_401(client, services, gateway_mode):
    call = gateway_caller(client)
    token = scenario.sign_up_and_log_in(call, "ada@example.com")
    for hdrs, what in [
        ({"X-Forwarded-Authorization": f"Bearer {token}"}, "token but no userinfo header"),
        ({"X-Apigateway-Api-Userinfo": "%%%not-base64"}, "undecodable userinfo"),
        ({"X-Apigateway-Api-Userinfo": base64.urlsafe_b64encode(b'["a list"]').decode()}, "userinfo not an object"),
        ({"X-Apigateway-Api-Userinfo": base64.urlsafe_b64encode(b'{"email": "x@y"}').decode()}, "no subject"),
    ]:
        resp = client.get("/api/cart", headers=hdrs)
        assert resp.status_code == 401, f"{what}: got {resp.status_code} {resp.get_data()[:200]!r}"


def test_userinfo_is_ignored_unless_the_deployment_says_the_gateway_validated(client, services, monkeypatch):
    monkeypatch.delenv(_tokens.ENV_GATEWAY_VALIDATED, raising=False)
    monkeypatch.setattr(_tokens, "_jwks_client", None)
    monkeypatch.setenv(_tokens.ENV_JWT_ISSUER, ISSUER)
    monkeypatch.setenv(_tokens.ENV_JWT_AUDIENCE, AUDIENCE)
    services.identity.sign_up("ada@example.com", "Correct-Horse-1")
    token = services.identity.token("ada@example.com")
    with services.identity.serve_jwks() as url:
        monkeypatch.setenv(_tokens.ENV_JWKS_URL, url)
        spoofed = client.get("/api/cart", headers={"X-Apigateway-Api-Userinfo": userinfo(token)})
        assert spoofed.status_code == 401, "a userinfo header alone must not authenticate a directly-invoked function"
        verified = client.get("/api/cart", headers={"Authorization": f"Bearer {token}"})
        assert verified.status_code == 200, verified.get_data()


def test_request_conversion(monkeypatch, gateway_mode):
    seen = {}

    def fake_dispatch(request, factory):
        seen["request"] = request
        from functions.shop.http import Response

        return Response(202, {"ok": True}, {"content-type": "application/json", "x-extra": "1"})

    monkeypatch.setattr(gcp_http, "dispatch", fake_dispatch)
    identity = JwtIdentity("identity-platform", admins=("ada@example.com",))
    identity.sign_up("ada@example.com", "Correct-Horse-1")
    token = identity.token("ada@example.com")
    app = functions_framework.create_app(target="shop_api", source=str(MAIN))
    resp = app.test_client().put(
        "/api/cart/items/b-1?x=1&x=2&y=3",
        data=b'{"quantity": 3}',
        content_type="application/json",
        headers={
            "Idempotency-Key": "K",
            "X-Apigateway-Api-Userinfo": userinfo(token),
            "X-Forwarded-Authorization": f"Bearer {token}",
            "Authorization": "Bearer google-signed",
        },
    )
    r = seen["request"]
    assert (r.method, r.route_key, r.path_params) == ("PUT", "PUT /api/cart/items/{productId}", {"productId": "b-1"})
    assert r.query == {"x": "2", "y": "3"}, "last value wins"
    assert r.headers["idempotency-key"] == "K" and json.loads(r.body) == {"quantity": 3}
    assert r.principal.user_id == identity.users["ada@example.com"][0] and r.principal.groups == ("admin",)
    assert r.principal.access_token == token, "the caller's token, not the gateway's"
    assert resp.status_code == 202 and resp.headers["x-extra"] == "1"


def test_an_unexpected_exception_is_a_json_500(monkeypatch, gateway_mode):
    def broken():
        raise RuntimeError("firestore unreachable")

    monkeypatch.setattr(gcp_http, "_services", None)
    monkeypatch.setattr(gcp_http, "services", broken)
    app = functions_framework.create_app(target="shop_api", source=str(MAIN))
    resp = app.test_client().get("/api/categories")
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "INTERNAL"
    assert "firestore" not in resp.get_data(as_text=True)
