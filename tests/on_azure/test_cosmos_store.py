"""Cosmos-specific behaviour of CosmosStore (the shared contract suite covers the Store
port itself): the checkout/cancel atomic step is ONE transactional batch in the LEDGER
partition, throttling maps to Unavailable, the cart follow-up is recoverable."""

from __future__ import annotations

import copy

import pytest
from azure.cosmos import exceptions as cx

from functions.adapters.cosmos_store import LEDGER_PK, CosmosStore, user_pk
from functions.shop.ports import CANCELLED, InsufficientStock, Unavailable
from tests.fakes.cosmos import FakeContainer
from tests.fakes.orders import order, product


@pytest.fixture
def fake():
    return FakeContainer("/pk")


@pytest.fixture
def store(fake):
    s = CosmosStore(fake)
    for pid in ("p1", "p2"):
        s.create_product(product(pid, stock=5))
    return s


def test_checkout_is_one_transactional_batch_in_the_ledger_partition(store, fake, monkeypatch):
    batches = []
    real = fake.execute_item_batch
    monkeypatch.setattr(
        fake,
        "execute_item_batch",
        lambda batch_operations, partition_key: (
            batches.append((partition_key, copy.deepcopy(batch_operations)))
            or real(batch_operations=batch_operations, partition_key=partition_key)
        ),
    )
    store.set_cart_line("u1", "p1", 2)
    store.place_order(order("u1", "o1", "k1", [("p1", 2), ("p2", 1)]), request_hash="h")
    ledger = [ops for pk, ops in batches if pk == LEDGER_PK]
    assert len(ledger) == 1, f"checkout should commit in one ledger batch, saw {len(ledger)}"
    kinds = [op[0] for op in ledger[0]]
    assert kinds == ["create", "create", "patch", "patch"], kinds
    assert all("filter_predicate" in op[2] for op in ledger[0][2:]), "stock patches must be conditional"
    assert [pk for pk, _ in batches][1:] == [user_pk("u1")], "the cart is cleared by a follow-up batch"
    assert store.get_cart("u1") == []


def test_a_lost_stock_race_inside_the_batch_is_reported_as_insufficient_stock(store, fake, monkeypatch):
    # Another checkout takes the stock between our read and our batch.
    real = fake.execute_item_batch

    def racing(batch_operations, partition_key):
        fake.patch_item("PRODUCT:p1", LEDGER_PK, [{"op": "set", "path": "/stock", "value": 0}])
        monkeypatch.setattr(fake, "execute_item_batch", real)
        return real(batch_operations=batch_operations, partition_key=partition_key)

    monkeypatch.setattr(fake, "execute_item_batch", racing)
    with pytest.raises(InsufficientStock) as e:
        store.place_order(order("u1", "o1", "k1", [("p1", 1)]), request_hash="h")
    assert e.value.product_ids == ["p1"]
    assert store.find_order("o1") is None and store.find_idempotent_order("u1", "k1") is None


@pytest.mark.parametrize("status", [429, 503, 408])
def test_throttling_and_unavailability_become_unavailable(store, fake, status):
    fake.fail_next(status)
    with pytest.raises(Unavailable):
        store.get_product("p1")


def test_a_failed_cart_follow_up_keeps_the_order_and_a_replay_clears_the_cart(store, fake, monkeypatch):
    store.set_cart_line("u1", "p1", 1)
    real = fake.execute_item_batch

    def cart_batch_fails(batch_operations, partition_key):
        if partition_key != LEDGER_PK:
            raise cx.CosmosHttpResponseError(status_code=503, message="injected")
        return real(batch_operations=batch_operations, partition_key=partition_key)

    monkeypatch.setattr(fake, "execute_item_batch", cart_batch_fails)
    first = store.place_order(order("u1", "o1", "k1", [("p1", 1)]), request_hash="h")
    assert first.created and store.get_cart("u1") != [], "the order stands even though the cart survived"
    monkeypatch.setattr(fake, "execute_item_batch", real)
    again = store.place_order(order("u1", "o-other", "k1", [("p1", 1)]), request_hash="h")
    assert not again.created and again.order.order_id == "o1"
    assert store.get_cart("u1") == [], "the replay must finish the cart follow-up"
    assert store.get_product("p1").stock == 4, "the replay must not decrement stock again"


def test_cancel_restocks_in_the_same_batch_as_the_status_change(store, fake):
    placed = store.place_order(order("u1", "o1", "k1", [("p1", 3)]), request_hash="h").order
    before = fake.calls.count("execute_item_batch")
    cancelled = store.transition_order(placed, CANCELLED, restock=True)
    assert cancelled.status == CANCELLED and store.get_product("p1").stock == 5
    assert fake.calls.count("execute_item_batch") == before + 1


def test_ids_with_reserved_characters_are_encoded(store):
    store.create_product(product("a/b?c#d", stock=1))
    store.set_cart_line("user/with#hash", "a/b?c#d", 1)
    assert store.get_product("a/b?c#d").stock == 1
    result = store.place_order(order("user/with#hash", "o/1", "key?/#", [("a/b?c#d", 1)]), request_hash="h")
    assert result.created and store.get_order("user/with#hash", "o/1") is not None


def test_the_fake_enforces_the_single_partition_and_size_rules():
    fake = FakeContainer("/pk")
    with pytest.raises(cx.CosmosBatchOperationError):
        fake.execute_item_batch([("create", ({"id": "a", "pk": "OTHER"},))], partition_key="P")
    with pytest.raises(cx.CosmosHttpResponseError) as e:
        fake.execute_item_batch([("create", ({"id": f"i{i}", "pk": "P"},)) for i in range(101)], partition_key="P")
    assert e.value.status_code == 400
    with pytest.raises(cx.CosmosHttpResponseError):
        fake.create_item({"id": "bad/id", "pk": "P"})


def test_the_real_sdk_accepts_the_batches_the_store_builds(store, fake, monkeypatch):
    # The fake reads the tuples loosely; the SDK's own formatter is the judge of their shape.
    from azure.cosmos import _base

    seen = []
    real = fake.execute_item_batch
    monkeypatch.setattr(
        fake,
        "execute_item_batch",
        lambda batch_operations, partition_key: (
            seen.append(copy.deepcopy(batch_operations))
            or real(batch_operations=batch_operations, partition_key=partition_key)
        ),
    )
    store.set_cart_line("u1", "p1", 1)
    placed = store.place_order(order("u1", "o1", "k1", [("p1", 1)]), request_hash="h").order
    store.transition_order(placed, CANCELLED, restock=True)
    formatted = [_base._format_batch_operations(list(ops)) for ops in seen]
    checkout = formatted[0]
    assert [op["operationType"] for op in checkout] == ["Create", "Create", "Patch"]
    assert checkout[2]["resourceBody"]["condition"] == "FROM c WHERE c.stock >= 1"
    assert formatted[-1][0]["resourceBody"]["condition"] == "FROM c WHERE c.status = 'PLACED'"
