"""A local payment processor that behaves like a card processor's test mode (Stripe's).

The default of the memory services and `make dev`: no account, no network. Test cards
(Stripe's own test numbers, so the storefront's hints hold on both):

    4242 4242 4242 4242   approved
    4000 0000 0000 0002   declined (card_declined)
    4000 0000 0000 9995   declined (insufficient_funds)
    4000 0025 0000 3155   needs an extra confirmation step (3-D Secure), then approved
                          with complete_action(approve=True) or declined with approve=False

Any other number is declined (card_declined), as test mode refuses real cards.
Outcomes are announced as Stripe-shaped events signed with Stripe's scheme
(HMAC-SHA256 of "<t>.<payload>", header "t=<t>,v1=<hex>"), handed to `deliver(payload,
signature)`: the shop verifies them exactly as it verifies Stripe's webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable

from functions.shop.ports import (
    PAYMENT_DECLINED,
    PAYMENT_PENDING,
    PAYMENT_REQUIRES_ACTION,
    PAYMENT_SUCCEEDED,
    Order,
    Payment,
    PaymentEvent,
    PaymentSignatureError,
)

from ._payments import event_from, parse

APPROVE, DECLINE, INSUFFICIENT, ACTION = "4242424242424242", "4000000000000002", "4000000000009995", "4000002500003155"
TOLERANCE_S = 300  # Stripe's default: older signatures are replays


class SimulatedProcessor:
    def __init__(
        self,
        secret: str | None = None,
        deliver: Callable[[bytes, str], object] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret or "whsec_sim_" + os.urandom(16).hex()
        self.deliver = deliver
        self.clock = clock
        self._lock = threading.Lock()
        self._payments: dict[str, tuple[Payment, str]] = {}  # payment id -> (payment, user id)
        self._by_order: dict[str, str] = {}
        self.sent: list[tuple[bytes, str]] = []  # every event delivered (payload, signature)

    @property
    def in_api_confirmation(self) -> SimulatedProcessor:
        return self  # test cards are confirmed through the API: there is no browser script

    def create_payment(self, order: Order) -> Payment:
        with self._lock:
            known = self._by_order.get(order.order_id)
            if known is not None:
                return self._payments[known][0]
            pid = "pi_sim_" + os.urandom(8).hex()
            payment = Payment(pid, order.order_id, order.total, order.currency, PAYMENT_PENDING, f"{pid}_secret_sim")
            self._payments[pid] = (payment, order.user_id)
            self._by_order[order.order_id] = pid
            return payment

    def confirm(self, payment_id: str, card_number: str) -> Payment:
        """What the browser does with the client secret: pay with a (test) card."""
        card = "".join(ch for ch in card_number if ch.isdigit())
        if card == APPROVE:
            return self._settle(payment_id, PAYMENT_SUCCEEDED, None)
        if card == ACTION:
            return self._update(payment_id, PAYMENT_REQUIRES_ACTION, None)
        return self._settle(
            payment_id, PAYMENT_DECLINED, "insufficient_funds" if card == INSUFFICIENT else "card_declined"
        )

    def complete_action(self, payment_id: str, approve: bool = True) -> Payment:
        """The customer passes (or fails) the extra confirmation step."""
        if self._payments[payment_id][0].status != PAYMENT_REQUIRES_ACTION:
            raise ValueError(f"payment {payment_id} is not waiting for a confirmation step")
        if approve:
            return self._settle(payment_id, PAYMENT_SUCCEEDED, None)
        return self._settle(payment_id, PAYMENT_DECLINED, "authentication_failed")

    def _update(self, payment_id: str, status: str, reason: str | None) -> Payment:
        with self._lock:
            payment, user = self._payments[payment_id]
            if payment.status == PAYMENT_SUCCEEDED:
                raise ValueError(f"payment {payment_id} already succeeded")
            updated = Payment(**{**payment.__dict__, "status": status, "decline_reason": reason})
            self._payments[payment_id] = (updated, user)
            return updated

    def _settle(self, payment_id: str, status: str, reason: str | None) -> Payment:
        payment = self._update(payment_id, status, reason)
        user = self._payments[payment_id][1]
        intent = {
            "id": payment.payment_id,
            "object": "payment_intent",
            "amount": payment.amount,
            "currency": payment.currency.lower(),
            "status": "succeeded" if status == PAYMENT_SUCCEEDED else "requires_payment_method",
            "metadata": {"orderId": payment.order_id, "userId": user},
            "last_payment_error": {"code": "card_declined", "decline_code": reason} if reason else None,
        }
        kind = "payment_intent.succeeded" if status == PAYMENT_SUCCEEDED else "payment_intent.payment_failed"
        event = {"id": "evt_sim_" + os.urandom(8).hex(), "object": "event", "type": kind, "data": {"object": intent}}
        payload = json.dumps(event, separators=(",", ":")).encode()
        signature = self.sign(payload)
        self.sent.append((payload, signature))
        if self.deliver is not None:
            self.deliver(payload, signature)
        return payment

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        t = int(self.clock()) if timestamp is None else timestamp
        mac = hmac.new(self.secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
        return f"t={t},v1={mac}"

    def verify_event(self, payload: bytes, signature: str) -> PaymentEvent | None:
        parts = [p.split("=", 1) for p in (signature or "").split(",") if "=" in p]
        stamps = [v for k, v in parts if k == "t"]
        macs = [v for k, v in parts if k == "v1"]
        if len(stamps) != 1 or not stamps[0].isdigit() or not macs:
            raise PaymentSignatureError("no valid signature header")
        t = int(stamps[0])
        if abs(self.clock() - t) > TOLERANCE_S:
            raise PaymentSignatureError("signature timestamp outside the tolerance (a replay?)")
        expected = hmac.new(self.secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, m) for m in macs):
            raise PaymentSignatureError("signature does not match the payload")
        return event_from(parse(payload))
