"""Firestore-specific behaviour of FirestoreStore (the shared contract suite covers the
Store port): checkout is one transaction under the SDK's retry decorator, contention and
outages map to Unavailable, expired idempotency keys no longer count, the declared
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
from functions.shop.ports import Unavailable
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


def test_a_conflicting_writer_makes_the_transaction_retry_and_still_never_oversell(store, monkeypatch):
    # The first commit attempt aborts (as Firestore does on contention); the SDK re-runs it.
    real_apply = ff.WriteBatch._apply
    state = {"aborted": False}

    def apply_once_aborted(self, reads=None):
        if reads is not None and not state["aborted"]:
            state["aborted"] = True
            raise gexc.Aborted("contention")
        return real_apply(self, reads)

    monkeypatch.setattr(ff.WriteBatch, "_apply", apply_once_aborted)
    result = store.place_order(order("u1", "o1", "k1", [("p1", 5)]), request_hash="h")
    assert state["aborted"] and result.created and store.get_product("p1").stock == 0


def test_persistent_contention_becomes_unavailable(store, monkeypatch):
    real_apply = ff.WriteBatch._apply

    def always_aborted(self, reads=None):
        if reads is not None:  # transactional commits only
            raise gexc.Aborted("contention")
        return real_apply(self, reads)

    monkeypatch.setattr(ff.WriteBatch, "_apply", always_aborted)
    with pytest.raises(Unavailable):
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
    ((group, field),) = datamodel.FIRESTORE_TTL_FIELDS
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
