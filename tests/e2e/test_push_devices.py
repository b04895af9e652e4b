"""Push devices through the local stack: registration over HTTP, order updates pushed to them."""

from __future__ import annotations

import time

import pytest

from .conftest import ADDRESS

pytestmark = pytest.mark.e2e


def _wait_for_push(shop, token: str, order_id: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for push in shop.pushes():
            if push["token"] == token and push["data"]["orderId"] == order_id:
                return push
        time.sleep(0.2)
    raise AssertionError(f"no push to {token} about order {order_id} within {timeout}s")


def test_a_registered_device_gets_the_order_update(shop, customer):
    token = f"e2e-{customer.email.split('@')[0]}"
    r = customer.call("POST", "/api/me/devices", json={"token": token, "platform": "android"})
    assert r.status_code == 201, r.text
    assert customer.call("POST", "/api/me/devices", json={"token": token, "platform": "android"}).status_code == 200
    assert [d["token"] for d in customer.call("GET", "/api/me/devices").json()["items"]] == [token]
    customer.call("PUT", "/api/cart/items/kite", json={"quantity": 1})
    order = customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": f"push-{token}"}).json()
    push = _wait_for_push(shop, token, order["orderId"])
    assert push["title"] == f"Your order {order['orderId']} was placed" and push["platform"] == "android", push
    r = customer.call("DELETE", f"/api/me/devices/{token}")
    assert (r.status_code, r.content) == (204, b""), r.text
    assert customer.call("GET", "/api/me/devices").json() == {"items": []}
