"""Checkout on DynamoDB at the data model's lower bound: one read (the cart, with the catalog
snapshot each line took when it was set) and one transaction that re-verifies stock, price,
name and currency. When the catalog moved, the read-then-write path gives the exact answer."""

from __future__ import annotations

import json

import pytest

from functions.shop import ports
from functions.shop.api import handle
from functions.shop.http import Request

ADDR = json.dumps({"shippingAddress": {"name": "A", "line1": "1", "city": "c", "postalCode": "62704", "region": "IL",
                                       "country": "US"}}).encode()  # fmt: skip
WHO = ports.Principal("u1", email="u1@example.com")


@pytest.fixture
def shop():
    from functions.adapters.memory import MemoryIdentity, MemoryMedia, MemoryNotifier
    from functions.shop.services import Services
    from tests.fakes.backends import dynamodb_store

    with dynamodb_store("trips") as store:
        calls: list[str] = []
        store.client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        for pid, price in (("p1", 500), ("p2", 700), ("p3", 900)):
            store.create_product(ports.Product(pid, pid.upper(), "d", "books", price, "USD", 5, None))
        yield Services(store, MemoryNotifier(), MemoryIdentity(), MemoryMedia()), calls


def add(services, pid: str, quantity: int = 1) -> None:
    r = handle(Request("PUT", f"/api/cart/items/{pid}", body=json.dumps({"quantity": quantity}).encode(),
                       principal=WHO), services)  # fmt: skip
    assert r.status == 200, r.body


def checkout(services, key: str = "k1"):
    r = handle(Request("POST", "/api/orders", body=ADDR, principal=WHO, headers={"idempotency-key": key}), services)
    return r.status, json.loads(r.json_bytes())


@pytest.mark.parametrize("lines", [1, 3])
def test_checkout_is_one_read_and_one_transaction(shop, lines):
    services, calls = shop
    for pid in ("p1", "p2", "p3")[:lines]:
        add(services, pid, 2)
    calls.clear()
    status, body = checkout(services)
    assert status == 201, body
    assert calls == ["Query", "TransactWriteItems"], f"checkout made {calls}"
    assert body["total"] == 2 * sum((500, 700, 900)[:lines])
    assert services.store.get_product("p1").stock == 3
    calls.clear()
    status, replay = checkout(services)  # the same key again: the same order, nothing new
    assert (status, replay["orderId"]) == (200, body["orderId"])


def test_a_price_change_after_adding_is_charged_at_the_live_price(shop):
    services, calls = shop
    add(services, "p1")
    p1 = services.store.get_product("p1")
    services.store.update_product(ports.Product(**{**p1.__dict__, "price": 650}))
    calls.clear()
    status, body = checkout(services)
    assert status == 201, body
    assert body["items"][0]["unitPrice"] == 650 and body["total"] == 650, "the catalog's price, as the cart showed"
    assert calls[:2] == ["Query", "TransactWriteItems"] and len(calls) > 2, "the fallback re-read the catalog"


def test_a_product_deleted_after_adding_is_left_out(shop):
    services, _ = shop
    add(services, "p1")
    add(services, "p2")
    services.store.delete_product("p2")
    status, body = checkout(services)
    assert status == 201, body
    assert [i["productId"] for i in body["items"]] == ["p1"]
    assert services.store.get_cart("u1") == [], "the deleted product's leftover line is gone too"


def test_short_stock_names_the_product_and_writes_nothing(shop):
    services, _ = shop
    add(services, "p1", 2)
    add(services, "p2", 1)
    services.store.set_stock("p1", 1)
    status, body = checkout(services)
    assert status == 409 and body["error"]["code"] == "INSUFFICIENT_STOCK", body
    assert body["error"]["productIds"] == ["p1"], body
    assert [services.store.get_product(p).stock for p in ("p1", "p2")] == [1, 5]
    assert services.store.list_orders("u1", limit=5, cursor=None).items == []
