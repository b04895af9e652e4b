"""Fault injection: the database fails mid-checkout, the topic or the e-mail provider fails.
The client gets a retryable error or the order, never a half-written order; a retry with the
same Idempotency-Key completes exactly once; failed e-mails go back to the queue."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from functions.adapters.memory import MemoryIdentity, MemoryMedia, MemoryNotifier
from functions.runtimes import aws_notifications
from functions.shop import ports
from functions.shop.api import handle
from functions.shop.http import Request
from functions.shop.services import Services

ADDR = json.dumps(
    {
        "shippingAddress": {
            "name": "A",
            "line1": "1",
            "city": "c",
            "region": "IL",
            "postalCode": "62704",
            "country": "US",
        }
    }
).encode()
CHECKOUT_ATTEMPTS = 4  # DynamoDBStore.place_order's own retries
WHO = ports.Principal("u1", email="u1@example.com")


@pytest.fixture
def shop():
    from tests.fakes.backends import dynamodb_store

    with dynamodb_store("faults") as store:
        client = store.client
        store.create_product(ports.Product("p1", "P1", "d", "books", 500, "USD", 5, None))
        store.set_cart_line("u1", "p1", 2)
        notifier = MemoryNotifier()
        services = Services(store, notifier, MemoryIdentity(), MemoryMedia())
        yield services, client


def _inject(client, operation: str, code: str, times: int) -> list[int]:
    """Fail the next `times` calls of `operation` with `code`, as the service would."""
    left = [times]

    def fail(model, **_):
        if model.name == operation and left[0] > 0:
            left[0] -= 1
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    client.meta.events.register("before-call.dynamodb", fail)
    return left


def checkout(services, key="k1"):
    return handle(Request("POST", "/api/orders", body=ADDR, principal=WHO, headers={"idempotency-key": key}), services)


def test_throttled_transaction_is_a_retryable_503_and_writes_nothing(shop):
    services, client = shop
    _inject(client, "TransactWriteItems", "ThrottlingException", times=10)
    r = checkout(services)
    assert r.status == 503 and r.headers.get("retry-after"), r.body
    assert services.store.get_product("p1").stock == 5, "a failed checkout changed stock"
    assert services.store.list_orders("u1", limit=5, cursor=None).items == []
    assert services.store.get_cart("u1") == [ports.CartLine("p1", 2)]


def test_retry_with_the_same_key_after_a_failure_completes_exactly_once(shop):
    services, client = shop
    _inject(client, "TransactWriteItems", "ProvisionedThroughputExceededException", times=CHECKOUT_ATTEMPTS)
    assert checkout(services).status == 503  # every attempt of the first request throttled
    first = checkout(services)
    assert first.status == 201, first.body
    replay = checkout(services)
    assert replay.status == 200 and replay.body["orderId"] == first.body["orderId"]
    assert services.store.get_product("p1").stock == 3
    assert len(services.store.list_orders("u1", limit=5, cursor=None).items) == 1


def test_transient_contention_is_absorbed_by_the_store(shop):
    services, client = shop
    _inject(client, "TransactWriteItems", "TransactionConflictException", times=2)
    r = checkout(services)
    assert r.status == 201 and services.store.get_product("p1").stock == 3


def test_read_failure_before_the_write_is_retryable(shop):
    services, client = shop
    _inject(client, "BatchGetItem", "InternalServerError", times=1)
    assert checkout(services).status == 503
    assert services.store.get_product("p1").stock == 5
    assert checkout(services).status == 201


def test_topic_failure_still_returns_the_order(shop):
    services, _ = shop
    services.notifier.fail_publish = True
    r = checkout(services)
    assert r.status == 201 and services.store.get_order("u1", r.body["orderId"]) is not None


def test_email_failure_sends_the_message_back_to_the_queue_and_a_retry_delivers_it(shop):
    services, _ = shop
    order = checkout(services).body
    from functions.shop.notifications import event_to_json

    event = services.notifier.events[0]
    batch = {"Records": [{"messageId": "m1", "body": event_to_json(event)}]}
    services.notifier.fail_email = True
    assert aws_notifications.handler(batch, None, services=services) == {
        "batchItemFailures": [{"itemIdentifier": "m1"}]
    }
    assert services.notifier.outbox == []
    services.notifier.fail_email = False
    assert aws_notifications.handler(batch, None, services=services) == {"batchItemFailures": []}
    assert (
        services.notifier.outbox[0]["to"] == "u1@example.com"
        and order["orderId"] in services.notifier.outbox[0]["subject"]
    )
