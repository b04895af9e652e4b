"""The whole flow over HTTP, through the local gateway and the real AWS entrypoint."""

from __future__ import annotations

import pytest

from .conftest import ADDRESS, create_product, wait_for_email

pytestmark = pytest.mark.e2e


def test_customer_buys_and_gets_the_confirmation_email(shop, anon, customer):
    cats = anon.call("GET", "/api/categories").json()["items"]
    assert {"books", "kitchen"} <= {c["categoryId"] for c in cats}
    page1 = anon.call("GET", "/api/products", params={"category": "books", "limit": 4}).json()
    assert len(page1["items"]) == 4 and page1["nextCursor"]
    page2 = anon.call(
        "GET", "/api/products", params={"category": "books", "limit": 4, "cursor": page1["nextCursor"]}
    ).json()
    ids = [p["productId"] for p in page1["items"] + page2["items"]]
    assert len(ids) == len(set(ids)) == 6, f"pagination lost or repeated products: {ids}"
    found = anon.call("GET", "/api/products", params={"q": "SKILLET"}).json()["items"]
    assert [p["productId"] for p in found] == ["cast-iron-skillet"]

    me = customer.call("GET", "/api/me").json()
    assert me["email"] == customer.email and me["groups"] == []
    assert customer.call("PUT", "/api/cart/items/kite", json={"quantity": 1}).status_code == 200
    assert customer.call("PUT", "/api/cart/items/scented-candle", json={"quantity": 3}).status_code == 200
    cart = customer.call("PUT", "/api/cart/items/kite", json={"quantity": 2}).json()
    assert cart["subtotal"] == 2 * 2800 + 3 * 2200, cart
    stock_before = anon.call("GET", "/api/products/kite").json()["stock"]

    r = customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": "flow-1"})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["total"] == 2 * 2800 + 3 * 2200 and order["status"] == "PLACED"
    assert anon.call("GET", "/api/products/kite").json()["stock"] == stock_before - 2
    assert customer.call("GET", "/api/cart").json()["items"] == []
    replay = customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": "flow-1"})
    assert replay.status_code == 200 and replay.json()["orderId"] == order["orderId"]

    history = customer.call("GET", "/api/orders").json()["items"]
    assert history[0]["orderId"] == order["orderId"]
    mail = wait_for_email(shop, customer.email, order["orderId"])
    assert "Total: 122.00 USD" in mail["text"], mail["text"]


def test_admin_creates_a_product_and_ships_the_order(shop, admin, customer):
    product = create_product(admin, stock=4, price=999, name="Shippable lamp")
    upload = admin.call("POST", f"/api/admin/products/{product['productId']}/image", json={"contentType": "image/png"})
    assert upload.status_code == 200, upload.text
    form = upload.json()
    assert form["uploadMethod"] == "POST" and form["maxBytes"] == 5 * 1024 * 1024, form
    put = admin.http.post(form["uploadUrl"], data=form["uploadFields"], files={"file": ("x.png", b"\x89PNG fake")})
    assert put.status_code == 204, put.text
    image = admin.http.get(shop.base_url + upload.json()["imageUrl"].removeprefix(shop.base_url))
    assert image.status_code == 200 and image.content == b"\x89PNG fake"

    customer.call("PUT", f"/api/cart/items/{product['productId']}", json={"quantity": 1})
    order = customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": "ship-1"}).json()
    listed = admin.call("GET", "/api/admin/orders", params={"status": "PLACED"}).json()["items"]
    assert order["orderId"] in [o["orderId"] for o in listed]
    for status in ("PAID", "SHIPPED"):
        r = admin.call("PUT", f"/api/admin/orders/{order['orderId']}/status", json={"status": status})
        assert r.status_code == 200 and r.json()["status"] == status, r.text
    assert customer.call("GET", f"/api/orders/{order['orderId']}").json()["status"] == "SHIPPED"
    assert customer.call("POST", f"/api/orders/{order['orderId']}/cancel").status_code == 409
    wait_for_email(shop, customer.email, "has shipped")


def test_cancel_restocks(shop, admin, customer, anon):
    product = create_product(admin, stock=3)
    customer.call("PUT", f"/api/cart/items/{product['productId']}", json={"quantity": 2})
    order = customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": "c-1"}).json()
    assert anon.call("GET", f"/api/products/{product['productId']}").json()["stock"] == 1
    r = customer.call("POST", f"/api/orders/{order['orderId']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    assert anon.call("GET", f"/api/products/{product['productId']}").json()["stock"] == 3


def test_make_dev_is_payable_with_test_cards(shop, admin, customer, anon):
    """The local stack's simulated processor: a declined card leaves the order unpaid and
    says why; an approved one makes it PAID through the signed event, and the e-mail says so."""
    product = create_product(admin, stock=5)
    us = {
        "name": "Abe",
        "line1": "8th St",
        "city": "Springfield",
        "region": "IL",
        "postalCode": "62704",
        "country": "US",
    }
    customer.call("PUT", f"/api/cart/items/{product['productId']}", json={"quantity": 1})
    order = customer.call("POST", "/api/orders", json={"shippingAddress": us}, headers={"Idempotency-Key": "pay-1"})
    assert order.status_code == 201, order.text
    path = f"/api/orders/{order.json()['orderId']}/payment"
    declined = customer.call("POST", path, json={"testCard": "4000 0000 0000 0002"}).json()
    assert (declined["status"], declined["declineReason"], declined["orderStatus"]) == (
        "declined",
        "card_declined",
        "PLACED",
    ), declined
    paid = customer.call("POST", path, json={"testCard": "4242 4242 4242 4242"}).json()
    assert (paid["status"], paid["orderStatus"]) == ("succeeded", "PAID"), paid
    assert customer.call("GET", f"/api/orders/{order.json()['orderId']}").json()["status"] == "PAID"
    forged = anon.call("POST", "/api/payments/webhook", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "BAD_SIGNATURE", forged.text
    wait_for_email(shop, customer.email, "is paid")
