"""Order events through Google's Pub/Sub emulator (tests/emulators.py) to the notifications
function (main.py's `on_order_event`, as the push subscription calls it), deduped on
Google's Firestore emulator: a redelivered or duplicated event is e-mailed once, and a
poison message lands in the dead-letter topic after the subscription's max delivery
attempts (the emulator implements dead-letter policies: checked here) while the other
messages go through. Skipped, loudly, where the emulators cannot run."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import functions_framework
import pytest

from functions.adapters.firestore_processed_events import FirestoreProcessedEvents
from functions.adapters.gcp_notifier import GcpNotifier
from functions.runtimes import gcp_http
from functions.shop import datamodel
from functions.shop.notifications import event_from_json
from functions.shop.services import Services
from tests import emulators
from tests.fakes.backends import firestore_client
from tests.fakes.events import placed_event_json
from tests.fakes.identity import JwtIdentity, RecordingNotifier, StubMedia

MAIN = Path(gcp_http.__file__).parent / "gcp_app" / "main.py"
PROJECT = "shop-test"
MAX_PULLS = 600  # a bound, not a timing: drain() stops as soon as every message is settled


def pubsub_emulator_host() -> str:
    try:
        return emulators.PUBSUB.ensure()
    except emulators.EmulatorMissing as e:
        pytest.skip(f"Pub/Sub emulator unavailable: {e}")


@dataclass
class Wiring:
    publisher: object
    subscriber: object
    topic: str
    subscription: str
    dead_letter_subscription: str
    services: Services
    app: object
    deliveries: list[tuple[str, int, int]] = field(default_factory=list)  # (messageId, attempt, HTTP status)
    published: list[str] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    dead: list = field(default_factory=list)  # messages pulled (and acked) from the dead-letter topic


@pytest.fixture
def wiring(monkeypatch) -> Iterator[Wiring]:
    pubsub_emulator_host()
    from google.cloud import pubsub_v1

    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    run = uuid.uuid4().hex[:8]
    topic = publisher.topic_path(PROJECT, f"order-events-{run}")
    dead_topic = publisher.topic_path(PROJECT, f"order-events-dead-{run}")
    subscription = subscriber.subscription_path(PROJECT, f"notifications-{run}")
    dead_subscription = subscriber.subscription_path(PROJECT, f"notifications-dead-{run}")
    publisher.create_topic(name=topic)
    publisher.create_topic(name=dead_topic)
    subscriber.create_subscription(name=dead_subscription, topic=dead_topic)
    # As providers/gcp/functions.py configures the notifications subscription.
    subscriber.create_subscription(
        request={
            "name": subscription,
            "topic": topic,
            "ack_deadline_seconds": 10,
            "dead_letter_policy": {
                "dead_letter_topic": dead_topic,
                "max_delivery_attempts": datamodel.NOTIFICATION_MAX_RECEIVES,
            },
        }
    )
    with firestore_client(emulator=True) as (db, root):
        services = Services(
            store=None,  # the consumer never touches the store
            notifier=RecordingNotifier(),
            identity=JwtIdentity("identity-platform"),
            media=StubMedia(),
            processed_events=FirestoreProcessedEvents(db, root=root),
        )
        monkeypatch.setattr(gcp_http, "_services", services)
        app = functions_framework.create_app(
            target="on_order_event", source=str(MAIN), signature_type="cloudevent"
        ).test_client()
        try:
            yield Wiring(publisher, subscriber, topic, subscription, dead_subscription, services, app)
        finally:
            subscriber.delete_subscription(subscription=subscription)
            subscriber.delete_subscription(subscription=dead_subscription)
            publisher.delete_topic(topic=topic)
            publisher.delete_topic(topic=dead_topic)


def publish(w: Wiring, data: bytes) -> str:
    message_id = w.publisher.publish(w.topic, data).result(timeout=10)
    w.published.append(message_id)
    return message_id


def push_body(w: Wiring, received) -> dict:
    """The body a push subscription POSTs for one received message."""
    m = received.message
    return {
        "message": {
            "data": base64.b64encode(m.data).decode(),
            "messageId": m.message_id,
            "publishTime": m.publish_time.isoformat(),
            "attributes": dict(m.attributes),
        },
        "subscription": w.subscription,
        "deliveryAttempt": received.delivery_attempt,
    }


def _pull(w: Wiring, subscription: str) -> list:
    return w.subscriber.pull(
        subscription=subscription, max_messages=10, return_immediately=True, timeout=10
    ).received_messages


def drain(w: Wiring, *, lose_acks: int = 0) -> None:
    """Pull and deliver until every published message is acked or dead-lettered: a 2xx acks
    the message, anything else nacks it (Pub/Sub redelivers; after max_delivery_attempts it
    moves it to the dead-letter topic). The first `lose_acks` successes are not acked
    (their ack deadline passes: the message is redelivered)."""
    for _ in range(MAX_PULLS):
        received = _pull(w, w.subscription)
        for r in received:
            resp = w.app.post("/", data=json.dumps(push_body(w, r)), headers={"Content-Type": "application/json"})
            w.deliveries.append((r.message.message_id, r.delivery_attempt, resp.status_code))
            if 200 <= resp.status_code < 300 and lose_acks <= 0:
                w.subscriber.acknowledge(subscription=w.subscription, ack_ids=[r.ack_id])
                w.acked.add(r.message.message_id)
            else:
                lose_acks -= 200 <= resp.status_code < 300
                w.subscriber.modify_ack_deadline(
                    subscription=w.subscription, ack_ids=[r.ack_id], ack_deadline_seconds=0
                )
        dead = _pull(w, w.dead_letter_subscription)
        if dead:
            w.subscriber.acknowledge(subscription=w.dead_letter_subscription, ack_ids=[d.ack_id for d in dead])
            w.dead.extend(dead)
        if len(w.acked) + len(w.dead) >= len(w.published):
            return
        if not received:
            time.sleep(0.05)  # a nacked message takes a moment to be offered again
    raise AssertionError(f"not every message was settled in {MAX_PULLS} pulls: {w.deliveries}")


def test_a_duplicated_and_redelivered_event_sends_one_email(wiring):
    body = placed_event_json().encode()
    first, second = publish(wiring, body), publish(wiring, body)  # a publish retried after a timeout
    drain(wiring, lose_acks=1)  # and one delivery's ack is lost: that message comes back
    delivered = [mid for mid, _, status in wiring.deliveries if status == 200]
    assert sorted(set(delivered)) == sorted({first, second}) and len(delivered) == 3, wiring.deliveries
    assert len(wiring.services.notifier.emails) == 1, wiring.services.notifier.emails
    assert wiring.dead == []


def test_a_poison_message_is_dead_lettered_after_max_attempts_while_the_others_go_through(wiring):
    from functions.shop.notifications import event_to_json

    good = placed_event_json()
    cancelled = event_to_json(replace(event_from_json(good), type="OrderCancelled", status="CANCELLED"))
    ids = [publish(wiring, good.encode()), publish(wiring, b"{poison: not json"), publish(wiring, cancelled.encode())]
    drain(wiring)
    attempts = [attempt for mid, attempt, _ in wiring.deliveries if mid == ids[1]]
    assert attempts == list(range(1, datamodel.NOTIFICATION_MAX_RECEIVES + 1)), wiring.deliveries
    subjects = sorted(subject for _, subject, _ in wiring.services.notifier.emails)
    assert subjects == [
        "Your order 01J0000000000000000000ORDR was cancelled",
        "Your order 01J0000000000000000000ORDR was placed",
    ], subjects
    [dead] = wiring.dead
    assert dead.message.data == b"{poison: not json"
    assert dead.message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == str(
        datamodel.NOTIFICATION_MAX_RECEIVES
    )


def test_the_production_publisher_and_consumer_agree_on_the_wire(wiring):
    event = event_from_json(placed_event_json())
    GcpNotifier(topic=wiring.topic, sender=None, publisher=wiring.publisher).publish_order_event(event)
    drain(wiring)
    assert [to for to, _, _ in wiring.services.notifier.emails] == ["ada@example.com"]
