"""`make dev`'s optional Stripe test mode (functions/local/stripe_mode.py): all three keys or none."""

from __future__ import annotations

import pytest

from functions.local.stripe_mode import (
    ENV_API_BASE,
    ENV_PUBLISHABLE_KEY,
    ENV_SECRET_KEY,
    ENV_WEBHOOK_SECRET,
    StripeSettings,
)
from functions.shop.ports import PLACED, Address, Order
from tests.browser.stripe_double.api import FakeStripe

HOME = Address("Ada", "1 Main St", "Springfield", "62704", "US", region="IL")
KEYS = {ENV_SECRET_KEY: "sk_test_abc", ENV_WEBHOOK_SECRET: "whsec_abc", ENV_PUBLISHABLE_KEY: "pk_test_abc"}


def test_no_key_keeps_the_simulated_processor():
    assert StripeSettings.from_env({}) is None, "an environment without Stripe keys must not switch modes"
    assert StripeSettings.from_env({name: "  " for name in KEYS}) is None, "blank keys count as unset"


@pytest.mark.parametrize("missing", sorted(KEYS))
def test_a_half_configured_shop_is_refused_and_told_what_is_missing(missing):
    env = {name: value for name, value in KEYS.items() if name != missing}
    with pytest.raises(ValueError, match=f"missing: {missing}$"):
        StripeSettings.from_env(env)


def test_all_three_keys_select_stripe_with_stripes_own_api_unless_a_base_is_given():
    settings = StripeSettings.from_env(KEYS)
    assert settings == StripeSettings("sk_test_abc", "whsec_abc", "pk_test_abc", api_base=None)
    aimed = StripeSettings.from_env({**KEYS, ENV_API_BASE: " http://127.0.0.1:9999/ "})
    assert aimed is not None and aimed.api_base == "http://127.0.0.1:9999", "the API base is trimmed"


def test_the_secrets_never_appear_in_its_repr():
    shown = repr(StripeSettings.from_env(KEYS))
    assert "sk_test_abc" not in shown and "whsec_abc" not in shown, shown
    assert "pk_test_abc" in shown, "the publishable key is public and helps a developer see the mode"


def test_the_processor_pays_through_the_configured_api_base():
    order = Order(
        order_id="01J0ORDER", user_id="u1", status=PLACED, lines=(), total=1250, currency="USD",
        created_at="2026-12-03T00:00:00Z", updated_at="2026-12-03T00:00:00Z", shipping_address=HOME,
    )  # fmt: skip
    with FakeStripe("sk_test_abc", "pk_test_abc", "whsec_abc", "http://127.0.0.1:9/unused") as fake:
        settings = StripeSettings("sk_test_abc", "whsec_abc", "pk_test_abc", api_base=fake.url + "/")
        payment = settings.processor().create_payment(order)
        again = settings.processor().create_payment(order)
    assert [i["amount"] for i in fake.intents_for("01J0ORDER")] == [1250], "one PaymentIntent, at the double"
    assert payment.payment_id == again.payment_id, "the order's idempotency key must reuse the intent"
    assert payment.client_secret and payment.client_secret.startswith(payment.payment_id)
