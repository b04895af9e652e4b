"""The gateway's token checks and the handlers' authorization and input validation."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import ADDRESS, Client, new_customer

pytestmark = pytest.mark.e2e


def _forged(shop, **overrides) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {
        "sub": "intruder",
        "iss": shop.issuer,
        "client_id": shop.names["client"],
        "token_use": "access",
        "exp": int(time.time()) + 600,
        "cognito:groups": ["admin"],
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "forged"})


def test_missing_forged_expired_and_wrong_audience_tokens_are_401(shop, customer):
    base = shop.base_url
    assert Client(base).call("GET", "/api/cart").status_code == 401
    assert Client(base, "not-a-jwt").call("GET", "/api/cart").status_code == 401
    assert Client(base, _forged(shop)).call("GET", "/api/admin/orders?status=PLACED").status_code == 401
    # a real token, tampered: flip a character of the signature
    t = customer.token
    tampered = t[:-4] + ("AAAA" if t[-4:] != "AAAA" else "BBBB")
    assert Client(base, tampered).call("GET", "/api/cart").status_code == 401
    real_kid = jwt.get_unverified_header(customer.token)["kid"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for claims in ({"exp": int(time.time()) - 60}, {"client_id": "someone-else"}, {"iss": "https://evil.example"}):
        token = jwt.encode(
            {
                "sub": "x",
                "iss": shop.issuer,
                "client_id": shop.names["client"],
                "token_use": "access",
                "exp": int(time.time()) + 600,
                **claims,
            },
            key,
            algorithm="RS256",
            headers={"kid": real_kid},
        )
        r = Client(base, token).call("GET", "/api/cart")
        assert r.status_code == 401, f"{claims} accepted: {r.status_code}"
        assert r.json()["error"]["code"] == "UNAUTHORIZED"


def test_customer_cannot_use_admin_routes_or_see_other_orders(shop, customer):
    r = customer.call("GET", "/api/admin/orders?status=PLACED")
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert customer.call("POST", "/api/admin/products", json={}).status_code == 403
    customer.call("PUT", "/api/cart/items/insulated-bottle", json={"quantity": 1})
    order = customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": "mine"}).json()
    other = new_customer(shop)
    assert other.call("GET", f"/api/orders/{order['orderId']}").status_code == 404
    assert other.call("POST", f"/api/orders/{order['orderId']}/cancel").status_code == 404


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{not json", 400),
        (b"[1,2]", 400),
        (b'{"quantity": "3"}', 422),
        (b'{"quantity": 2.5}', 422),
        (b'{"quantity": true}', 422),
        (b'{"quantity": -1}', 422),
        (b'{"quantity": 1, "price": 1}', 422),
        (b'{"quantity": 100000}', 422),
        (b'{"quantity": 1' + b" " * 70_000 + b"}", 413),
    ],
)
def test_bad_bodies_are_4xx_json(customer, body, status):
    r = customer.call("PUT", "/api/cart/items/kite", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, f"{body[:40]!r}: {r.status_code} {r.text[:200]}"
    assert r.json()["error"]["code"]


def test_checkout_input_errors(customer):
    customer.call("PUT", "/api/cart/items/kite", json={"quantity": 1})
    assert customer.call("POST", "/api/orders", json=ADDRESS).status_code == 400  # no Idempotency-Key
    bad = {"shippingAddress": {**ADDRESS["shippingAddress"], "country": "Britain"}}
    assert customer.call("POST", "/api/orders", json=bad, headers={"Idempotency-Key": "k"}).status_code == 422
    ok = customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": "k2"})
    assert ok.status_code == 201
    other = {"shippingAddress": {**ADDRESS["shippingAddress"], "city": "Paris"}}
    r = customer.call("POST", "/api/orders", json=other, headers={"Idempotency-Key": "k2"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


def test_unknown_routes_and_methods(anon):
    assert anon.call("GET", "/api/nope").status_code == 404
    assert anon.call("PATCH", "/api/products").status_code == 405


def _b64json(doc) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


def test_malformed_and_foreign_cursors_are_400_json_on_every_list_route(shop, customer, admin, anon):
    products = anon.call("GET", "/api/products?limit=1")
    assert products.status_code == 200 and products.json()["nextCursor"], products.text
    products_cursor = products.json()["nextCursor"]
    crafted = [
        "@@not-base64@@",
        _b64json([1, 2]),
        _b64json({"PK": {"S": 1}, "SK": {"S": "ORDER#1"}}),  # botocore refused this: a 503
        _b64json({"PK": {"S": "USER#someone-else"}, "SK": {"S": "ORDER#1"}}),  # another user's partition
        _b64json({"k": "x", "s": "y"}),
        _b64json({"PK": {"S": ""}, "SK": {"S": ""}, "GSI2PK": {"S": ""}, "GSI2SK": {"S": ""}}),
    ]
    lists = [
        (anon, "/api/products?cursor={}"),
        (anon, "/api/products?category=home&cursor={}"),
        (customer, "/api/orders?cursor={}"),
        (admin, "/api/admin/orders?status=PLACED&cursor={}"),
    ]
    for client, path in lists:
        foreign = [products_cursor] if "/orders" in path or "category" in path else []
        for cursor in crafted + foreign:
            r = client.call("GET", path.format(cursor))
            assert r.status_code == 400, f"{path.format(cursor)} answered {r.status_code}: {r.text}"
            assert r.json()["error"]["code"] == "BAD_REQUEST", r.text
