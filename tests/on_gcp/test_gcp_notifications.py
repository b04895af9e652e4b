"""The Pub/Sub CloudEvent trigger, through functions-framework's app for main.py's
`on_order_event`: an order event becomes an email; a failure answers 500 (Eventarc retries,
then the subscription dead-letters) and never loses the event."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import functions_framework
import pytest

from functions.adapters.firestore_processed_events import FirestoreProcessedEvents
from functions.adapters.firestore_store import FirestoreStore
from functions.runtimes import gcp_http
from functions.shop import datamodel
from functions.shop.services import Services
from tests.fakes.events import placed_event_json
from tests.fakes.firestore import FakeFirestoreClient
from tests.fakes.identity import JwtIdentity, RecordingNotifier, StubMedia

MAIN = Path(gcp_http.__file__).parent / "gcp_app" / "main.py"


@pytest.fixture
def services(monkeypatch):
    pytest.importorskip("functions.shop.notifications", reason="the domain module lands with the handlers issue")
    db = FakeFirestoreClient(datamodel.FIRESTORE_INDEXES)
    s = Services(
        store=FirestoreStore(db),
        notifier=RecordingNotifier(),
        identity=JwtIdentity("identity-platform"),
        media=StubMedia(),
        processed_events=FirestoreProcessedEvents(db),
    )
    monkeypatch.setattr(gcp_http, "_services", s)
    return s


@pytest.fixture
def client():
    return functions_framework.create_app(
        target="on_order_event", source=str(MAIN), signature_type="cloudevent"
    ).test_client()


def deliver(client, data: bytes, message_id: str = "1001"):
    envelope = {
        "specversion": "1.0",
        "id": message_id,
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/proj/topics/order-events",
        "datacontenttype": "application/json",
        "data": {
            "message": {
                "data": base64.b64encode(data).decode(),
                "messageId": message_id,
                "attributes": {"type": "OrderPlaced"},
            },
            "subscription": "projects/proj/subscriptions/notifications",
        },
    }
    return client.post("/", data=json.dumps(envelope), headers={"Content-Type": "application/cloudevents+json"})


def test_an_order_event_sends_the_confirmation_email(services, client):
    resp = deliver(client, placed_event_json().encode())
    assert resp.status_code == 200, resp.get_data()
    assert [to for to, _, _ in services.notifier.emails] == ["ada@example.com"]


def test_an_email_failure_fails_the_delivery_and_the_retry_sends_once(services, client):
    services.notifier.fail_emails = 1
    assert deliver(client, placed_event_json().encode()).status_code == 500
    assert services.notifier.emails == []
    assert deliver(client, placed_event_json().encode()).status_code == 200
    assert len(services.notifier.emails) == 1


@pytest.mark.parametrize("data", [b"{not json", b'"just a string"'])
def test_a_malformed_message_fails_the_delivery(services, client, data):
    assert deliver(client, data).status_code == 500
    assert services.notifier.emails == []


def push(client, data: bytes, message_id: str = "2001"):
    """What the stack's push subscription POSTs (providers/gcp/functions.py): the raw Pub/Sub
    push body, no CloudEvent headers. functions-framework turns it into the CloudEvent."""
    body = {
        "message": {"data": base64.b64encode(data).decode(), "messageId": message_id,
                    "publishTime": "2026-11-25T10:00:00Z", "attributes": {"type": "OrderPlaced"}},
        "subscription": "projects/proj/subscriptions/shop-dev-notifications",
    }  # fmt: skip
    return client.post("/", data=json.dumps(body), headers={"Content-Type": "application/json"})


def test_the_push_subscription_format_reaches_the_same_handler(services, client):
    resp = push(client, placed_event_json().encode())
    assert resp.status_code == 200, resp.get_data()
    assert [to for to, _, _ in services.notifier.emails] == ["ada@example.com"]


def test_a_failed_push_is_a_5xx_so_pubsub_retries_and_then_dead_letters(services, client):
    services.notifier.fail_emails = 1
    assert push(client, placed_event_json().encode()).status_code >= 500
    assert push(client, placed_event_json().encode()).status_code == 200
    assert len(services.notifier.emails) == 1


def test_a_redelivered_message_is_acknowledged_without_a_second_email(services, client):
    assert push(client, placed_event_json().encode(), message_id="3001").status_code == 200
    assert push(client, placed_event_json().encode(), message_id="3001").status_code == 200  # ack lost
    assert push(client, placed_event_json().encode(), message_id="3002").status_code == 200  # published twice
    assert len(services.notifier.emails) == 1, services.notifier.emails


def test_processed_event_records_expire_under_a_declared_firestore_ttl_policy(services, client):
    assert push(client, placed_event_json().encode(), message_id="4001").status_code == 200
    db = services.store._db
    [doc] = [d for p, d in db._db.docs.items() if "/processedEvents/" in p]
    assert ("processedEvents", "expiresAt") in datamodel.FIRESTORE_TTL_FIELDS
    assert isinstance(doc["expiresAt"], datetime), "Firestore TTL needs a Timestamp field"
    ttl = doc["expiresAt"] - datetime.now(UTC)
    assert timedelta(days=13) < ttl <= timedelta(seconds=datamodel.PROCESSED_EVENTS_TTL_SECONDS), ttl
    assert doc["state"] == "done" and doc["eventId"].endswith(":OrderPlaced:PLACED"), doc
