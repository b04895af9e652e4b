"""Paying for orders: an order becomes PAID only from a payment event whose signature the
processor's adapter verified, exactly once however often the event is delivered.

The processor (functions/adapters/payments_simulated.py locally, stripe_payments.py in
production) creates one payment per order and announces its outcome as a signed event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, cast

from . import checkout, ports
from .errors import PaymentsUnavailable, Refused
from .models import PaymentResponse, PayRequest, StatusResponse
from .orders import publish
from .routes import CUSTOMER, PUBLIC, route
from .services import Services

if TYPE_CHECKING:
    from .api import Ctx

PaymentStatus = Literal["requires_payment_method", "requires_action", "succeeded", "declined"]

log = logging.getLogger("shop.payments")

PAID_OR_LATER = (ports.PAID, ports.SHIPPED, ports.DELIVERED)
_ATTEMPTS = 3


def _processor(services: Services) -> ports.PaymentProcessor:
    if services.payments is None:
        raise PaymentsUnavailable()
    return services.payments


def start_payment(services: Services, order: ports.Order) -> ports.Payment:
    """The payment the customer confirms in the browser (the same one on every call)."""
    if order.status != ports.PLACED:
        raise ValueError(f"an order that is {order.status} cannot be paid")
    return _processor(services).create_payment(order)


def apply_event(services: Services, payload: bytes, signature: str) -> str:
    """Act on one webhook delivery. Raises PaymentSignatureError when it does not verify
    (nothing read or written). Returns what happened: "paid", "already-paid", "declined",
    "mismatch" (amount or currency differ from the order: not paid), or "ignored"."""
    event = _processor(services).verify_event(payload, signature)
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


def _mark_paid(services: Services, order: ports.Order, event: ports.PaymentEvent) -> str:
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


def pay(services: Services, user_id: str, order_id: str, request: PayRequest) -> PaymentResponse:
    """The order's payment (one per order). With the simulated processor, `testCard` pays
    at once and `completeAction` answers its extra confirmation step; the outcome reaches
    the order through the processor's signed event, as Stripe's webhook would."""
    processor = _processor(services)
    order = services.store.get_order(user_id, order_id)
    if order is None:
        raise ports.NotFound(f"order {order_id} not found")
    if order.status != ports.PLACED:
        raise Refused("NOT_PAYABLE", f"an order that is {order.status} is not waiting for a payment")
    payment = start_payment(services, order)
    if request.test_card is not None or request.complete_action is not None:
        payment = _confirm_in_api(processor, payment, request)
    now = services.store.get_order(order.user_id, order.order_id) or order
    return PaymentResponse(
        payment_id=payment.payment_id,
        order_id=order.order_id,
        amount=payment.amount,
        currency=payment.currency,
        status=cast(PaymentStatus, payment.status),
        client_secret=payment.client_secret,
        decline_reason=payment.decline_reason,
        order_status=now.status,
    )


def _confirm_in_api(processor: ports.PaymentProcessor, payment: ports.Payment, request: PayRequest) -> ports.Payment:
    confirmation = processor.in_api_confirmation
    if confirmation is None:
        raise ValueError("testCard and completeAction are for the simulated processor; confirm with Stripe.js")
    try:
        if request.complete_action is not None:
            return confirmation.complete_action(payment.payment_id, approve=request.complete_action)
        card = request.test_card
        return confirmation.confirm(payment.payment_id, card) if card is not None else payment
    except ValueError as exc:
        raise Refused("PAYMENT_STATE", str(exc)) from exc


def webhook(services: Services, payload: bytes, signature: str) -> StatusResponse:
    _processor(services)  # no processor: 503 before the event is even read
    return StatusResponse(status=apply_event(services, payload, signature))


# --- HTTP: each route's request -> the operation's arguments --------------------------


@route(
    "POST",
    "/api/orders/{orderId}/payment",
    "payMyOrder",
    CUSTOMER,
    "orders",
    "Start (or, with the simulated processor, make) the payment of my order",
    request=PayRequest,
    response=PaymentResponse,
)
def http_pay(ctx: Ctx) -> PaymentResponse:
    return pay(ctx.services, ctx.user.user_id, ctx.param("orderId"), ctx.body)


@route(
    "POST",
    "/api/payments/webhook",
    "paymentWebhook",
    PUBLIC,
    "orders",
    "The payment processor's events (Stripe-Signature verified); the only way an order becomes PAID",
    response=StatusResponse,
)
def http_webhook(ctx: Ctx) -> StatusResponse:
    return webhook(ctx.services, ctx.request.body or b"", ctx.request.headers.get("stripe-signature", ""))
