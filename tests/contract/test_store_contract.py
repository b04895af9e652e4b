"""What every Store must do (functions/shop/ports.py), checked on every implementation."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from functions.shop.ports import (
    CANCELLED,
    PAID,
    PLACED,
    Address,
    AlreadyExists,
    CartChanged,
    CartLine,
    Category,
    CommitPolicy,
    IdempotencyConflict,
    InsufficientStock,
    NotFound,
    Order,
    OrderLine,
    Product,
    StaleState,
    Unavailable,
)

ADDR = Address(name="Ada", line1="1 St", city="London", postal_code="N1", country="GB")


def product(pid: str, stock: int = 10, price: int = 1000, category: str = "books", name: str | None = None) -> Product:
    return Product(pid, name or f"Product {pid}", "desc", category, price, "USD", stock, None, "2026-01-01T00:00:00Z")


_n = [0]


def order(user: str, lines: list[tuple[str, int]], key: str, status: str = PLACED) -> Order:
    _n[0] += 1
    oid = f"{1700000000000 + _n[0]:012x}{_n[0]:010x}"
    ls = tuple(OrderLine(p, f"Product {p}", 1000, q) for p, q in lines)  # what product(p) says
    return Order(
        oid,
        user,
        status,
        ls,
        sum(li.line_total for li in ls),
        "USD",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        ADDR,
        "u@example.com",
        key,
    )


def test_categories(store):
    store.put_category(Category("toys", "Toys"))
    store.put_category(Category("books", "Books"))
    assert [c.category_id for c in store.list_categories()] == ["books", "toys"]


def test_products_page_by_name_without_gaps_or_repeats(store):
    for i in range(7):
        store.create_product(product(f"b{i}", name=f"Book {6 - i}"))
    store.create_product(product("t1", category="toys", name="Top"))
    seen, cursor = [], None
    while True:
        page = store.list_products(category="books", query=None, limit=3, cursor=cursor)
        seen += [p.name for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"Book {i}" for i in range(7)]
    everything = store.list_products(category=None, query=None, limit=50, cursor=None)
    assert len(everything.items) == 8 and everything.next_cursor is None


def test_search_is_case_insensitive_substring_of_the_name(store):
    store.create_product(product("a", name="Cast Iron Skillet"))
    store.create_product(product("b", name="Skillet Lid"))
    store.create_product(product("c", name="Kettle"))
    found = store.list_products(category=None, query="skillet", limit=10, cursor=None)
    assert sorted(p.product_id for p in found.items) == ["a", "b"]
    one = store.list_products(category=None, query="skillet", limit=1, cursor=None)
    rest = store.list_products(category=None, query="skillet", limit=1, cursor=one.next_cursor)
    assert {one.items[0].product_id, rest.items[0].product_id} == {"a", "b"}


def test_malformed_cursor_is_a_value_error(store):
    with pytest.raises(ValueError):
        store.list_products(category=None, query=None, limit=5, cursor="@@not-a-cursor@@")


def test_product_lifecycle(store):
    store.create_product(product("p", stock=4))
    with pytest.raises(AlreadyExists):
        store.create_product(product("p"))
    updated = store.update_product(product("p", stock=999, price=1234, name="Renamed"))
    assert updated.stock == 4 and updated.price == 1234, "update must keep stock"
    assert store.get_product("p").name == "Renamed"
    assert store.set_stock("p", 9).stock == 9
    assert set(store.get_products(["p", "missing"])) == {"p"}
    store.delete_product("p")
    assert store.get_product("p") is None
    for call in (
        lambda: store.delete_product("p"),
        lambda: store.set_stock("p", 1),
        lambda: store.update_product(product("p")),
    ):
        with pytest.raises(NotFound):
            call()


def test_cart(store):
    store.set_cart_line("u", "a", 2)
    store.set_cart_line("u", "b", 1)
    store.set_cart_line("u", "a", 5)
    store.set_cart_line("v", "a", 1)
    assert sorted(store.get_cart("u"), key=lambda li: li.product_id) == [CartLine("a", 5), CartLine("b", 1)]
    store.set_cart_line("u", "b", 0)
    assert store.get_cart("u") == [CartLine("a", 5)]
    store.clear_cart("u")
    assert store.get_cart("u") == [] and store.get_cart("v") == [CartLine("a", 1)]


def test_place_order_is_atomic_and_idempotent(store):
    store.create_product(product("a", stock=3))
    store.create_product(product("b", stock=1))
    store.set_cart_line("u", "a", 2)
    store.set_cart_line("u", "b", 1)
    first = order("u", [("a", 2), ("b", 1)], "k1")
    result = store.place_order(first, request_hash="h1")
    assert result.created and result.order.order_id == first.order_id
    assert store.get_product("a").stock == 1 and store.get_product("b").stock == 0
    assert store.get_cart("u") == []
    replay = store.place_order(order("u", [("a", 2), ("b", 1)], "k1"), request_hash="h1")
    assert not replay.created and replay.order.order_id == first.order_id
    assert store.get_product("a").stock == 1, "a replay must not decrement stock again"
    with pytest.raises(IdempotencyConflict):
        store.place_order(order("u", [("a", 1)], "k1"), request_hash="other")
    found = store.find_idempotent_order("u", "k1")
    assert found is not None and found[0].order_id == first.order_id and found[1] == "h1"
    assert store.find_idempotent_order("u", "nope") is None


def _from_cart(store, user: str, key: str) -> Order:
    """The order a checkout builds from the user's cart as read now, with its line versions."""
    lines = store.get_cart(user)
    assert all(ln.version for ln in lines), f"every store must version its cart lines: {lines}"
    built = order(user, [(ln.product_id, ln.quantity) for ln in lines], key)
    return dataclasses.replace(built, cart_versions=tuple((ln.product_id, ln.version) for ln in lines))


