"""Checkout: prices from the catalog, one atomic write, idempotency, notifications."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from functions.shop import ports
from functions.shop.orders import new_order_id

from .conftest import ADDRESS


def test_checkout_prices_from_the_catalog_decrements_stock_and_clears_the_cart(shop, customer):
    shop.fill(customer, {"b1": 2, "b2": 3})
    r = shop.checkout(customer)
    assert r.status == 201, r.body
    order = r.body
    assert order["status"] == "PLACED" and order["currency"] == "USD"
    assert order["items"] == [
        {"productId": "b1", "name": "Book b1", "unitPrice": 4500, "quantity": 2, "lineTotal": 9000},
        {"productId": "b2", "name": "Book b2", "unitPrice": 1999, "quantity": 3, "lineTotal": 5997},
    ]
    assert order["total"] == 14997
    assert order["shippingAddress"] == {**ADDRESS["shippingAddress"], "line2": None, "region": None, "phone": None}
    assert order["createdAt"].endswith("Z")
    assert (shop.stock("b1"), shop.stock("b2")) == (1, 7)
    assert shop.ok("GET", "/api/cart", who=customer)["items"] == []


def test_the_order_keeps_the_price_paid(shop, customer):
    order = shop.order(customer, {"b2": 1})
    shop.store.update_product(replace(shop.store.get_product("b2"), price=1))
    assert shop.ok("GET", f"/api/orders/{order['orderId']}", who=customer)["total"] == 1999


def test_the_idempotency_key_is_required_and_bounded(shop, customer):
    shop.fill(customer, {"b2": 1})
    for headers in ({}, {"idempotency-key": ""}, {"idempotency-key": "  "}):
        shop.fails(
            "POST", "/api/orders", ADDRESS, who=customer, headers=headers, status=400, code="IDEMPOTENCY_KEY_REQUIRED"
        )
    # A key that is there but unusable says so, rather than asking for one.
    for key, got in (("k" * 101, "got 101 characters)"), ("caf\u00e9", "got 4 characters, some not printable ASCII")):
        err = shop.fails(
            "POST", "/api/orders", ADDRESS, who=customer, headers={"idempotency-key": key}, status=400,
            code="INVALID_IDEMPOTENCY_KEY",
        )  # fmt: skip
        assert "must be 1-100 printable ASCII characters" in err["message"] and got in err["message"], err
    assert shop.stock("b2") == 10 and shop.store.orders == {}
    assert shop.checkout(customer, key="k" * 100).status == 201


def test_a_replay_returns_the_same_order_with_200(shop, customer):
    first = shop.order(customer, {"b1": 1})
    again = shop.checkout(customer)
    assert again.status == 200 and again.body == first
    assert shop.stock("b1") == 2 and len(shop.store.orders) == 1
    assert [e.type for e in shop.notifier.events] == ["OrderPlaced"], "a replay published again"


def test_a_replay_wins_over_a_refilled_cart(shop, customer):
    first = shop.order(customer, {"b1": 1})
    shop.fill(customer, {"b2": 1})
    again = shop.checkout(customer)
    assert again.status == 200 and again.body["orderId"] == first["orderId"]
    assert [i["productId"] for i in shop.ok("GET", "/api/cart", who=customer)["items"]] == ["b2"], "cart was touched"
    # ... and over a cart that could not be ordered any more
    shop.store.set_stock("b2", 0)
    assert shop.checkout(customer).body["orderId"] == first["orderId"]


def test_the_same_key_with_another_address_is_a_conflict(shop, customer):
    shop.order(customer, {"b1": 1})
    paris = {"shippingAddress": {**ADDRESS["shippingAddress"], "city": "Paris"}}
    r = shop.checkout(customer, body=paris)
    assert r.status == 409 and r.body["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    shop.fill(customer, {"b2": 1})
    assert shop.checkout(customer, body=paris).body["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert len(shop.store.orders) == 1 and shop.stock("b2") == 10


def test_keys_belong_to_one_customer(shop, customer, other):
    a = shop.order(customer, {"b1": 1}, key="shared")
    b = shop.order(other, {"b1": 1}, key="shared")
    assert a["orderId"] != b["orderId"]


def test_an_empty_cart_cannot_be_checked_out(shop, customer):
    shop.fails(
        "POST", "/api/orders", ADDRESS, who=customer, headers={"idempotency-key": "k"}, status=409, code="CART_EMPTY"
    )


def test_insufficient_stock_names_every_short_product_and_writes_nothing(shop, customer):
    shop.store.set_stock("b3", 1)
    shop.fill(customer, {"b1": 3, "b2": 1, "b3": 1})
    shop.store.set_stock("b1", 2)  # sold elsewhere while these waited in the cart
    shop.store.set_stock("b3", 0)
    r = shop.checkout(customer)
    assert r.status == 409 and r.body["error"]["code"] == "INSUFFICIENT_STOCK"
    assert sorted(r.body["error"]["productIds"]) == ["b1", "b3"]
    assert r.body["error"]["available"] == {"b1": 2, "b3": 0}, r.body
    assert "Book b1: 2 left" in r.body["error"]["message"], r.body
    assert "Book b3: sold out" in r.body["error"]["message"], r.body
    assert (shop.stock("b1"), shop.stock("b2")) == (2, 10)
    assert len(shop.store.get_cart(customer.user_id)) == 3 and shop.store.orders == {}
    assert shop.notifier.events == []


def test_the_store_refuses_an_oversell_that_the_precheck_missed(shop, customer):
    # Stock sold elsewhere between the handler's read and the write: the atomic write decides.
    shop.fill(customer, {"b1": 3})
    real_get_products = shop.store.get_products
    reads = []

    def stale_first_read(ids):  # the handler's read misses the sale; later reads see it
        reads.append(list(ids))
        found = real_get_products(ids)
        return {k: replace(v, stock=99) for k, v in found.items()} if len(reads) == 1 else found

    shop.store.get_products = stale_first_read
    shop.store.set_stock("b1", 2)
    r = shop.checkout(customer)
    assert r.status == 409 and r.body["error"]["productIds"] == ["b1"]
    # what is left comes from a fresh read on the failure path, not the stale one
    assert r.body["error"]["available"] == {"b1": 2} and "2 left" in r.body["error"]["message"], r.body
    assert len(reads) == 2, f"expected the handler's read and one re-read on the failure path: {reads}"
    assert shop.stock("b1") == 2 and shop.store.orders == {}


def test_a_deleted_product_is_left_out_and_removed_from_the_cart(shop, customer):
    shop.fill(customer, {"b1": 1, "b2": 1})
    shop.store.delete_product("b1")
    order = shop.checkout(customer).body
    assert [i["productId"] for i in order["items"]] == ["b2"] and order["total"] == 1999
    assert shop.store.get_cart(customer.user_id) == []


def test_a_cart_of_only_deleted_products_is_empty(shop, customer):
    shop.fill(customer, {"b1": 1})
    shop.store.delete_product("b1")
    assert shop.checkout(customer).body["error"]["code"] == "CART_EMPTY"


def test_products_in_another_currency_cannot_be_ordered(shop, customer):
    shop.store.create_product(ports.Product("eur", "Euro book", "", "books", 100, "EUR", 5))
    shop.fill(customer, {"eur": 1, "b2": 1})
    err = shop.checkout(customer).body["error"]
    assert err["code"] == "CURRENCY_MISMATCH" and err["productIds"] == ["eur"]
    assert shop.store.orders == {}


def test_order_ids_sort_by_creation_time(shop, customer):
    ids = [shop.order(customer, {"b2": 1}, key=f"k{i}")["orderId"] for i in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    listed = [o["orderId"] for o in shop.ok("GET", "/api/orders", who=customer)["items"]]
    assert listed == ids[::-1], "my orders are not newest first"


def test_order_ids_made_in_a_burst_are_unique_and_ordered():
    ids = [new_order_id() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 22 and int(i, 16) >= 0 for i in ids)


def test_placing_an_order_publishes_an_event_and_emails_a_summary(shop, customer):
    order = shop.order(customer, {"b1": 2})
    [event] = shop.notifier.events
    assert (event.type, event.order_id, event.user_id, event.total) == (
        "OrderPlaced",
        order["orderId"],
        customer.user_id,
        9000,
    )
    [mail] = shop.notifier.outbox
    assert mail["to"] == "c@example.com" and order["orderId"] in mail["subject"]
    assert "2 x Book b1" in mail["text"] and "90.00 USD" in mail["text"]


@pytest.mark.parametrize("failure", ["fail_publish", "fail_email"])
def test_a_notification_failure_never_fails_the_order(shop, customer, failure):
    setattr(shop.notifier, failure, True)
    order = shop.order(customer, {"b2": 1})
    assert shop.ok("GET", f"/api/orders/{order['orderId']}", who=customer)["status"] == "PLACED"
    assert shop.stock("b2") == 9 and shop.notifier.outbox == []
    if failure == "fail_email":  # published; the consumer's failure is the queue's to retry
        assert [e.order_id for e in shop.notifier.undelivered] == [order["orderId"]]


def run_parallel(n, fn):
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_twenty_parallel_checkouts_of_five_in_stock_sell_exactly_five(shop):
    users = [shop.user(f"u{i}@example.com") for i in range(20)]
    shop.store.set_stock("b2", 5)
    for u in users:
        shop.fill(u, {"b2": 1})
    statuses = run_parallel(20, lambda i: shop.checkout(users[i]).status)
    assert sorted(statuses) == [201] * 5 + [409] * 15, statuses
    assert shop.stock("b2") == 0 and len(shop.store.orders) == 5


def test_the_same_key_five_times_in_parallel_makes_one_order(shop, customer):
    shop.fill(customer, {"b2": 2})
    responses = run_parallel(5, lambda i: shop.checkout(customer, key="same"))
    assert sorted(r.status for r in responses) == [200] * 4 + [201], [r.body for r in responses]
    assert len({r.body["orderId"] for r in responses}) == 1
    assert shop.stock("b2") == 8 and len(shop.store.orders) == 1
