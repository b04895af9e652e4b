"""The Cosmos DB and Firestore stores side by side, through the Store port only, on the
fakes (or the emulators: tests/fakes/backends.py). The shared contract suite
(tests/contract/) is the authority on the port; this module pins the document stores'
own paths: concurrency of checkout, name-ordered pagination, replay/conflict, cancel."""

from __future__ import annotations

import threading

import pytest

from functions.shop.ports import (
    CANCELLED,
    PAID,
    AlreadyExists,
    Category,
    IdempotencyConflict,
    InsufficientStock,
    NotFound,
    StaleState,
    Unavailable,
)
from tests.fakes.backends import cosmos_store, firestore_store
from tests.fakes.orders import order, product


@pytest.fixture(params=["cosmos", "firestore", "firestore-fake"])
def store(request):
    backend = cosmos_store() if request.param == "cosmos" else firestore_store(emulator=request.param == "firestore")
    with backend as s:
        yield s


def test_catalog_pages_in_name_order_with_opaque_cursors(store):
    store.put_category(Category("c1", "C1"))
    for pid, name in [("p1", "b"), ("p2", "a"), ("p3", "a b"), ("p4", "C"), ("p5", "x")]:
        store.create_product(product(pid, name, category="c2" if pid == "p5" else "c1"))
    first = store.list_products(category="c1", query=None, limit=2, cursor=None)
    second = store.list_products(category="c1", query=None, limit=2, cursor=first.next_cursor)
    assert [p.name for p in first.items + second.items] == ["a", "a b", "b", "C"]
    assert second.next_cursor is None
    assert [p.product_id for p in store.list_products(category=None, query="A", limit=10, cursor=None).items] == [
        "p2",
        "p3",
    ]
    with pytest.raises(ValueError):
        store.list_products(category=None, query=None, limit=2, cursor="not-a-cursor!")
    with pytest.raises(AlreadyExists):
        store.create_product(product("p1"))
    assert [c.category_id for c in store.list_categories()] == ["c1"]


def test_product_updates_keep_stock_and_missing_products_are_not_found(store):
    store.create_product(product("p1", stock=7))
    updated = store.update_product(product("p1", "Renamed", stock=999, price=1))
    assert (updated.name, updated.price, updated.stock) == ("Renamed", 1, 7)
    assert store.set_stock("p1", 3).stock == 3
    assert store.get_products(["p1", "nope"]).keys() == {"p1"}
    for call in (
        lambda: store.update_product(product("nope")),
        lambda: store.set_stock("nope", 1),
        lambda: store.delete_product("nope"),
    ):
        with pytest.raises(NotFound):
            call()


def test_checkout_replay_conflict_and_shortage(store):
    for pid in ("p1", "p2", "p3"):
        store.create_product(product(pid, stock=2))
    store.set_cart_line("u1", "p1", 2)
    store.set_cart_line("u1", "p3", 1)
    placed = store.place_order(order("u1", "o1", "k1", [("p1", 2)]), request_hash="h1")
    assert placed.created and store.get_product("p1").stock == 0
    assert [ln.product_id for ln in store.get_cart("u1")] == ["p3"], "only the ordered lines leave the cart"
    replay = store.place_order(order("u1", "o9", "k1", [("p1", 2)]), request_hash="h1")
    assert (replay.created, replay.order.order_id) == (False, "o1")
    assert store.find_idempotent_order("u1", "k1")[1] == "h1"
    with pytest.raises(IdempotencyConflict):
        store.place_order(order("u1", "o9", "k1", [("p2", 1)]), request_hash="h2")
    with pytest.raises(InsufficientStock) as short:
        store.place_order(order("u1", "o2", "k2", [("p1", 1), ("p2", 1), ("p3", 3)]), request_hash="h")
    assert sorted(short.value.product_ids) == ["p1", "p3"]
    assert store.get_product("p2").stock == 2 and store.find_order("o2") is None, "nothing written"


def test_transitions_are_compare_and_set_and_cancel_restocks(store):
    store.create_product(product("p1", stock=5))
    o = store.place_order(order("u1", "o1", "k1", [("p1", 2)]), request_hash="h").order
    paid = store.transition_order(o, PAID, restock=False)
    with pytest.raises(StaleState):
        store.transition_order(o, CANCELLED, restock=True)  # still believes PLACED
    assert store.get_product("p1").stock == 3
    cancelled = store.transition_order(paid, CANCELLED, restock=True)
    assert cancelled.status == CANCELLED and store.get_product("p1").stock == 5
    assert store.get_order("u1", "o1").status == CANCELLED and store.get_order("u2", "o1") is None
    assert [x.order_id for x in store.list_orders_by_status(CANCELLED, limit=5, cursor=None).items] == ["o1"]


def test_my_orders_newest_first_with_cursor(store):
    store.create_product(product("p1", stock=50))
    for i in range(5):
        store.place_order(
            order("u1", f"o{i}", f"k{i}", [("p1", 1)], created=f"2026-11-25T00:00:0{i}Z"), request_hash="h"
        )
    store.place_order(order("u2", "o-other", "k", [("p1", 1)]), request_hash="h")
    first = store.list_orders("u1", limit=3, cursor=None)
    second = store.list_orders("u1", limit=3, cursor=first.next_cursor)
    assert [o.order_id for o in first.items + second.items] == ["o4", "o3", "o2", "o1", "o0"]
    assert second.next_cursor is None


def test_twenty_parallel_checkouts_of_five_in_stock_make_exactly_five_orders(store):
    store.create_product(product("hot", stock=5))
    outcomes: list[str] = []

    def buy(i: int) -> None:
        try:
            store.place_order(order(f"u{i}", f"o{i:02d}", f"k{i}", [("hot", 1)]), request_hash="h")
            outcomes.append("ok")
        except InsufficientStock:
            outcomes.append("short")
        except Unavailable:
            outcomes.append("retry")

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 5, outcomes
    assert store.get_product("hot").stock == 0


def test_the_same_key_five_times_in_parallel_makes_one_order(store):
    store.create_product(product("p1", stock=10))
    results = []

    def buy() -> None:
        try:
            results.append(
                store.place_order(order("u1", f"o-{threading.get_ident()}", "same", [("p1", 1)]), request_hash="h")
            )
        except Unavailable:
            results.append(None)

    threads = [threading.Thread(target=buy) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [r for r in results if r is not None]
    assert sum(r.created for r in done) == 1 and len({r.order.order_id for r in done}) == 1
    assert store.get_product("p1").stock == 9
