"""No oversell and no double order under parallel checkouts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import ADDRESS, create_product, new_customer

pytestmark = pytest.mark.e2e


def test_twenty_checkouts_for_five_items_sell_exactly_five(shop, admin, anon):
    product = create_product(admin, stock=5)
    customers = [new_customer(shop) for _ in range(20)]
    for c in customers:
        assert c.call("PUT", f"/api/cart/items/{product['productId']}", json={"quantity": 1}).status_code == 200

    def checkout(i_c):
        i, c = i_c
        return c.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": f"race-{i}"})

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(checkout, enumerate(customers)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 5, f"expected exactly 5 orders, got {codes}"
    assert all(
        r.status_code == 409 and r.json()["error"]["code"] == "INSUFFICIENT_STOCK"
        for r in results
        if r.status_code != 201
    ), [r.text for r in results if r.status_code != 201]
    assert anon.call("GET", f"/api/products/{product['productId']}").json()["stock"] == 0


def test_same_idempotency_key_five_times_in_parallel_is_one_order(shop, admin, customer):
    product = create_product(admin, stock=10)
    customer.call("PUT", f"/api/cart/items/{product['productId']}", json={"quantity": 2})
    with ThreadPoolExecutor(5) as pool:
        results = list(
            pool.map(
                lambda _: customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": "same-key"}),
                range(5),
            )
        )
    ok = [r for r in results if r.status_code in (200, 201)]
    assert {r.json()["orderId"] for r in ok} and len({r.json()["orderId"] for r in ok}) == 1, [
        (r.status_code, r.text) for r in results
    ]
    assert all(r.status_code in (200, 201, 409, 503) for r in results), [r.text for r in results]
    orders = customer.call("GET", "/api/orders").json()["items"]
    assert len(orders) == 1, f"expected one order, found {len(orders)}"
    assert customer.call("GET", f"/api/products/{product['productId']}").json()["stock"] == 8


def test_fifty_overlapping_multi_line_carts_conserve_stock_on_dynamodb(shop, admin, anon):
    """The local stack's DynamoDB (moto server behind the real Lambda entrypoint): 50 carts over
    3 products of 10 each, checked out at once: every answer 201 or sold-out, stock conserved."""
    import random
    from collections import Counter

    products = [create_product(admin, stock=10, name=f"Overlap {i}")["productId"] for i in range(3)]
    rng = random.Random(11)
    customers, carts = [new_customer(shop) for _ in range(50)], []
    for c in customers:
        lines = {pid: rng.randint(1, 2) for pid in rng.sample(products, rng.randint(1, 3))}
        carts.append(lines)
        for pid, qty in lines.items():
            assert c.call("PUT", f"/api/cart/items/{pid}", json={"quantity": qty}).status_code == 200

    def checkout(i_c):
        i, c = i_c
        return c.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": f"overlap-{i}"})

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(checkout, enumerate(customers)))
    answers = Counter(
        f"{r.status_code} {r.json()['error']['code']}" if r.status_code != 201 else "201" for r in results
    )
    assert set(answers) <= {"201", "409 INSUFFICIENT_STOCK"}, f"answers: {dict(answers)}"
    sold = Counter()
    for r in results:
        if r.status_code == 201:
            for line in r.json()["items"]:
                sold[line["productId"]] += line["quantity"]
    for pid in products:
        left = anon.call("GET", f"/api/products/{pid}").json()["stock"]
        assert left >= 0 and left + sold[pid] == 10, f"{pid}: {left} left + {sold[pid]} sold != 10"


def test_one_cart_checked_out_from_four_tabs_with_four_keys_is_one_order(shop, admin, customer):
    product = create_product(admin, stock=10)
    assert customer.call("PUT", f"/api/cart/items/{product['productId']}", json={"quantity": 3}).status_code == 200
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda i: customer.call("POST", "/api/orders", json=ADDRESS, headers={"Idempotency-Key": f"tab-{i}"}),
                range(4),
            )
        )
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 1, f"one cart must make one order, got {[(r.status_code, r.text) for r in results]}"
    assert all(r.json()["error"]["code"] in ("CART_CHANGED", "CART_EMPTY") for r in results if r.status_code != 201), [
        r.text for r in results
    ]
    assert customer.call("GET", f"/api/products/{product['productId']}").json()["stock"] == 7
