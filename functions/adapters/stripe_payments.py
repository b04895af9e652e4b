"""Payments through Stripe: a PaymentIntent per order, webhooks verified by Stripe's own
`Webhook.construct_event` (signature and timestamp tolerance).

The `stripe` package is imported lazily: only functions configured for Stripe load it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from functions.shop import datamodel as dm
from functions.shop.ports import Order, Payment, PaymentEvent, PaymentSignatureError

from ._payments import STATUSES, event_from

# (secret key, webhook signing secret)
Credentials = tuple[str, str]


def new_client(api_key: str, api_base: str | None = None) -> Any:
    """A stripe.StripeClient for `api_key`, aimed at `api_base` when given (a test double)."""
    import stripe

    return stripe.StripeClient(api_key, base_addresses={"api": api_base} if api_base else {}, max_network_retries=2)


class StripeProcessor:
    def __init__(self, api_key: str, webhook_secret: str, client: Any = None) -> None:
        """`client`: a stripe.StripeClient (tests pass one with a recorded HTTP client)."""
        self._read: Callable[[], Credentials] = lambda: (api_key, webhook_secret)
        self._client = client

    @classmethod
    def reading(cls, read: Callable[[], Credentials], client: Any = None) -> StripeProcessor:
        """A processor whose keys `read` fetches on the first payment call (once): a function
        that reads them from a secret store pays for it only when it takes a payment."""
        processor = cls("", "", client)
        processor._read = functools.cache(read)
        return processor

    in_api_confirmation = None  # the browser confirms with Stripe.js

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = new_client(self._read()[0])
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
            event = stripe.Webhook.construct_event(payload, signature, self._read()[1])
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise PaymentSignatureError(str(exc)) from exc
        return event_from(event.to_dict())


def from_settings(settings: Mapping[str, str]) -> StripeProcessor | None:
    """Stripe with the keys the function's settings hold (Azure: Key Vault references, GCP:
    Secret Manager mounts, both resolved by the platform); None when the stack takes no cards."""
    key = settings.get(dm.PaymentSettingNames.SECRET_KEY, "")
    signing = settings.get(dm.PaymentSettingNames.WEBHOOK_SECRET, "")
    if not key or not signing:
        return None
    return StripeProcessor(key, signing)
