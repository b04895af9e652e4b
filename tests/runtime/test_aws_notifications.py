"""The notifications entrypoint on SQS events whose bodies are SNS notifications, with and
without raw message delivery, including partial batch failures."""

from __future__ import annotations

import json
import time

import pytest

from functions.adapters.memory import memory_services
from functions.runtimes import aws_notifications
from functions.shop import datamodel
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


# -- at-least-once delivery on SQS (moto): redeliveries, duplicates, the dead-letter queue ----


class EventSourceMapping:
    """What Lambda's SQS event source mapping does with ReportBatchItemFailures: receive a
    batch, invoke, delete the messages that succeeded; a failed one comes back when its
    visibility timeout ends (here at once) and, after the queue's maxReceiveCount
    receives, SQS moves it to the dead-letter queue."""

    def __init__(self, sqs, queue_url: str, services) -> None:
        self.sqs, self.url, self.services = sqs, queue_url, services
        self.invocations: list[list[str]] = []  # message ids per batch
        self.lost_deletes = 0  # successes whose delete is lost (a crash after the work)
        self.sent_after: list[int] = []  # e-mails sent so far, after each batch

    def drain(self, max_batches: int = 50) -> None:
        for _ in range(max_batches):
            messages = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"]
            ).get("Messages", [])
            if not messages:
                return
            records = [
                sqs_record(m["Body"], m["MessageId"], int(m["Attributes"]["ApproximateReceiveCount"])) for m in messages
            ]
            self.invocations.append([r["messageId"] for r in records])
            result = aws_notifications.handler({"Records": records}, None, services=self.services)
            self.sent_after.append(len(self.services.notifier.outbox))
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            for m in messages:
                if m["MessageId"] in failed or self.lost_deletes:
                    if m["MessageId"] not in failed:
                        self.lost_deletes -= 1
                    self.sqs.change_message_visibility(
                        QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        raise AssertionError(f"the queue did not drain in {max_batches} batches")


@pytest.fixture
def sqs_shop():
    """The notifications queue with its dead-letter queue (as providers/aws/notifications.py
    wires them) and the consumer deduping on the shop's DynamoDB table, all on moto."""
    import boto3

    from functions.adapters.dynamodb_processed_events import DynamoDBProcessedEvents
    from tests.fakes.backends import dynamodb_store

    with dynamodb_store() as store:
        sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
        dlq_url = sqs.create_queue(QueueName="notifications-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": datamodel.NOTIFICATION_MAX_RECEIVES}
        url = sqs.create_queue(QueueName="notifications", Attributes={"RedrivePolicy": json.dumps(redrive)})["QueueUrl"]
        services = memory_services(deliver=False)
        services.processed_events = DynamoDBProcessedEvents(store.table, client=store.client)
        yield sqs, url, dlq_url, services


def _dead_letters(sqs, dlq_url: str) -> list[dict]:
    return sqs.receive_message(
        QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    ).get("Messages", [])


def test_an_event_published_twice_and_redelivered_after_a_lost_delete_sends_one_email(sqs_shop):
    sqs, url, dlq_url, services = sqs_shop
    body = order_event("ORDER-DUP")
    for _ in range(2):  # SNS delivered the event twice (a publish retried after a timeout)
        sqs.send_message(QueueUrl=url, MessageBody=body)
    mapping = EventSourceMapping(sqs, url, services)
    mapping.lost_deletes = 2  # and the first batch's deletes are lost: both messages come back
    mapping.drain()
    assert len(mapping.invocations) >= 2, "the messages were not redelivered"
    assert [m["subject"] for m in services.notifier.outbox] == ["Your order ORDER-DUP was placed"]
    assert _dead_letters(sqs, dlq_url) == []


def test_a_poison_message_ends_in_the_dlq_after_max_receives_while_its_batch_goes_through(sqs_shop):
    sqs, url, dlq_url, services = sqs_shop
    bodies = [order_event("ORDER-1"), "{poison: not json", order_event("ORDER-2")]
    ids = [sqs.send_message(QueueUrl=url, MessageBody=b)["MessageId"] for b in bodies]
    mapping = EventSourceMapping(sqs, url, services)
    mapping.drain()
    assert sorted(mapping.invocations[0]) == sorted(ids), "the three messages should arrive in one batch"
    poison_attempts = sum(ids[1] in batch for batch in mapping.invocations)
    assert poison_attempts == datamodel.NOTIFICATION_MAX_RECEIVES, mapping.invocations
    assert sorted(m["subject"] for m in services.notifier.outbox) == [
        "Your order ORDER-1 was placed",
        "Your order ORDER-2 was placed",
    ], "the good messages of the poison's batch must be e-mailed exactly once"
    [dead] = _dead_letters(sqs, dlq_url)
    assert dead["Body"] == bodies[1] and dead["MessageId"] == ids[1]


def test_a_failed_send_releases_its_claim_so_another_copy_sends_at_once_and_only_once(sqs_shop):
    sqs, url, dlq_url, services = sqs_shop
    body = order_event("ORDER-RETRY")
    first, second = (sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"] for _ in range(2))
    real_send = services.notifier.send_email
    failures = iter([RuntimeError("SES throttled (injected)")])

    def flaky(to: str, subject: str, text: str) -> None:
        error = next(failures, None)
        if error:
            raise error
        real_send(to, subject, text)

    services.notifier.send_email = flaky
    mapping = EventSourceMapping(sqs, url, services)
    mapping.drain()
    assert mapping.invocations == [[first, second], [first]], mapping.invocations
    assert mapping.sent_after == [1, 1], "the second copy should have sent in the first batch, once"
    assert [m["subject"] for m in services.notifier.outbox] == ["Your order ORDER-RETRY was placed"]
    assert _dead_letters(sqs, dlq_url) == []


def test_processed_event_records_carry_the_tables_ttl_attribute(sqs_shop):
    sqs, url, _, services = sqs_shop
    sqs.send_message(QueueUrl=url, MessageBody=order_event("ORDER-TTL"))
    EventSourceMapping(sqs, url, services).drain()
    events = services.processed_events
    item = events.client.get_item(
        TableName=events.table, Key={"PK": {"S": "EVENT#ORDER-TTL:OrderPlaced:PLACED"}, "SK": {"S": "EVENT"}}
    )["Item"]
    ttl = datamodel.SHOP_TABLE.ttl_attribute
    left = int(item[ttl]["N"]) - time.time()
    assert datamodel.PROCESSED_EVENTS_TTL_SECONDS - 3600 < left <= datamodel.PROCESSED_EVENTS_TTL_SECONDS, item
    assert item["state"]["S"] == "done", item
