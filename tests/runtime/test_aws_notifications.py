"""The notifications entrypoint on SQS events whose bodies are SNS notifications, with and
without raw message delivery, including partial batch failures."""

from __future__ import annotations

import json

from functions.adapters.memory import memory_services
from functions.runtimes import aws_notifications
from functions.shop.notifications import event_to_json
from functions.shop.ports import OrderEvent, OrderLine

from .events import sns_envelope, sqs_record


def order_event(order_id: str = "01JDX0ORDER", email: str | None = "ada@example.com", **kw) -> str:
    return event_to_json(
        OrderEvent(
            type=kw.get("type", "OrderPlaced"),
            order_id=order_id,
            user_id=kw.get("user_id", "u-1"),
            status=kw.get("status", "PLACED"),
            total=2490,
            currency="USD",
            lines=(OrderLine("espresso-beans", "Espresso Beans 1 kg", 2490, 1),),
            email=email,
            occurred_at="2026-11-25T03:35:04Z",
        )
    )


def run(records, services):
    return aws_notifications.handler({"Records": records}, None, services=services)


def test_sns_envelope_body_is_unwrapped_and_emailed():
    services = memory_services(deliver=False)
    result = run([sqs_record(sns_envelope(order_event()))], services)
    assert result == {"batchItemFailures": []}
    [mail] = services.notifier.outbox
    assert mail["to"] == "ada@example.com"
    assert "01JDX0ORDER" in mail["subject"] and "24.90 USD" in mail["text"]


def test_raw_message_delivery_body_is_the_event_itself():
    services = memory_services(deliver=False)
    result = run([sqs_record(order_event(type="OrderStatusChanged", status="SHIPPED"))], services)
    assert result == {"batchItemFailures": []}
    assert "shipped" in services.notifier.outbox[0]["subject"]


def test_email_is_looked_up_when_the_event_has_none():
    services = memory_services(deliver=False)
    user_id = services.identity.sign_up("grace@example.com", "Corr3ct-horse!")
    run([sqs_record(order_event(email=None, user_id=user_id))], services)
    assert [m["to"] for m in services.notifier.outbox] == ["grace@example.com"]


def test_only_failed_messages_are_reported_for_retry():
    services = memory_services(deliver=False)
    good = sqs_record(sns_envelope(order_event("ORDER-OK")), "m-ok")
    malformed = sqs_record("{not json", "m-bad-json")
    not_an_event = sqs_record(sns_envelope(json.dumps({"hello": "world"})), "m-not-event")
    records = [good, malformed, not_an_event]
    result = run(records, services)
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["m-bad-json", "m-not-event"]
    assert [m["subject"] for m in services.notifier.outbox] == ["Your order ORDER-OK was placed"]


def test_an_email_outage_fails_the_message_so_the_queue_retries_it():
    services = memory_services(deliver=False)
    services.notifier.fail_email = True
    result = run([sqs_record(order_event(), "m-1", receive_count=5), sqs_record(order_event(), "m-2")], services)
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == ["m-1", "m-2"]


def test_empty_batch():
    assert run([], memory_services(deliver=False)) == {"batchItemFailures": []}
