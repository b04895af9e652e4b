"""Expiry of unpaid orders (functions/shop/expiry.py) on every store: runs at once cancel and
restock each expired order once, and an order paid meanwhile keeps its status and stock."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest

from functions.adapters.memory import MemoryIdentity, MemoryMedia, MemoryNotifier
from functions.shop import expiry
from functions.shop.ports import CANCELLED, PAID, PLACED, Order, Unavailable
from functions.shop.services import Services

from .test_store_contract import order, product

AFTER_A_DAY = datetime(2026, 1, 2, 1, 0, tzinfo=UTC)  # the contract's orders are made 2026-01-01T00:00
DAY = timedelta(hours=24)


def services(store) -> Services:
    return Services(store=store, notifier=MemoryNotifier(), identity=MemoryIdentity(), media=MemoryMedia())


def placed(store, user: str, key: str, qty: int = 1, created_at: str = "2026-01-01T00:00:00.000Z") -> Order:
    o = dataclasses.replace(order(user, [("p", qty)], key), created_at=created_at, updated_at=created_at)
    return store.place_order(o, request_hash="h").order


def test_expiry_cancels_old_unpaid_orders_and_leaves_recent_and_paid_ones(store):
    store.create_product(product("p", stock=10))
    old = placed(store, "u1", "k1", 2)
    recent = placed(store, "u2", "k2", 1, created_at="2026-01-02T00:30:00.000Z")
    paid = store.transition_order(placed(store, "u3", "k3", 3), PAID, restock=False)
    run = expiry.expire_unpaid_orders(services(store), older_than=DAY, now=AFTER_A_DAY)
    assert run.cancelled == (old.order_id,), run
    assert store.get_order("u1", old.order_id).status == CANCELLED
    assert store.get_order("u2", recent.order_id).status == PLACED
    assert store.get_order("u3", paid.order_id).status == PAID
    assert store.get_product("p").stock == 6, "only the expired order's 2 come back"


def test_runs_at_once_cancel_and_restock_each_order_once(store, request):
    if "dynamodb" in request.node.callspec.id:
        pytest.skip("moto's in-process DynamoDB has no write isolation; the compare-and-set race runs on the others")
    store.create_product(product("p", stock=10))
    ids = {placed(store, f"u{i}", f"k{i}").order_id for i in range(4)}
    shared = services(store)
    runs: list[expiry.ExpiryRun | Exception] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        for _ in range(20):
            try:
                runs.append(expiry.expire_unpaid_orders(shared, older_than=DAY, now=AFTER_A_DAY))
                return
            except Unavailable:
                continue

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, expiry.ExpiryRun) for r in runs) and len(runs) == 3, runs
    cancelled = [oid for r in runs if isinstance(r, expiry.ExpiryRun) for oid in r.cancelled]
    assert sorted(cancelled) == sorted(ids), f"each expired order cancelled by exactly one run: {runs}"
    assert store.get_product("p").stock == 10, "restocked more or less than once"
    assert [e.type for e in shared.notifier.events].count("OrderCancelled") == 4
