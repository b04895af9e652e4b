"""Firestore-specific behaviour of FirestoreStore (the shared contract suite covers the
Store port): checkout is one precondition-guarded commit, re-run from a fresh read when it
loses a race, within a time budget; contention beyond it and outages map to Unavailable, expired idempotency keys no longer count, the declared
composite indexes cover every query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions as gexc
from google.cloud.firestore_v1._helpers import ReadAfterWriteError
from google.cloud.firestore_v1.base_query import FieldFilter

import tests.fakes.firestore as ff
from functions.adapters.firestore_store import FirestoreStore
from functions.shop import datamodel
from functions.shop.ports import InsufficientStock, Unavailable
from tests.fakes.firestore import FakeFirestoreClient
from tests.fakes.orders import order, product


@pytest.fixture
def client():
    return FakeFirestoreClient(datamodel.FIRESTORE_INDEXES)


@pytest.fixture
def store(client):
    s = FirestoreStore(client)
    s.create_product(product("p1", stock=5))
    return s


def test_checkout_commits_once_with_every_write(store, client):
    store.set_cart_line("u1", "p1", 2)
    commits = client.calls.count("commit")
    store.place_order(order("u1", "o1", "k1", [("p1", 2)]), request_hash="h")
    assert client.calls.count("commit") == commits + 1, "checkout must be one commit"
    assert store.get_product("p1").stock == 3 and store.get_cart("u1") == []


def test_a_writer_between_read_and_commit_makes_checkout_re_read_and_never_oversell(store, client, monkeypatch):
    # Another buyer takes 4 of the 5 right after this checkout read the stock: its commit
    # must fail its precondition, re-read (1 left) and answer sold out, writing nothing.
    real_get_all = client.get_all
    state = {"interfered": False}

    def get_all_then_someone_buys(refs, **kw):
        snaps = list(real_get_all(refs, **kw))
        if not state["interfered"]:
            state["interfered"] = True
            client.document(store._product_ref("p1").path).update({"stock": 1})
        return iter(snaps)

    monkeypatch.setattr(client, "get_all", get_all_then_someone_buys)
    with pytest.raises(InsufficientStock):
        store.place_order(order("u1", "o1", "k1", [("p1", 2)]), request_hash="h")
    assert state["interfered"] and store.get_product("p1").stock == 1
    assert store.find_order("o1") is None and store.find_idempotent_order("u1", "k1") is None


def test_a_lost_race_is_retried_until_it_commits(store, monkeypatch):
    real_apply = ff.WriteBatch._apply
    state = {"failed": 0}

    def first_two_commits_lose(self, reads=None):
        if state["failed"] < 2:
            state["failed"] += 1
            raise gexc.FailedPrecondition("the stored version and the required version do not match")
        return real_apply(self, reads)

    monkeypatch.setattr(ff.WriteBatch, "_apply", first_two_commits_lose)
    result = store.place_order(order("u1", "o1", "k1", [("p1", 5)]), request_hash="h")
    assert state["failed"] == 2 and result.created and store.get_product("p1").stock == 0


def test_contention_beyond_the_retry_budget_is_unavailable_and_writes_nothing(store, monkeypatch):
    def always_lost(self, reads=None):
        raise gexc.FailedPrecondition("the stored version and the required version do not match")

    store.retry_budget_s = 0.2
    monkeypatch.setattr(ff.WriteBatch, "_apply", always_lost)
    with pytest.raises(Unavailable, match="retry"):
        store.place_order(order("u1", "o1", "k1", [("p1", 1)]), request_hash="h")
    monkeypatch.undo()
    assert store.get_product("p1").stock == 5 and store.find_order("o1") is None


def test_outages_become_unavailable(store, client):
    client.fail_next(gexc.ServiceUnavailable("down"))
    with pytest.raises(Unavailable):
        store.get_product("p1")


def test_an_expired_idempotency_key_counts_as_new(store, client):
    store.place_order(order("u1", "o1", "k1", [("p1", 1)]), request_hash="h")
    key_doc = next(p for p in client._db.docs if "/idempotency/" in p)
    client._db.docs[key_doc]["expiresAt"] = datetime.now(UTC) - timedelta(seconds=1)  # TTL has not run yet
    assert store.find_idempotent_order("u1", "k1") is None
    again = store.place_order(order("u1", "o2", "k1", [("p1", 1)]), request_hash="other")
    assert again.created and again.order.order_id == "o2"


def test_idempotency_keys_carry_a_timestamp_for_the_ttl_policy(store, client):
    store.place_order(order("u1", "o1", "k1", [("p1", 1)]), request_hash="h")
    group, field = "idempotency", dict(datamodel.FIRESTORE_TTL_FIELDS)["idempotency"]
    docs = [d for p, d in client._db.docs.items() if f"/{group}/" in p]
    assert docs and all(isinstance(d[field], datetime) for d in docs), "Firestore TTL needs a Timestamp field"


def test_the_fake_rejects_reads_after_writes_unindexed_queries_and_huge_commits(client):
    txn = client.transaction()
    txn._begin()
    txn.set(client.document("a/b"), {"x": 1})
    with pytest.raises(ReadAfterWriteError):
        client.document("a/c").get(transaction=txn)
    query = client.collection("products").where(filter=FieldFilter("price", "==", 1)).order_by("name")
    with pytest.raises(gexc.FailedPrecondition):
        list(query.stream())
    batch = client.batch()
    for i in range(501):
        batch.set(client.document(f"a/{i}"), {"i": i})
    with pytest.raises(gexc.InvalidArgument):
        batch.commit()
