"""Paying for orders: an order becomes PAID only from a payment event whose signature the
processor's adapter verified, exactly once however often the event is delivered.

The processor (functions/adapters/payments_simulated.py locally, stripe_payments.py in
production) creates one payment per order and announces its outcome as a signed event.
"""

from __future__ import annotations

import logging

from . import checkout, ports
from .http import error
from .models import PaymentResponse, StatusResponse
from .orders import publish

log = logging.getLogger("shop.payments")

PAID_OR_LATER = (ports.PAID, ports.SHIPPED, ports.DELIVERED)
_ATTEMPTS = 3


def start_payment(services, order: ports.Order) -> ports.Payment:
    """The payment the customer confirms in the browser (the same one on every call)."""
    if order.status != ports.PLACED:
        raise ValueError(f"an order that is {order.status} cannot be paid")
    return services.payments.create_payment(order)


def apply_event(services, payload: bytes, signature: str) -> str:
    """Act on one webhook delivery. Raises PaymentSignatureError when it does not verify
    (nothing read or written). Returns what happened: "paid", "already-paid", "declined",
    "mismatch" (amount or currency differ from the order: not paid), or "ignored"."""
    event = services.payments.verify_event(payload, signature)
    if event is None:
        return "ignored"
    order = services.store.get_order(event.user_id, event.order_id)
    if order is None:
        log.warning("payment %s names unknown order %s", event.payment_id, event.order_id)
        return "ignored"
    if event.type == "payment.failed":
        log.info("payment %s for order %s declined: %s", event.payment_id, order.order_id, event.reason)
        return "declined"
    if (event.amount, event.currency) != (order.total, order.currency):
        log.error(
            "payment %s of %s %s does not match order %s (%s %s): not marked paid",
            event.payment_id,
            event.amount,
            event.currency,
            order.order_id,
            order.total,
            order.currency,
        )
        return "mismatch"
    return _mark_paid(services, order, event)


def _mark_paid(services, order: ports.Order, event: ports.PaymentEvent) -> str:
    for _ in range(_ATTEMPTS):
        if order.status in PAID_OR_LATER:
            return "already-paid"  # a replayed or duplicate delivery
        if order.status != ports.PLACED:
            log.error("payment %s arrived for %s order %s: refund it", event.payment_id, order.status, order.order_id)
            return "ignored"
        try:
            updated = checkout.transition_order(services.store, order, ports.PAID, restock=False)
        except ports.StaleState:  # a concurrent delivery or a cancellation won: look again
            order = services.store.get_order(order.user_id, order.order_id) or order
            continue
        publish(services, "OrderStatusChanged", updated)
        return "paid"
    raise ports.Unavailable(f"order {order.order_id} kept changing while recording its payment; retry")


def _unavailable():
    return error(503, "PAYMENTS_UNAVAILABLE", "payments are not configured on this deployment")


def pay(ctx):
    """The order's payment (one per order). With the simulated processor, `testCard` pays
    at once and `completeAction` answers its extra confirmation step; the outcome reaches
    the order through the processor's signed event, as Stripe's webhook would."""
    services = ctx.services
    processor = services.payments
    if processor is None:
        return _unavailable()
    order = services.store.get_order(ctx.principal.user_id, ctx.param("orderId"))
    if order is None:
        raise ports.NotFound(f"order {ctx.param('orderId')} not found")
    if order.status != ports.PLACED:
        return error(409, "NOT_PAYABLE", f"an order that is {order.status} is not waiting for a payment")
    payment = start_payment(services, order)
    body = ctx.body
    if body.test_card is not None or body.complete_action is not None:
        if not hasattr(processor, "confirm"):
            raise ValueError("testCard and completeAction are for the simulated processor; confirm with Stripe.js")
        try:
            if body.complete_action is not None:
                payment = processor.complete_action(payment.payment_id, approve=body.complete_action)
            else:
                payment = processor.confirm(payment.payment_id, body.test_card)
        except ValueError as exc:
            return error(409, "PAYMENT_STATE", str(exc))
    now = services.store.get_order(order.user_id, order.order_id) or order
    return PaymentResponse(
        payment_id=payment.payment_id,
        order_id=order.order_id,
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
        client_secret=payment.client_secret,
        decline_reason=payment.decline_reason,
        order_status=now.status,
    )


def webhook(ctx):
    if ctx.services.payments is None:
        return _unavailable()
    signature = ctx.request.headers.get("stripe-signature", "")
    try:
        outcome = apply_event(ctx.services, ctx.request.body or b"", signature)
    except ports.PaymentSignatureError as exc:
        return error(400, "BAD_SIGNATURE", f"payment event refused: {exc}")
    return StatusResponse(status=outcome)
