"""The order-event wire format and the e-mail consumer."""

from __future__ import annotations

import json

import pytest

from functions.adapters.memory import memory_services
from functions.shop.notifications import compose, event_from_json, event_to_json, handle_order_event, money
from functions.shop.ports import OrderEvent, OrderLine
from functions.shop.push import Device

EVENT = OrderEvent(
    type="OrderPlaced",
    order_id="0190abc",
    user_id="u1",
    status="PLACED",
    total=123456,
    currency="USD",
    lines=(OrderLine("b1", "Book one", 4500, 2), OrderLine("b2", "Pen", 114456, 1)),
    email="ada@example.com",
    occurred_at="2026-11-25T04:00:00.000Z",
)


def test_the_wire_format_round_trips_and_is_camel_case():
    raw = event_to_json(EVENT)
    assert set(json.loads(raw)) == {
        "type",
        "orderId",
        "userId",
        "status",
        "total",
        "currency",
        "email",
        "occurredAt",
        "lines",
        "shippingAddress",
    }
    assert event_from_json(raw) == EVENT
    assert event_from_json(raw.encode()) == EVENT
    assert event_from_json(json.loads(raw)) == EVENT


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.pop("orderId"), "orderId"),
        (lambda d: d.update(total="12"), "total"),
        (lambda d: d.update(total=1.5), "total"),
        (lambda d: d.update(total=True), "total"),
        (lambda d: d.update(lines="x"), "lines"),
        (lambda d: d["lines"][0].update(quantity=-1), "quantity"),
        (lambda d: d.update(type=""), "type"),
    ],
    ids=["missing", "string-int", "float", "bool", "lines-not-list", "negative", "empty-type"],
)
def test_malformed_events_raise_value_errors_that_say_why(mutate, fragment):
    data = json.loads(event_to_json(EVENT))
    mutate(data)
    with pytest.raises(ValueError, match=fragment):
        event_from_json(data)


@pytest.mark.parametrize("raw", ["not json", "[]", "null", b"\xff"])
def test_undecodable_events_raise_value_errors(raw):
    with pytest.raises(ValueError, match="malformed order event"):
        event_from_json(raw)


def test_money_is_formatted_from_integer_minor_units():
    assert money(0, "USD") == "0.00 USD"
    assert money(5, "EUR") == "0.05 EUR"
    assert money(123456789, "USD") == "1,234,567.89 USD"
    assert money(1500, "JPY") == "1,500 JPY"


def test_the_email_is_a_plain_text_summary():
    subject, text = compose(EVENT)
    assert subject == "Your order 0190abc was placed"
    assert "2 x Book one @ 45.00 USD = 90.00 USD" in text
    assert "1 x Pen @ 1,144.56 USD = 1,144.56 USD" in text
    assert "Total: 1,234.56 USD" in text


@pytest.mark.parametrize(
    ("type_", "status", "words"),
    [
        ("OrderStatusChanged", "SHIPPED", "has shipped"),
        ("OrderStatusChanged", "PAID", "is paid"),
        ("OrderCancelled", "CANCELLED", "was cancelled"),
        ("OrderStatusChanged", "ON_HOLD", "is now ON_HOLD"),
    ],
)
def test_subjects_follow_the_event(type_, status, words):
    subject, _ = compose(OrderEvent(type_, "o1", "u1", status, 0, "USD", ()))
    assert subject == f"Your order o1 {words}"


def test_the_consumer_sends_to_the_event_address_or_looks_it_up():
    services = memory_services(deliver=False)
    handle_order_event(event_to_json(EVENT), services)
    user_id = services.identity.sign_up("grace@example.com", "password123")
    anonymous = OrderEvent("OrderPlaced", "o2", user_id, "PLACED", 100, "USD", (OrderLine("b1", "B", 100, 1),))
    handle_order_event(event_to_json(anonymous), services)
    assert [m["to"] for m in services.notifier.outbox] == ["ada@example.com", "grace@example.com"]
    assert all(set(m) == {"to", "subject", "text"} for m in services.notifier.outbox)


