"""Optional real Stripe test mode for `make dev`, for a developer with internet access.

    SHOP_STRIPE_SECRET_KEY=sk_test_...        the API key the functions create PaymentIntents with
    SHOP_STRIPE_WEBHOOK_SECRET=whsec_...      what `stripe listen` prints: webhooks are verified with it
    SHOP_STRIPE_PUBLISHABLE_KEY=pk_test_...   the storefront's key (config.json), for Stripe.js
    SHOP_STRIPE_API_BASE=http://127.0.0.1:N   optional: another API base (a test double)

All three keys or none: none keeps the simulated processor. Stripe's API is reached over
HTTPS by the `stripe` library, not through botocore, so the local IAM enforcement
(iam_policy.py) sees no new call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from functions.adapters.stripe_payments import StripeProcessor, new_client

ENV_SECRET_KEY = "SHOP_STRIPE_SECRET_KEY"
ENV_WEBHOOK_SECRET = "SHOP_STRIPE_WEBHOOK_SECRET"
ENV_PUBLISHABLE_KEY = "SHOP_STRIPE_PUBLISHABLE_KEY"
ENV_API_BASE = "SHOP_STRIPE_API_BASE"
_REQUIRED = (ENV_SECRET_KEY, ENV_WEBHOOK_SECRET, ENV_PUBLISHABLE_KEY)


@dataclass(frozen=True)
class StripeSettings:
    secret_key: str
    webhook_secret: str
    publishable_key: str
    api_base: str | None = None  # None: Stripe's own API

    def __repr__(self) -> str:  # never print the secrets
        return f"StripeSettings(publishable_key={self.publishable_key!r}, api_base={self.api_base!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> StripeSettings | None:
        """The settings the environment gives; None when it names no Stripe key.
        Raises ValueError when only some are set (a half-configured shop would take orders
        it cannot be paid for)."""
        present = {name: env.get(name, "").strip() for name in _REQUIRED}
        if not any(present.values()):
            return None
        missing = [name for name, value in present.items() if not value]
        if missing:
            raise ValueError(f"Stripe test mode needs {', '.join(_REQUIRED)}; missing: {', '.join(missing)}")
        return cls(
            secret_key=present[ENV_SECRET_KEY],
            webhook_secret=present[ENV_WEBHOOK_SECRET],
            publishable_key=present[ENV_PUBLISHABLE_KEY],
            api_base=env.get(ENV_API_BASE, "").strip().rstrip("/") or None,
        )

    def processor(self) -> StripeProcessor:
        """The production adapter, with a client aimed at `api_base` when one is set."""
        client = new_client(self.secret_key, self.api_base)
        return StripeProcessor(self.secret_key, self.webhook_secret, client=client)
