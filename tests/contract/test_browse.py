"""Browse filters and sort on every Store: price range, in stock, sort by name, price both
ways and newest, pages joined without gaps or repeats, ONE database query per page, and
cursors bound to the listing that issued them."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from unittest import mock

import pytest

from functions.shop.ports import Browse, Product

CATALOG = [  # id, name, category, price, stock, updatedAt
    ("p1", "Lantern", "outdoor", 3500, 3, "2026-01-05T00:00:00.000Z"),
    ("p2", "kettle", "kitchen", 1999, 0, "2026-01-02T00:00:00.000Z"),
    ("p3", "Axe", "outdoor", 4500, 10, "2026-01-09T00:00:00.000Z"),
    ("p4", "Tent", "outdoor", 3500, 0, "2026-01-01T00:00:00.000Z"),
    ("p5", "Mug", "kitchen", 800, 7, "2026-01-07T00:00:00.000Z"),
    ("p6", "Stove", "outdoor", 12000, 2, "2026-01-03T00:00:00.000Z"),
    ("p7", "Compass", "outdoor", 999, 5, "2026-01-08T00:00:00.000Z"),
    ("p8", "Rope", "outdoor", 3500, 1, "2026-01-04T00:00:00.000Z"),
]


@pytest.fixture
def shop_store(store):
    for pid, name, category, price, stock, updated in CATALOG:
        store.create_product(Product(pid, name, "", category, price, "USD", stock, None, updated))
    return store


def expected(category: str | None, browse: Browse) -> list[str]:
    rows = [r for r in CATALOG if category in (None, r[2])]
    rows = [
        r
        for r in rows
        if (browse.min_price is None or r[3] >= browse.min_price)
        and (browse.max_price is None or r[3] <= browse.max_price)
        and (not browse.in_stock or r[4] > 0)
    ]
    order = {
        "name": (lambda r: (r[1].lower(), r[0]), False),
        "price": (lambda r: (r[3], r[1].lower(), r[0]), False),
        "-price": (lambda r: (r[3], r[1].lower(), r[0]), True),
        "newest": (lambda r: r[5], True),
    }[browse.sort]
    return [r[0] for r in sorted(rows, key=order[0], reverse=order[1])]


@contextlib.contextmanager
def counting_queries(store) -> Iterator[list[str]]:
    """Every database query the store sends (DynamoDB Query, Cosmos query, Firestore query)."""
    seen: list[str] = []
    name = type(store).__name__
    if name == "DynamoDBStore":
        real = store._call

        def call(op, **kw):
            if op == "query":
                seen.append(kw.get("IndexName", "table"))
            return real(op, **kw)

        with mock.patch.object(store, "_call", call):
            yield seen
    elif name == "CosmosStore":
        real_query = store._query

        def query(sql, params, pk):
            seen.append(sql)
            return real_query(sql, params, pk)

        with mock.patch.object(store, "_query", query):
            yield seen
    elif name == "FirestoreStore":
        from google.cloud.firestore_v1.query import Query as RealQuery

        from tests.fakes.firestore import Query as FakeQuery

        patches = []
        for cls in (RealQuery, FakeQuery):
            real_stream = cls.stream

            def stream(self, *a, _real=real_stream, **kw):
                seen.append("stream")
                return _real(self, *a, **kw)

            patches.append(mock.patch.object(cls, "stream", stream))
        with patches[0], patches[1]:
            yield seen
    else:  # the memory store has no database
        yield seen


BROWSES = [
    (None, Browse()),
    (None, Browse(sort="price")),
    (None, Browse(sort="-price")),
    (None, Browse(sort="newest")),
    ("outdoor", Browse(sort="price", min_price=999, max_price=3500)),
    ("outdoor", Browse(sort="-price", min_price=3500)),
    (None, Browse(sort="price", max_price=3500, in_stock=True)),
    ("outdoor", Browse(in_stock=True)),
    (None, Browse(sort="newest", min_price=1000, max_price=5000)),
    ("outdoor", Browse(sort="newest", in_stock=True, max_price=4000)),
    ("kitchen", Browse(sort="name", min_price=900)),
    (None, Browse(sort="price", min_price=100_000)),
]


@pytest.mark.parametrize(("category", "browse"), BROWSES, ids=[f"{c}-{b.scope()}" for c, b in BROWSES])
def test_every_filter_and_sort_pages_through_exactly_the_matching_products(shop_store, category, browse):
    want = expected(category, browse)
    seen, cursor, pages = [], None, 0
    while True:
        with counting_queries(shop_store) as queries:
            page = shop_store.list_products(category=category, query=None, limit=2, cursor=cursor, browse=browse)
        if type(shop_store).__name__ != "MemoryStore":
            assert len(queries) == 1, f"page {pages + 1} took {len(queries)} database queries: {queries}"
        assert len(page.items) <= 2
        seen += [p.product_id for p in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        assert pages <= len(CATALOG) + 1, "the listing never ends"
    assert seen == want, f"{category} {browse}: got {seen}, expected {want}"


def test_a_price_sort_orders_ties_by_name(shop_store):
    page = shop_store.list_products(category="outdoor", query=None, limit=10, cursor=None, browse=Browse(sort="price"))
    at_3500 = [p.name for p in page.items if p.price == 3500]
    assert at_3500 == ["Lantern", "Rope", "Tent"], at_3500


def test_filters_combine_with_a_name_search(shop_store):
    browse = Browse(sort="-price", in_stock=True)
    page = shop_store.list_products(category=None, query="E", limit=10, cursor=None, browse=browse)
    # -price is the price order read backwards: ties in reverse name order
    assert [p.product_id for p in page.items] == ["p6", "p3", "p8", "p1"], page.items


def test_newest_follows_edits_not_stock_changes(shop_store):
    old = shop_store.get_product("p4")
    shop_store.update_product(dataclasses.replace(old, name="Tent XL", updated_at="2026-02-01T00:00:00.000Z"))
    shop_store.set_stock("p2", 50)
    page = shop_store.list_products(category=None, query=None, limit=2, cursor=None, browse=Browse(sort="newest"))
    assert [p.product_id for p in page.items] == ["p4", "p3"], page.items


def test_a_cursor_works_only_with_the_filters_and_sort_that_issued_it(shop_store):
    listings = [
        ("outdoor", None, Browse()),
        ("outdoor", None, Browse(sort="price")),
        ("outdoor", None, Browse(sort="-price")),
        ("outdoor", None, Browse(sort="newest")),
        ("outdoor", None, Browse(in_stock=True)),
        ("outdoor", None, Browse(sort="price", min_price=999)),
        ("outdoor", None, Browse(sort="price", min_price=1000)),
        ("outdoor", "e", Browse()),
    ]
    cursors = []
    for category, query, browse in listings:
        page = shop_store.list_products(category=category, query=query, limit=1, cursor=None, browse=browse)
        assert page.next_cursor, f"{browse}: no next cursor"
        cursors.append(page.next_cursor)
    for i, (category, query, browse) in enumerate(listings):
        shop_store.list_products(category=category, query=query, limit=1, cursor=cursors[i], browse=browse)
        for j, cursor in enumerate(cursors):
            if j != i:
                with pytest.raises(ValueError):
                    shop_store.list_products(category=category, query=query, limit=1, cursor=cursor, browse=browse)
                    pytest.fail(f"{listings[i]} accepted the cursor of {listings[j]}")
