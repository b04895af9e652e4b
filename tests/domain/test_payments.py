"""The payment port: the simulated processor (test cards), the Stripe adapter against
Stripe's own signing helper and a recorded response, and orders paid only from verified
events, once."""

from __future__ import annotations

import json

import pytest

from functions.adapters import payments_simulated as sim
from functions.adapters.stripe_payments import StripeProcessor
from functions.shop import payments, ports


@pytest.fixture
def placed(shop, customer) -> ports.Order:
    order = shop.order(customer, {"b2": 2})
    return shop.store.get_order(customer.user_id, order["orderId"])


def status(shop, order: ports.Order) -> str:
    return shop.store.get_order(order.user_id, order.order_id).status


def test_an_approved_card_pays_the_order_once_however_often_the_event_comes(shop, placed):
    processor = shop.services.payments
    payment = payments.start_payment(shop.services, placed)
    assert (payment.amount, payment.currency, payment.status) == (placed.total, "USD", ports.PAYMENT_PENDING)
    assert payments.start_payment(shop.services, placed) == payment, "one payment per order"
    assert processor.confirm(payment.payment_id, "4242 4242 4242 4242").status == ports.PAYMENT_SUCCEEDED
    assert status(shop, placed) == ports.PAID
    paid_events = [e for e in shop.notifier.events if e.type == "OrderStatusChanged"]
    assert len(paid_events) == 1
    payload, signature = processor.sent[-1]
    for _ in range(3):  # the processor redelivers
        assert payments.apply_event(shop.services, payload, signature) == "already-paid"
    assert len([e for e in shop.notifier.events if e.type == "OrderStatusChanged"]) == 1, "replay published again"
    assert sum("is paid" in m["subject"] for m in shop.notifier.outbox) == 1


@pytest.mark.parametrize(("card", "reason"), [(sim.DECLINE, "card_declined"), (sim.INSUFFICIENT, "insufficient_funds")])
def test_a_declined_card_leaves_the_order_unpaid_and_says_why(shop, placed, card, reason):
    payment = payments.start_payment(shop.services, placed)
    outcome = shop.services.payments.confirm(payment.payment_id, card)
    assert (outcome.status, outcome.decline_reason) == (ports.PAYMENT_DECLINED, reason)
    assert status(shop, placed) == ports.PLACED
    payload, signature = shop.services.payments.sent[-1]
    assert payments.apply_event(shop.services, payload, signature) == "declined"
    assert json.loads(payload)["data"]["object"]["last_payment_error"]["decline_code"] == reason


def test_a_card_that_needs_an_extra_step_pays_only_after_it(shop, placed):
    processor = shop.services.payments
    payment = payments.start_payment(shop.services, placed)
    assert processor.confirm(payment.payment_id, sim.ACTION).status == ports.PAYMENT_REQUIRES_ACTION
    assert status(shop, placed) == ports.PLACED and processor.sent == []
    processor.complete_action(payment.payment_id, approve=True)
    assert status(shop, placed) == ports.PAID


def test_a_failed_extra_step_is_a_decline(shop, placed):
    processor = shop.services.payments
    payment = payments.start_payment(shop.services, placed)
    processor.confirm(payment.payment_id, sim.ACTION)
    assert processor.complete_action(payment.payment_id, approve=False).decline_reason == "authentication_failed"
    assert status(shop, placed) == ports.PLACED


def _event(order: ports.Order, amount: int | None = None, kind="payment_intent.succeeded") -> bytes:
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": order.total if amount is None else amount,
        "currency": "usd",
        "metadata": {"orderId": order.order_id, "userId": order.user_id},
    }
    return json.dumps({"id": "evt_1", "object": "event", "type": kind, "data": {"object": intent}}).encode()


def test_only_a_verified_event_pays(shop, placed):
    processor = shop.services.payments
    payload = _event(placed)
    forged = sim.SimulatedProcessor(secret="whsec_other").sign(payload)
    old = processor.sign(payload, timestamp=int(processor.clock()) - sim.TOLERANCE_S - 1)
    altered = processor.sign(payload)
    for signature, body in ((forged, payload), (old, payload), ("", payload), ("t=x,v1=y", payload)):
        with pytest.raises(ports.PaymentSignatureError):
            payments.apply_event(shop.services, body, signature)
    with pytest.raises(ports.PaymentSignatureError):
        payments.apply_event(shop.services, payload.replace(b'"evt_1"', b'"evt_2"'), altered)
    assert status(shop, placed) == ports.PLACED
    assert payments.apply_event(shop.services, payload, processor.sign(payload)) == "paid"


def test_an_event_for_another_amount_does_not_pay(shop, placed):
    payload = _event(placed, amount=placed.total - 1)
    assert payments.apply_event(shop.services, payload, shop.services.payments.sign(payload)) == "mismatch"
    assert status(shop, placed) == ports.PLACED


def test_a_payment_for_a_cancelled_order_does_not_revive_it(shop, customer, placed):
    shop.ok("POST", f"/api/orders/{placed.order_id}/cancel", who=customer)
    payload = _event(placed)
    assert payments.apply_event(shop.services, payload, shop.services.payments.sign(payload)) == "ignored"
    assert status(shop, placed) == ports.CANCELLED


# --- Stripe ------------------------------------------------------------------------------

SECRET = "whsec_test_secret"


