"""handle_order_event's dedupe decisions (functions/shop/notifications.py) on the memory
adapter: what a copy does when another delivery holds the claim, and why a bookkeeping
failure after the e-mail never sends it again."""

from __future__ import annotations

import pytest

from functions.adapters.memory import memory_services
from functions.shop.notifications import EventBusy, event_id, event_to_json, handle_order_event
from functions.shop.ports import OrderEvent, OrderLine
from functions.shop.processed_events import CLAIMED

EVENT = OrderEvent("OrderPlaced", "o1", "u1", "PLACED", 100, "USD", (OrderLine("b1", "B", 100, 1),), "a@example.com")
BODY = event_to_json(EVENT)


def test_the_event_id_is_the_same_for_every_copy_and_differs_per_status():
    copy = OrderEvent(**{**EVENT.__dict__, "occurred_at": "later", "email": None})
    assert event_id(copy) == event_id(EVENT) == "o1:OrderPlaced:PLACED"
    paid = OrderEvent(**{**EVENT.__dict__, "type": "OrderStatusChanged", "status": "PAID"})
    assert event_id(paid) != event_id(EVENT)


def test_a_copy_with_a_message_id_is_acknowledged_while_another_delivery_holds_the_claim():
    services = memory_services(deliver=False)
    assert services.processed_events.claim(event_id(EVENT), "m-holder") == CLAIMED
    handle_order_event(BODY, services, delivery_id="m-copy")  # acknowledged: the holder's message remains
    assert services.notifier.outbox == []
    handle_order_event(BODY, services, delivery_id="m-holder")  # the holder's redelivery sends
    assert len(services.notifier.outbox) == 1


def test_a_copy_without_a_message_id_is_retried_while_another_delivery_holds_the_claim():
    services = memory_services(deliver=False)
    services.processed_events.claim(event_id(EVENT), "m-holder")
    with pytest.raises(EventBusy, match="o1:OrderPlaced:PLACED"):
        handle_order_event(BODY, services)
    assert services.notifier.outbox == []


def test_a_failure_to_record_done_is_not_a_failed_delivery(monkeypatch, caplog):
    services = memory_services(deliver=False)

    def broken(*_):
        raise RuntimeError("table unavailable (injected)")

    monkeypatch.setattr(services.processed_events, "done", broken)
    handle_order_event(BODY, services, delivery_id="m-1")  # no exception: a retry would e-mail again
    assert len(services.notifier.outbox) == 1
    assert "sent but not recorded as processed" in caplog.text
    handle_order_event(BODY, services, delivery_id="m-2")  # a copy meanwhile: the claim still holds it off
    assert len(services.notifier.outbox) == 1


def test_a_failed_release_still_fails_the_delivery_with_the_send_error(monkeypatch):
    services = memory_services(deliver=False)
    services.notifier.fail_email = True

    def broken(*_):
        raise RuntimeError("table unavailable (injected)")

    monkeypatch.setattr(services.processed_events, "release", broken)
    with pytest.raises(RuntimeError, match="email provider unavailable"):
        handle_order_event(BODY, services, delivery_id="m-1")
    services.notifier.fail_email = False
    handle_order_event(BODY, services, delivery_id="m-1")  # the redelivery takes its own claim back
    assert len(services.notifier.outbox) == 1


def test_a_claim_failure_fails_the_delivery_before_any_email(monkeypatch):
    services = memory_services(deliver=False)

    def broken(*_, **__):
        raise RuntimeError("table unavailable (injected)")

    monkeypatch.setattr(services.processed_events, "claim", broken)
    with pytest.raises(RuntimeError, match="table unavailable"):
        handle_order_event(BODY, services, delivery_id="m-1")
    assert services.notifier.outbox == []
