"""The Service Bus trigger registered by function_app.py: an order event becomes an email;
a failure raises (Service Bus redelivers, then dead-letters) and never loses the event; a
redelivered or duplicated event is e-mailed once (dedupe on the Cosmos container)."""

from __future__ import annotations

import importlib.util
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import azure.functions as func
import pytest

from functions.adapters.cosmos_processed_events import CosmosProcessedEvents
from functions.adapters.cosmos_store import CosmosStore
from functions.runtimes import azure_http
from functions.shop import datamodel
from functions.shop.notifications import event_from_json
from functions.shop.services import Services
from tests.fakes.cosmos import FakeContainer
from tests.fakes.events import placed_event_json
from tests.fakes.identity import JwtIdentity, RecordingNotifier, StubMedia

from .servicebus import FakeSubscription, pump


@pytest.fixture
def services(monkeypatch):
    pytest.importorskip("functions.shop.notifications", reason="the domain module lands with the handlers issue")
    container = FakeContainer()
    s = Services(
        store=CosmosStore(container),
        notifier=RecordingNotifier(),
        identity=JwtIdentity("entra"),
        media=StubMedia(),
        processed_events=CosmosProcessedEvents(container),
    )
    monkeypatch.setattr(azure_http, "_services", s)
    return s


@pytest.fixture
def trigger():
    path = Path(azure_http.__file__).parent / "azure_app" / "function_app.py"
    spec = importlib.util.spec_from_file_location("function_app_notifications", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = {f.get_function_name(): f for f in module.app.get_functions()}["order_events"]
    return fn.get_user_function()


def test_an_order_event_sends_the_confirmation_email(services, trigger):
    trigger(func.ServiceBusMessage(body=placed_event_json().encode(), content_type="application/json"))
    assert len(services.notifier.emails) == 1, services.notifier.emails
    to, _subject, text = services.notifier.emails[0]
    assert to == "ada@example.com" and "Algorithms" in text


def test_an_email_failure_raises_so_service_bus_redelivers_and_the_retry_sends_once(services, trigger):
    services.notifier.fail_emails = 1
    message = func.ServiceBusMessage(body=placed_event_json().encode())
    with pytest.raises(Exception, match="injected email failure"):
        trigger(message)
    assert services.notifier.emails == []
    trigger(message)  # the redelivery
    assert len(services.notifier.emails) == 1


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_a_malformed_message_fails_loudly_for_the_dead_letter_queue(services, trigger, body):
    with pytest.raises(ValueError, match="order event"):
        trigger(func.ServiceBusMessage(body=body))
    assert services.notifier.emails == []


# -- at-least-once delivery through a Service Bus subscription (tests/on_azure/servicebus.py) --


@pytest.fixture
def subscription():
    return FakeSubscription(max_delivery_count=datamodel.NOTIFICATION_MAX_RECEIVES)


def test_a_duplicated_event_and_a_lost_lock_send_one_email(services, trigger, subscription):
    body = placed_event_json()
    subscription.send(body, message_id="01J0000000000000000000ORDR:OrderPlaced:PLACED")
    subscription.send(body, message_id="01J0000000000000000000ORDR:OrderPlaced:PLACED")  # published twice
    first = subscription.receive()
    trigger(first)  # the e-mail goes out, then the worker dies before completing the message
    subscription.lose_lock(first)
    log = pump(subscription, trigger)
    assert [outcome for _, _, outcome in log] == ["completed", "completed"], log
    assert any(count == 2 for _, count, _ in log), "the message whose lock was lost must be redelivered"
    assert len(services.notifier.emails) == 1, services.notifier.emails
    assert subscription.dead_letters == []


def test_a_poison_message_is_dead_lettered_after_max_deliveries_and_the_others_go_through(
    services, trigger, subscription
):
    from functions.shop.notifications import event_to_json

    good = placed_event_json()
    other = event_to_json(replace(event_from_json(good), type="OrderCancelled", status="CANCELLED"))
    subscription.send(good)
    poison_seq = subscription.send(b"{poison: not json")
    subscription.send(other)
    log = pump(subscription, trigger)
    poison = [(count, outcome) for seq, count, outcome in log if seq == poison_seq]
    assert poison == [(n, "abandoned") for n in range(1, datamodel.NOTIFICATION_MAX_RECEIVES + 1)], poison
    [dead] = subscription.dead_letters
    assert dead.sequence_number == poison_seq and dead.dead_letter_reason == "MaxDeliveryCountExceeded"
    subjects = sorted(subject for _, subject, _ in services.notifier.emails)
    assert subjects == [
        "Your order 01J0000000000000000000ORDR was cancelled",
        "Your order 01J0000000000000000000ORDR was placed",
    ], subjects


def test_concurrent_deliveries_of_copies_of_one_event_send_one_email(services, trigger, subscription):
    for _ in range(6):
        subscription.send(placed_event_json())
    messages = [subscription.receive() for _ in range(6)]
    barrier = threading.Barrier(len(messages))

    def deliver(msg):
        barrier.wait()
        trigger(msg)
        subscription.complete(msg)

    with ThreadPoolExecutor(len(messages)) as pool:
        list(pool.map(deliver, messages))
    assert len(services.notifier.emails) == 1, services.notifier.emails
    assert subscription.active == 0 and subscription.dead_letters == []


def test_processed_event_records_live_in_their_own_partition_and_expire_by_ttl(services, trigger, subscription):
    subscription.send(placed_event_json())
    pump(subscription, trigger)
    container = services.store._c
    docs = container.query_items("SELECT * FROM c WHERE c.type = 'processedEvent'", enable_cross_partition_query=True)
    [doc] = docs
    assert doc["pk"] == doc["id"] and doc["pk"].startswith("EVENT:"), doc
    assert doc["ttl"] == datamodel.PROCESSED_EVENTS_TTL_SECONDS and doc["state"] == "done", doc
