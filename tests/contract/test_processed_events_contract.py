"""The ProcessedEvents contract (functions/shop/processed_events.py): every cloud's dedupe
record behaves the same, on the same backends as the store contract (conftest.STORES):
memory, DynamoDB on moto, the Cosmos fake, Google's Firestore emulator and the Firestore
fake. Time is a test clock: leases and expiries move without waiting."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from functions.adapters.memory import MemoryIdentity, MemoryMedia, MemoryNotifier, MemoryStore
from functions.shop import datamodel as dm
from functions.shop.notifications import event_to_json, handle_order_event
from functions.shop.ports import OrderEvent, OrderLine
from functions.shop.processed_events import BUSY, CLAIMED, DONE
from functions.shop.services import Services

from .conftest import STORES

LEASE = dm.PROCESSED_EVENT_LEASE_SECONDS
EVENT = "01JDX0ORDER:OrderPlaced:PLACED"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.contextmanager
def memory(clock: Clock, monkeypatch) -> Iterator[object]:
    from functions.adapters.memory_processed_events import MemoryProcessedEvents

    yield MemoryProcessedEvents(clock)


class RequestAtomic:
    """DynamoDB applies each request atomically; moto's in-process backend checks a
    condition and writes in two steps without a lock, so threads can interleave inside one
    request. This client proxy serialises requests (not claims: a claim's put and get still
    interleave with other threads' requests), which is the service's own guarantee."""

    def __init__(self, client) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            with self._lock:
                return attr(*args, **kwargs)

        return call


@contextlib.contextmanager
def dynamodb(clock: Clock, monkeypatch) -> Iterator[object]:
    from functions.adapters.dynamodb_processed_events import DynamoDBProcessedEvents
    from tests.fakes.backends import dynamodb_store

    with dynamodb_store() as store:
        yield DynamoDBProcessedEvents(store.table, client=RequestAtomic(store.client), clock=clock)


@contextlib.contextmanager
def cosmos(clock: Clock, monkeypatch) -> Iterator[object]:
    from functions.adapters.cosmos_processed_events import CosmosProcessedEvents
    from tests.fakes import backends
    from tests.fakes import cosmos as fake_cosmos

    if not backends.using_real_cosmos():
        # Cosmos expires items by their ttl on the server's clock: give the fake ours.
        monkeypatch.setattr(fake_cosmos, "time", type("T", (), {"time": staticmethod(clock)}))
    with backends.cosmos_container() as container:
        yield CosmosProcessedEvents(container, clock=clock)


@contextlib.contextmanager
def firestore(clock: Clock, monkeypatch) -> Iterator[object]:
    from functions.adapters.firestore_processed_events import FirestoreProcessedEvents
    from tests.fakes.backends import firestore_client

    with firestore_client(emulator=True) as (client, root):
        yield FirestoreProcessedEvents(client, root=root, clock=clock)


@contextlib.contextmanager
def firestore_fake(clock: Clock, monkeypatch) -> Iterator[object]:
    from functions.adapters.firestore_processed_events import FirestoreProcessedEvents
    from tests.fakes.backends import firestore_client

    with firestore_client(emulator=False) as (client, root):
        yield FirestoreProcessedEvents(client, root=root, clock=clock)


PROCESSED_EVENTS = {
    "memory": memory,
    "dynamodb": dynamodb,
    "cosmos": cosmos,
    "firestore": firestore,
    "firestore-fake": firestore_fake,
}


def test_every_store_backend_has_a_processed_events_adapter():
    assert set(PROCESSED_EVENTS) == set(STORES), "add the new store's ProcessedEvents adapter to PROCESSED_EVENTS"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(PROCESSED_EVENTS))
def events(request, clock, monkeypatch):
    with PROCESSED_EVENTS[request.param](clock, monkeypatch) as e:
        yield e


def test_the_first_claim_wins_and_done_answers_every_later_copy(events):
    assert events.claim(EVENT, "m-1") == CLAIMED
    assert events.claim(EVENT, "m-2") == BUSY, "a second message of the same event must not also do the work"
    events.done(EVENT, "m-1")
    assert events.claim(EVENT, "m-2") == DONE
    assert events.claim(EVENT, "m-1") == DONE, "a redelivery after done must not do the work again"


def test_events_are_independent(events):
    assert events.claim(EVENT, "m-1") == CLAIMED
    assert events.claim("01JDX0ORDER:OrderStatusChanged:PAID", "m-2") == CLAIMED


def test_ids_with_reserved_characters_are_stored(events):
    odd = "o/1#?\\x:OrderPlaced:PLACED"
    assert events.claim(odd, "m-1") == CLAIMED
    events.done(odd, "m-1")
    assert events.claim(odd, "m-2") == DONE


def test_a_released_claim_lets_the_redelivery_do_the_work(events):
    assert events.claim(EVENT, "m-1") == CLAIMED
    events.release(EVENT, "m-1")
    assert events.claim(EVENT, "m-2") == CLAIMED


def test_only_the_holder_can_release(events):
    assert events.claim(EVENT, "m-1") == CLAIMED
    events.release(EVENT, "m-2")
    assert events.claim(EVENT, "m-3") == BUSY, "a non-holder's release dropped the claim"


def test_a_release_after_done_keeps_the_event_done(events):
    assert events.claim(EVENT, "m-1") == CLAIMED
    events.done(EVENT, "m-1")
    events.release(EVENT, "m-1")
    assert events.claim(EVENT, "m-2") == DONE


def test_a_redelivery_of_the_holders_own_message_takes_its_claim_back(events):
    # The first attempt crashed between claim and done; the queue redelivers the message.
    assert events.claim(EVENT, "m-1") == CLAIMED
    assert events.claim(EVENT, "m-1") == CLAIMED


def test_an_expired_lease_can_be_taken_over_and_the_old_holder_can_no_longer_release(events, clock):
    assert events.claim(EVENT, "m-1") == CLAIMED
    clock.advance(LEASE - 1)
    assert events.claim(EVENT, "m-2") == BUSY, "the lease ran out early"
    clock.advance(2)
    assert events.claim(EVENT, "m-2") == CLAIMED
    events.release(EVENT, "m-1")
    assert events.claim(EVENT, "m-3") == BUSY, "the old holder released the new holder's claim"


def test_a_done_record_expires_after_its_ttl(events, clock):
    assert events.claim(EVENT, "m-1") == CLAIMED
    events.done(EVENT, "m-1")
    clock.advance(dm.PROCESSED_EVENTS_TTL_SECONDS - 60)
    assert events.claim(EVENT, "m-2") == DONE
    clock.advance(120)
    assert events.claim(EVENT, "m-2") == CLAIMED


def _race(n: int, fn) -> list:
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_claims_of_one_event_have_exactly_one_winner(events):
    outcomes = _race(12, lambda i: events.claim(EVENT, f"m-{i}"))
    assert sorted(outcomes) == [BUSY] * 11 + [CLAIMED], outcomes


def test_concurrent_takeovers_of_an_expired_claim_have_exactly_one_winner(events, clock):
    assert events.claim(EVENT, "crashed") == CLAIMED
    clock.advance(LEASE + 1)
    outcomes = _race(8, lambda i: events.claim(EVENT, f"m-{i}"))
    assert sorted(outcomes) == [BUSY] * 7 + [CLAIMED], outcomes


# -- the consumer on each backend ---------------------------------------------------------

ORDER_EVENT = OrderEvent(
    "OrderPlaced", "01JDX0ORDER", "u-1", "PLACED", 2490, "USD", (OrderLine("beans", "Beans", 2490, 1),), "a@example.com"
)


def consumer(events) -> Services:
    return Services(MemoryStore(), MemoryNotifier(), MemoryIdentity(), MemoryMedia(), processed_events=events)


def test_concurrent_deliveries_of_one_event_send_one_email(events):
    services = consumer(events)
    body = event_to_json(ORDER_EVENT)
    _race(8, lambda i: handle_order_event(body, services, delivery_id=f"m-{i}"))
    assert len(services.notifier.outbox) == 1, services.notifier.outbox
    handle_order_event(body, services, delivery_id="m-late")  # a copy arriving after the work
    assert len(services.notifier.outbox) == 1


def test_a_failed_send_is_retried_by_the_redelivery_and_sent_once(events):
    services = consumer(events)
    body = event_to_json(ORDER_EVENT)
    services.notifier.fail_email = True
    with pytest.raises(RuntimeError, match="email provider unavailable"):
        handle_order_event(body, services, delivery_id="m-1")
    services.notifier.fail_email = False
    handle_order_event(body, services, delivery_id="m-2")  # another copy of the event
    assert len(services.notifier.outbox) == 1, "the failed delivery's claim was not released"
    handle_order_event(body, services, delivery_id="m-1")  # the failed message comes back: DONE
    assert [m["to"] for m in services.notifier.outbox] == ["a@example.com"]
