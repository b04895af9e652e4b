"""Payments through Stripe: a PaymentIntent per order, webhooks verified by Stripe's own
`Webhook.construct_event` (signature and timestamp tolerance).

The `stripe` package is imported lazily: only functions configured for Stripe load it.
"""

from __future__ import annotations

from typing import Any

from functions.shop.ports import Order, Payment, PaymentEvent, PaymentSignatureError

from ._payments import STATUSES, event_from


class StripeProcessor:
    def __init__(self, api_key: str, webhook_secret: str, client: Any = None) -> None:
        """`client`: a stripe.StripeClient (tests pass one with a recorded HTTP client)."""
        self._api_key = api_key
        self._secret = webhook_secret
        self._client = client

    in_api_confirmation = None  # the browser confirms with Stripe.js

    @property
    def client(self) -> Any:
        if self._client is None:
            import stripe

            self._client = stripe.StripeClient(self._api_key, max_network_retries=2)
        return self._client

    def create_payment(self, order: Order) -> Payment:
        created = self.client.v1.payment_intents.create(
            params={
                "amount": order.total,
                "currency": order.currency.lower(),
                "metadata": {"orderId": order.order_id, "userId": order.user_id},
                "automatic_payment_methods": {"enabled": True},
            },
            # one PaymentIntent per order, however often the customer asks to pay
            options={"idempotency_key": f"order-{order.order_id}"},
        )
        intent = created.to_dict()
        error = intent.get("last_payment_error") or {}
        return Payment(
            payment_id=intent["id"],
            order_id=order.order_id,
            amount=int(intent["amount"]),
            currency=str(intent["currency"]).upper(),
            status=STATUSES.get(intent["status"], intent["status"]),
            client_secret=intent.get("client_secret"),
            decline_reason=error.get("decline_code") or error.get("code") if error else None,
        )

    def verify_event(self, payload: bytes, signature: str) -> PaymentEvent | None:
        import stripe

        try:
            event = stripe.Webhook.construct_event(payload, signature, self._secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise PaymentSignatureError(str(exc)) from exc
        return event_from(event.to_dict())
