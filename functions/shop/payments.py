"""Paying for orders: an order becomes PAID only from a payment event whose signature the
processor's adapter verified, exactly once however often the event is delivered.

The processor (functions/adapters/payments_simulated.py locally, stripe_payments.py in
production) creates one payment per order and announces its outcome as a signed event.
"""

from __future__ import annotations

import logging

from . import ports
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
            updated = services.store.transition_order(order, ports.PAID, restock=False)
        except ports.StaleState:  # a concurrent delivery or a cancellation won: look again
            order = services.store.get_order(order.user_id, order.order_id) or order
            continue
        publish(services, "OrderStatusChanged", updated)
        return "paid"
    raise ports.Unavailable(f"order {order.order_id} kept changing while recording its payment; retry")