def test_a_cart_becomes_at_most_one_order_whatever_the_keys(store):
    store.create_product(product("a", stock=10))
    store.set_cart_line("u", "a", 2)
    first, second = _from_cart(store, "u", "k1"), _from_cart(store, "u", "k2")
    assert store.place_order(first, request_hash="h").created
    with pytest.raises(CartChanged) as changed:
        store.place_order(second, request_hash="h")
    assert changed.value.product_ids == ["a"]
    assert store.get_product("a").stock == 8, "the second checkout of the same cart must write nothing"
    assert [o.order_id for o in store.list_orders("u", limit=5, cursor=None).items] == [first.order_id]
    replay = store.place_order(_from_cart_replay(first), request_hash="h")
    assert not replay.created and replay.order.order_id == first.order_id, "the same key is still a replay"


def _from_cart_replay(placed: Order) -> Order:
    return dataclasses.replace(placed, order_id=placed.order_id[:-1] + "f")


def test_an_order_built_from_a_cart_that_changed_since_is_refused(store):
    store.create_product(product("a", stock=10))
    store.set_cart_line("u", "a", 1)
    stale = _from_cart(store, "u", "k1")
    store.set_cart_line("u", "a", 3)  # the shopper changed the quantity meanwhile
    with pytest.raises(CartChanged):
        store.place_order(stale, request_hash="h")
    assert store.get_product("a").stock == 10 and store.get_cart("u") == [CartLine("a", 3)]
    assert store.place_order(_from_cart(store, "u", "k2"), request_hash="h").created


def test_a_catalog_checking_store_writes_nothing_when_the_price_moved(store):
    if not store.checks_catalog:
        pytest.skip("this store re-reads the catalog before its write (checks_catalog is off)")
    store.create_product(product("a", stock=3))
    store.create_product(product("b", stock=3, price=900))  # the order below says 1000
    store.set_cart_line("u", "a", 1, product("a"))
    with pytest.raises(StaleState, match="b"):
        store.place_order(order("u", [("a", 1), ("b", 1)], "k-moved"), request_hash="h")
    assert [store.get_product(p).stock for p in "ab"] == [3, 3], "nothing written"
    assert store.find_idempotent_order("u", "k-moved") is None
    assert store.get_cart("u") == [CartLine("a", 1, "Product a", 1000, "USD")], "the cart keeps its snapshot"


def test_insufficient_stock_names_every_short_product_and_writes_nothing(store):
    store.create_product(product("a", stock=1))
    store.create_product(product("b", stock=5))
    store.create_product(product("c", stock=0))
    store.set_cart_line("u", "a", 2)
    with pytest.raises(InsufficientStock) as exc:
        store.place_order(order("u", [("a", 2), ("b", 1), ("c", 1)], "k"), request_hash="h")
    assert sorted(exc.value.product_ids) == ["a", "c"]
    assert [store.get_product(p).stock for p in "abc"] == [1, 5, 0]
    assert store.get_cart("u") == [CartLine("a", 2)]
    assert store.list_orders("u", limit=10, cursor=None).items == []
    assert store.find_idempotent_order("u", "k") is None


