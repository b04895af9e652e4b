"""`make dev`: run the whole shop locally until Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import threading

from .stack import LocalStack
from .stripe_mode import StripeSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        stripe = StripeSettings.from_env()
    except ValueError as exc:  # some SHOP_STRIPE_* keys but not all
        raise SystemExit(str(exc)) from exc
    stack = LocalStack(port=int(os.environ.get("PORT", "8000")), stripe=stripe)
    stack.start()
    payments = (
        f"Stripe test mode (forward webhooks: stripe listen --forward-to {stack.base_url}/api/payments/webhook)"
        if stack.stripe
        else "simulated (test cards; set SHOP_STRIPE_* for Stripe test mode)"
    )
    print(
        f"""
Shop running on {stack.base_url}/
  storefront     {stack.base_url}/
  API            {stack.base_url}/api/health   (OpenAPI: {stack.base_url}/api/openapi.json)
  sent emails    {stack.base_url}/local/outbox?key={stack.outbox_key}   (this run's outbox key)
  AWS emulator   {stack.moto_url} (moto: DynamoDB, Cognito, SNS, SQS, SES, S3)
  admin user     {stack.admin_email} / {stack.admin_password}  (SHOP_ADMIN_EMAIL / SHOP_ADMIN_PASSWORD)
  payments       {payments}
Ctrl-C stops.
""",
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