def test_an_unknown_user_is_skipped_not_retried_forever():
    services = memory_services(deliver=False)
    ghost = OrderEvent("OrderPlaced", "o3", "nobody", "PLACED", 100, "USD", ())
    handle_order_event(event_to_json(ghost), services)  # no exception: a retry cannot find an address either
    assert services.notifier.outbox == []


def test_a_send_failure_raises_so_the_queue_retries():
    services = memory_services(deliver=False)
    services.notifier.fail_email = True
    with pytest.raises(RuntimeError):
        handle_order_event(event_to_json(EVENT), services)
    with pytest.raises(ValueError):
        handle_order_event("{}", services)


class RecordingEmails:
    def __init__(self) -> None:
        self.emails: list[str] = []

    def send_email(self, to: str, subject: str, text: str) -> None:
        self.emails.append(to)

    def publish_order_event(self, event: OrderEvent) -> None:
        raise AssertionError("the consumer never publishes")


def _with_devices(*tokens: str):
    services = memory_services(deliver=False)
    services.notifier = RecordingEmails()
    for i, token in enumerate(tokens):
        services.store.put_device("u1", Device(token, "android", f"2026-01-01T00:00:0{i}.000Z"))
    return services


def test_the_customer_devices_get_a_push_after_the_email():
    services = _with_devices("tok-a", "tok-b")
    handle_order_event(event_to_json(EVENT), services)
    assert services.notifier.emails == ["ada@example.com"]
    subject, _ = compose(EVENT)
    sent = services.push.sent
    assert [m["token"] for m in sent] == ["tok-b", "tok-a"], "every device, newest first"
    assert sent[0]["title"] == subject and sent[0]["body"] == "Order 0190abc: placed"
    assert sent[0]["data"] == {"type": "OrderPlaced", "orderId": "0190abc", "status": "PLACED", "userId": "u1"}


def test_tokens_the_push_service_refuses_are_removed_from_the_store():
    services = _with_devices("gone", "alive")
    services.push.invalid.add("gone")
    handle_order_event(event_to_json(EVENT), services)
    assert [d.token for d in services.store.list_devices("u1")] == ["alive"], "the refused token was not pruned"
    assert [m["token"] for m in services.push.sent] == ["alive"]


def test_a_push_failure_is_logged_not_raised_so_the_email_is_not_sent_twice(caplog):
    services = _with_devices("tok-a")
    services.push.fail = True
    handle_order_event(event_to_json(EVENT), services)  # no exception: the delivery is done
    assert services.notifier.emails == ["ada@example.com"]
    assert "push to user u1 failed: push service unavailable (injected)" in caplog.text
    assert [d.token for d in services.store.list_devices("u1")] == ["tok-a"], "a failed push prunes nothing"


def test_without_a_push_sender_or_devices_only_the_email_goes():
    services = _with_devices()
    handle_order_event(event_to_json(EVENT), services)
    assert services.push.sent == [] and services.notifier.emails == ["ada@example.com"]
    services = _with_devices("tok-a")
    services.push = None
    handle_order_event(event_to_json(EVENT), services)
    assert services.notifier.emails == ["ada@example.com"]


def test_the_shipping_address_travels_with_the_event_and_is_checked():
    from dataclasses import replace

    from functions.shop.ports import Address

    event = replace(EVENT, shipping_address=Address("Ada", "1 St", "Austin", "73301", "US", region="TX", phone="+1 5"))
    assert event_from_json(event_to_json(event)) == event
    bad = json.loads(event_to_json(event))
    bad["shippingAddress"]["city"] = 7
    with pytest.raises(ValueError, match="shippingAddress"):
        event_from_json(bad)
    assert "  Austin, TX 73301\n  United States" in compose(event)[1]