def test_orders_listing_and_lookup(store):
    store.create_product(product("a", stock=100))
    placed = [store.place_order(order("u", [("a", 1)], f"k{i}"), request_hash="h").order for i in range(5)]
    store.place_order(order("v", [("a", 1)], "kv"), request_hash="h")
    page1 = store.list_orders("u", limit=3, cursor=None)
    page2 = store.list_orders("u", limit=3, cursor=page1.next_cursor)
    ids = [o.order_id for o in page1.items + page2.items]
    assert ids == [o.order_id for o in reversed(placed)], "my orders must be newest first, no gaps"
    assert page2.next_cursor is None
    assert store.get_order("u", placed[0].order_id).order_id == placed[0].order_id
    assert store.get_order("v", placed[0].order_id) is None, "another user's order must be invisible"
    assert store.find_order(placed[0].order_id).user_id == "u"
    by_status = store.list_orders_by_status(PLACED, limit=50, cursor=None)
    assert len(by_status.items) == 6


def test_transition_is_compare_and_set_and_cancel_restocks(store):
    store.create_product(product("a", stock=5))
    placed = store.place_order(order("u", [("a", 2)], "k"), request_hash="h").order
    assert store.get_product("a").stock == 3
    paid = store.transition_order(placed, PAID, restock=False)
    assert paid.status == PAID and store.get_order("u", placed.order_id).status == PAID
    with pytest.raises(StaleState):
        store.transition_order(placed, CANCELLED, restock=True)  # read as PLACED, now PAID
    assert store.get_product("a").stock == 3, "a lost transition must not restock"
    store.transition_order(paid, CANCELLED, restock=True)
    assert store.get_product("a").stock == 5
    assert [o.order_id for o in store.list_orders_by_status(CANCELLED, limit=5, cursor=None).items] == [placed.order_id]
    assert store.list_orders_by_status(PLACED, limit=5, cursor=None).items == []


def test_cancel_restocks_what_still_exists_and_still_cancels(store):
    store.create_product(product("a", stock=5))
    store.create_product(product("b", stock=5))
    placed = store.place_order(order("u", [("a", 1), ("b", 2)], "k"), request_hash="h").order
    store.delete_product("b")  # a product deleted since the order keeps no stock to return to
    cancelled = store.transition_order(placed, CANCELLED, restock=True)
    assert cancelled.status == CANCELLED and store.get_order("u", placed.order_id).status == CANCELLED
    assert store.get_product("a").stock == 5, "the product that still exists must get its stock back"
    assert store.get_product("b") is None, "a deleted product must not come back through a restock"


def test_a_transition_of_an_order_that_does_not_exist_is_not_found(store):
    with pytest.raises(NotFound):
        store.transition_order(order("u", [("a", 1)], "k-none"), PAID, restock=False)


def test_capabilities_are_declared_not_probed(store):
    assert isinstance(store.checks_catalog, bool) and isinstance(store.cart_in_commit, bool)
    assert isinstance(store.checkout_policy, CommitPolicy) and isinstance(store.transition_policy, CommitPolicy)


def _parallel(n, fn):
    results, barrier = [None] * n, threading.Barrier(n)

    def run(i):
        barrier.wait()
        for _ in range(20):
            try:
                results[i] = fn(i)
                return
            except Unavailable:
                continue
            except Exception as exc:
                results[i] = exc
                return

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_parallel_checkouts_never_oversell(store, request):
    if "dynamodb" in request.node.callspec.id:
        pytest.skip("moto's in-process DynamoDB has no write isolation; tests/e2e runs this race on the local stack")
    store.create_product(product("hot", stock=5))
    results = _parallel(20, lambda i: store.place_order(order(f"user{i}", [("hot", 1)], f"k{i}"), request_hash="h"))
    created = [r for r in results if getattr(r, "created", False)]
    assert len(created) == 5, f"expected 5 orders, got {results}"
    assert all(isinstance(r, InsufficientStock) for r in results if r not in created)
    assert store.get_product("hot").stock == 0


def test_region_and_phone_of_the_shipping_address_are_kept(store):
    store.create_product(product("p1"))
    us = Address("Abe", "1 Main", "Springfield", "62704", "US", line2="Apt 2", region="IL", phone="+1 217 555 0100")
    placed = dataclasses.replace(order("u1", [("p1", 1)], "k-address"), shipping_address=us)
    store.place_order(placed, request_hash="h")
    assert store.get_order("u1", placed.order_id).shipping_address == us
    assert store.list_orders_by_status(PLACED, limit=5, cursor=None).items[0].shipping_address == us