def stripe_client(body: dict):
    import stripe

    class Recorded(stripe.HTTPClient):
        name = "recorded"

        def __init__(self):
            super().__init__()
            self.requests: list[tuple[str, str, dict, str]] = []

        def request(self, method, url, headers, post_data=None, *, _usage=None):
            self.requests.append((method, url, dict(headers or {}), post_data or ""))
            return json.dumps(body), 200, {"request-id": "req_1"}

        def close(self):
            pass

    http = Recorded()
    return stripe.StripeClient("sk_test_123", http_client=http), http


RECORDED_INTENT = {  # the fields of a PaymentIntent creation response Stripe documents
    "id": "pi_3Q0test",
    "object": "payment_intent",
    "amount": 3998,
    "currency": "usd",
    "status": "requires_payment_method",
    "client_secret": "pi_3Q0test_secret_abc",
    "metadata": {"orderId": "o1", "userId": "u1"},
    "last_payment_error": None,
}


def test_stripe_creates_one_payment_intent_per_order(placed):
    client, http = stripe_client({**RECORDED_INTENT, "amount": placed.total})
    payment = StripeProcessor("sk_test_123", SECRET, client).create_payment(placed)
    assert payment == ports.Payment(
        "pi_3Q0test", placed.order_id, placed.total, "USD", ports.PAYMENT_PENDING, "pi_3Q0test_secret_abc", None
    )
    method, url, headers, body = http.requests[0]
    assert (method, url) == ("post", "https://api.stripe.com/v1/payment_intents"), (method, url)
    assert f"amount={placed.total}" in body and "currency=usd" in body, body
    assert f"metadata[orderId]={placed.order_id}" in body.replace("%5B", "[").replace("%5D", "]"), body
    assert headers.get("Idempotency-Key") == f"order-{placed.order_id}", headers


def test_stripe_webhooks_are_verified_with_stripes_own_signature(placed):
    import stripe

    processor = StripeProcessor("sk_test_123", SECRET, client=object())
    payload = _event(placed).decode()
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
    event = processor.verify_event(payload.encode(), header)
    assert event == ports.PaymentEvent(
        "evt_1", "payment.succeeded", "pi_1", placed.order_id, placed.user_id, placed.total, "USD"
    )
    for bad in (
        stripe.WebhookSignature.generate_signature_header(payload, "whsec_wrong"),
        stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp=1_000_000_000),
        "",
    ):
        with pytest.raises(ports.PaymentSignatureError):
            processor.verify_event(payload.encode(), bad)
    other = json.dumps({"id": "evt_2", "object": "event", "type": "charge.refunded", "data": {"object": {}}})
    assert (
        processor.verify_event(other.encode(), stripe.WebhookSignature.generate_signature_header(other, SECRET)) is None
    )


# --- through the API ----------------------------------------------------------------------


def test_paying_with_test_cards_through_the_api(shop, customer, other, placed):
    path = f"/api/orders/{placed.order_id}/payment"
    started = shop.ok("POST", path, {}, who=customer)
    assert (started["status"], started["orderStatus"], started["amount"]) == (
        "requires_payment_method",
        "PLACED",
        placed.total,
    ), started
    declined = shop.ok("POST", path, {"testCard": sim.DECLINE}, who=customer)
    assert (declined["status"], declined["declineReason"], declined["orderStatus"]) == (
        "declined",
        "card_declined",
        "PLACED",
    )
    waiting = shop.ok("POST", path, {"testCard": sim.ACTION}, who=customer)
    assert (waiting["status"], waiting["orderStatus"]) == ("requires_action", "PLACED")
    done = shop.ok("POST", path, {"completeAction": True}, who=customer)
    assert (done["status"], done["orderStatus"]) == ("succeeded", "PAID"), done
    assert done["paymentId"] == started["paymentId"], "one payment per order"
    shop.fails("POST", path, {"testCard": sim.APPROVE}, who=customer, status=409, code="NOT_PAYABLE")
    shop.fails("POST", path, {}, who=other, status=404)
    shop.fails("POST", path, {"testCard": "4242"}, who=customer, status=422)


def test_the_webhook_route_verifies_and_is_idempotent(shop, placed):
    payload = _event(placed)
    headers = {"stripe-signature": shop.services.payments.sign(payload)}
    assert shop.ok("POST", "/api/payments/webhook", raw=payload, headers=headers) == {"status": "paid"}
    assert shop.ok("POST", "/api/payments/webhook", raw=payload, headers=headers) == {"status": "already-paid"}
    bad = {"stripe-signature": sim.SimulatedProcessor(secret="whsec_x").sign(payload)}
    err = shop.fails("POST", "/api/payments/webhook", raw=payload, headers=bad, status=400, code="BAD_SIGNATURE")
    assert "signature" in err["message"]


def test_without_a_processor_payments_are_a_503_not_a_500(shop, customer, placed):
    from functions.shop.api import handle
    from functions.shop.http import Request

    shop.services.payments = None
    r = handle(Request("POST", f"/api/orders/{placed.order_id}/payment", body=b"{}", principal=customer), shop.services)
    assert r.status == 503 and r.body["error"]["code"] == "PAYMENTS_UNAVAILABLE", r.body
    assert handle(Request("POST", "/api/payments/webhook", body=b"{}"), shop.services).status == 503
