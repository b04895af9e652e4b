"""Expiry of unpaid orders (functions/shop/expiry.py) on the memory services."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from functions.shop import expiry, ports

DAY = timedelta(hours=24)


def later(hours: float) -> datetime:
    """A moment `hours` after now: orders placed now are that old then."""
    return datetime.now(UTC) + timedelta(hours=hours)


def test_an_unpaid_order_older_than_the_expiry_is_cancelled_restocked_and_announced(shop, customer):
    oid = shop.order(customer, {"b1": 2, "b2": 1})["orderId"]
    assert (shop.stock("b1"), shop.stock("b2")) == (1, 9)
    run = expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25))
    assert run == expiry.ExpiryRun((oid,), (), False), run
    assert shop.store.find_order(oid).status == ports.CANCELLED
    assert (shop.stock("b1"), shop.stock("b2")) == (3, 10), "an expired order must release its stock"
    assert [e.type for e in shop.notifier.events] == ["OrderPlaced", "OrderCancelled"]


def test_a_recent_order_and_a_paid_one_are_left_as_they_are(shop, customer, admin):
    recent = shop.order(customer, {"b2": 1}, key="a")["orderId"]
    paid = shop.order(customer, {"b2": 1}, key="b")["orderId"]
    shop.ok("PUT", f"/api/admin/orders/{paid}/status", {"status": "PAID"}, who=admin)
    assert expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(23)).cancelled == ()
    run = expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25))
    assert run.cancelled == (recent,), f"only the unpaid order expires: {run}"
    assert shop.store.find_order(paid).status == ports.PAID and shop.stock("b2") == 9


def test_running_again_changes_nothing(shop, customer):
    shop.order(customer, {"b1": 1})
    expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25))
    again = expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25))
    assert again == expiry.ExpiryRun((), (), False)
    assert shop.stock("b1") == 3 and [e.type for e in shop.notifier.events].count("OrderCancelled") == 1


def test_an_order_paid_after_it_was_listed_is_left_alone(shop, customer):
    oid = shop.order(customer, {"b1": 1})["orderId"]
    store = shop.store
    real = store.list_orders_by_status

    def listed_then_paid(status, *, limit, cursor):
        page = real(status, limit=limit, cursor=cursor)
        for order in page.items:  # the payment event lands between the listing and the cancel
            store.transition_order(order, ports.PAID, restock=False)
        return page

    store.list_orders_by_status = listed_then_paid
    run = expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25))
    assert run == expiry.ExpiryRun((), (oid,), False), run
    assert store.find_order(oid).status == ports.PAID and shop.stock("b1") == 2, "a paid order lost its stock"


def test_a_run_is_bounded_and_the_next_one_goes_on(shop, customer):
    ids = [shop.order(customer, {"b2": 1}, key=f"k{i}")["orderId"] for i in range(5)]
    first = expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25), limit=3, page_size=2)
    assert len(first.cancelled) == 3 and first.more, first
    second = expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25), limit=3, page_size=2)
    assert sorted(first.cancelled + second.cancelled) == sorted(ids) and not second.more, second
    assert shop.stock("b2") == 10
    paged = expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25), max_pages=1, page_size=1)
    assert paged == expiry.ExpiryRun((), (), False)


def test_runs_at_once_cancel_and_restock_each_order_once(shop, customer, other):
    for i in range(3):
        shop.order(customer, {"b2": 1}, key=f"c{i}")
        shop.order(other, {"b2": 1}, key=f"o{i}")
    runs: list[expiry.ExpiryRun] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        runs.append(expiry.expire_unpaid_orders(shop.services, older_than=DAY, now=later(25)))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cancelled = [oid for r in runs for oid in r.cancelled]
    assert len(cancelled) == len(set(cancelled)) == 6, f"each order cancelled exactly once: {runs}"
    assert shop.stock("b2") == 10, "restocked more or less than once"
    assert [e.type for e in shop.notifier.events].count("OrderCancelled") == 6


def test_the_expiry_age_setting():
    assert expiry.expiry_age({}) == DAY
    assert expiry.expiry_age({expiry.EXPIRY_HOURS_SETTING: "0.5"}) == timedelta(minutes=30)
    for bad in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(ValueError, match=expiry.EXPIRY_HOURS_SETTING):
            expiry.expiry_age({expiry.EXPIRY_HOURS_SETTING: bad})
