"""Stripe-shaped payment events, shared by the simulated processor and the Stripe adapter.

Both speak Stripe's webhook format (event JSON with data.object a PaymentIntent whose
metadata names the order and user; a `Stripe-Signature` header `t=<unix>,v1=<hex hmac>`),
so the shop's webhook path is the same in `make dev` and in production. Stdlib only.
"""

from __future__ import annotations

import json
from typing import Any

from functions.shop.ports import (
    PAYMENT_DECLINED,
    PAYMENT_PENDING,
    PAYMENT_REQUIRES_ACTION,
    PAYMENT_SUCCEEDED,
    PaymentEvent,
    PaymentSignatureError,
)

# Stripe event type -> the shop's
EVENT_TYPES = {"payment_intent.succeeded": "payment.succeeded", "payment_intent.payment_failed": "payment.failed"}
# Stripe PaymentIntent status -> the shop's
STATUSES = {
    "succeeded": PAYMENT_SUCCEEDED,
    "requires_action": PAYMENT_REQUIRES_ACTION,
    "requires_payment_method": PAYMENT_PENDING,
    "requires_confirmation": PAYMENT_PENDING,
    "processing": PAYMENT_PENDING,
    "canceled": PAYMENT_DECLINED,
}


def event_from(doc: Any) -> PaymentEvent | None:
    """The shop's event from a verified Stripe event document; None for other types."""
    try:
        kind = EVENT_TYPES.get(doc["type"])
        if kind is None:
            return None
        intent = doc["data"]["object"]
        meta = intent.get("metadata") or {}
        error = intent.get("last_payment_error") or {}
        amount = intent["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError("amount")
        return PaymentEvent(
            event_id=str(doc["id"]),
            type=kind,
            payment_id=str(intent["id"]),
            order_id=str(meta["orderId"]),
            user_id=str(meta["userId"]),
            amount=amount,
            currency=str(intent["currency"]).upper(),
            reason=(error.get("decline_code") or error.get("code") or "declined") if kind == "payment.failed" else None,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise PaymentSignatureError(f"payment event without the expected fields: {exc}") from exc


def parse(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise PaymentSignatureError("payment event is not JSON") from exc
