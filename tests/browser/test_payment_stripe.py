"""The payment step when the shop takes cards through Stripe (config.json names a
publishable key): the card goes into Stripe.js's card element, the page confirms the
PaymentIntent with Stripe.js, and the order shows as paid only once Stripe's webhook made it
PAID in the API.

Doubles: Stripe's servers (tests/browser/stripe_double/api.py: api.stripe.com's PaymentIntent
calls and Stripe's signed webhook deliveries) and Stripe.js (stripe_double/stripe.js, served
for https://js.stripe.com/v3/ by Playwright's page.route, with its card iframe on
js.stripe.com; the page's calls to https://api.stripe.com are routed to the API double).
Real: the storefront, the CSP the local gateway sends (functions/shop/security_headers.py
with Stripe admitted; a request it refuses never reaches page.route), the local stack in its
Stripe mode (functions/local/stripe_mode.py: `stripe.StripeClient` aimed at the double
through SHOP_STRIPE_API_BASE, functions/adapters/stripe_payments.py's StripeProcessor), and
the `stripe` library's signing and `Webhook.construct_event` signature check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from functions.local.stack import LocalStack
from functions.local.stripe_mode import StripeSettings
from functions.shop.security_headers import content_security_policy

from .steps import Contexts, Shop, customer_with_cart, fill_address, free_port, open_shop, order_id_from, sign_in
from .stripe_double.api import APPROVED, DECLINED, FakeStripe

pytestmark = pytest.mark.browser

DOUBLE = Path(__file__).parent / "stripe_double"
PUBLISHABLE_KEY = "pk_test_51ShopBrowserTestsPublishableKey000000000000"
SECRET_KEY = "sk_test_51ShopBrowserTestsSecretKey00000000000000000"
WEBHOOK_SECRET = "whsec_shopbrowsertestswebhooksecret0000000"
PAID_NOTE = "Payment received. Your order is paid."
# VIEWPORT_ONLY: Chromium leaves a cross-origin iframe (the card element) blank in a
# full-page screenshot, so pages that still show it are shot as the viewport sees them.


@dataclass
class StripeShop:
    shop: Shop
    stripe: FakeStripe


@pytest.fixture(scope="module")
def stripe_shop() -> Iterator[StripeShop]:
    port = free_port()
    webhook = f"http://127.0.0.1:{port}/api/payments/webhook"
    with FakeStripe(SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET, webhook, deliveries=2) as fake:
        settings = StripeSettings(SECRET_KEY, WEBHOOK_SECRET, PUBLISHABLE_KEY, api_base=fake.url)
        with LocalStack(port=port, stripe=settings) as local:
            yield StripeShop(Shop(local.base_url, local.admin_email, local.admin_password), fake)


@pytest.fixture
def stripe_contexts(browser: Browser, stripe_shop: StripeShop) -> Iterator[Contexts]:
    """Pages served under the CSP the local stack itself sends (Stripe admitted)."""
    c = Contexts(browser, stripe_shop.shop.base_url, csp=None)
    yield c
    c.close()
    assert not c.errors, "console errors:\n" + "\n".join(c.errors)


def serve_stripe(page: Page, fake: FakeStripe) -> list[str]:
    """Stripe.js's double on js.stripe.com and api.stripe.com routed to the API double;
    returns the js.stripe.com URLs the page actually requested (past its CSP)."""
    requested: list[str] = []

    def js(route: Route) -> None:
        requested.append(route.request.url)
        name = "stripe.js" if route.request.url.split("#")[0].rstrip("/").endswith("/v3") else None
        if route.request.url.split("#")[0].endswith("/v3/elements-inner-card.html"):
            name = "elements-inner-card.html"
        if name is None:
            route.fulfill(status=404, body="not in the double")
            return
        kind = "text/javascript" if name.endswith(".js") else "text/html; charset=utf-8"
        route.fulfill(status=200, body=(DOUBLE / name).read_text(), headers={"content-type": kind})

    def api(route: Route) -> None:
        path = route.request.url.removeprefix("https://api.stripe.com")
        route.fulfill(response=route.fetch(url=fake.url + path))

    page.route("https://js.stripe.com/**", js)
    page.route("https://api.stripe.com/**", api)
    return requested


def placed_order_page(shop: Shop, page: Page) -> tuple[str, str]:
    """A new customer's order, placed in the page, which now shows it: (order id, token)."""
    product = next(p for p in shop.all_products() if p["stock"] >= 5)
    email, token = customer_with_cart(shop, {product["productId"]: 1})
    sign_in(page, email)
    open_shop(page, "/checkout")
    fill_address(page)
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Thank you! Your order is placed.")).to_be_visible()
    return order_id_from(page), token


def pay_with(page: Page, number: str) -> None:
    payment = page.get_by_role("region", name="Payment")
    card = payment.get_by_role("group", name="Card details")
    frame = card.frame_locator("iframe[title='Secure card payment input frame']")
    frame.get_by_label("Credit or debit card number").fill(number)
    payment.get_by_role("button", name="Pay").click()


def _wait(predicate: Callable[[], object], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout}s")
        time.sleep(0.1)


def status_of(shop: Shop, order_id: str, token: str) -> str:
    return shop.api("GET", f"/api/orders/{order_id}", token).json()["status"]


def test_decline_then_pay_with_stripe(stripe_shop, stripe_contexts, screenshots):
    shop, fake = stripe_shop.shop, stripe_shop.stripe
    page = stripe_contexts.new_page(height=1200, allow=(402,))
    requested = serve_stripe(page, fake)
    order_id, token = placed_order_page(shop, page)
    payment = page.get_by_role("region", name="Payment")
    expect(payment.get_by_role("group", name="Card details")).to_be_visible()
    assert any(u.startswith("https://js.stripe.com/v3") for u in requested), (
        "Stripe.js was not loaded from js.stripe.com"
    )

    pay_with(page, DECLINED)
    expect(payment.get_by_role("alert")).to_contain_text("Your card was declined.")
    page.screenshot(path=str(screenshots / "desktop-stripe-declined.png"))  # see VIEWPORT_ONLY
    [intent] = fake.intents_for(order_id)
    _wait(lambda: fake.deliveries_for(intent["id"], "payment_intent.payment_failed"), "the decline's webhook")
    failed = fake.deliveries_for(intent["id"], "payment_intent.payment_failed")
    assert [d.answer for d in failed] == [{"status": "declined"}] * 2, f"the decline's webhook answers: {failed}"
    assert status_of(shop, order_id, token) == "PLACED", "a declined card left the order other than PLACED"

    pay_with(page, APPROVED)
    expect(page.get_by_text(PAID_NOTE)).to_be_visible()
    expect(page.get_by_text("PAID", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Payment")).to_have_count(0)
    page.screenshot(path=str(screenshots / "desktop-stripe-paid.png"), full_page=True)
    assert status_of(shop, order_id, token) == "PAID"
    assert len(fake.intents_for(order_id)) == 1, "paying again made a second PaymentIntent for the order"
    _wait(lambda: len(fake.deliveries_for(intent["id"], "payment_intent.succeeded")) == 2, "both deliveries")
    answers = [d.answer["status"] for d in fake.deliveries_for(intent["id"], "payment_intent.succeeded")]
    assert answers == ["paid", "already-paid"], f"the webhook delivered twice must pay the order once: {answers}"
    assert status_of(shop, order_id, token) == "PAID"


def test_the_page_says_processing_until_the_webhook_lands(stripe_shop, stripe_contexts, screenshots):
    shop, fake = stripe_shop.shop, stripe_shop.stripe
    page = stripe_contexts.new_page(width=390, height=844)
    serve_stripe(page, fake)
    order_id, token = placed_order_page(shop, page)
    fake.hold()  # Stripe accepts the card; its webhook is late
    try:
        pay_with(page, APPROVED)
        payment = page.get_by_role("region", name="Payment")
        expect(payment.get_by_text("Payment processing")).to_be_visible()
        assert status_of(shop, order_id, token) == "PLACED"
        expect(page.get_by_text(PAID_NOTE)).to_have_count(0)
        payment.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / "phone-stripe-processing.png"))  # see VIEWPORT_ONLY
    finally:
        fake.release()
    expect(page.get_by_text(PAID_NOTE)).to_be_visible(timeout=30_000)
    page.screenshot(path=str(screenshots / "phone-stripe-paid.png"), full_page=True)
    assert status_of(shop, order_id, token) == "PAID"


def test_a_csp_without_stripe_blocks_stripe_js_and_the_page_says_so(stripe_shop, browser):
    """The doubles are reached only through the page's CSP: under the CSP of a shop
    without Stripe, Stripe.js never loads and the payment step says it could not."""
    shop, fake = stripe_shop.shop, stripe_shop.stripe
    contexts = Contexts(browser, shop.base_url, csp=content_security_policy(stripe=False))
    try:
        page = contexts.new_page(allow_text=("Loading the script 'https://js.stripe.com/v3/' violates",))
        requested = serve_stripe(page, fake)
        order_id, token = placed_order_page(shop, page)
        payment = page.get_by_role("region", name="Payment")
        expect(payment.get_by_role("alert")).to_contain_text("Stripe.js did not load")
        expect(payment.get_by_role("button", name="Pay")).to_be_disabled()
        assert requested == [], f"the CSP let these through: {requested}"
        assert status_of(shop, order_id, token) == "PLACED"
    finally:
        contexts.close()
    assert not contexts.errors, "console errors:\n" + "\n".join(contexts.errors)


def test_the_stripe_stack_publishes_its_key_and_admits_stripe_js(stripe_shop):
    shop = stripe_shop.shop
    config = shop.api("GET", "/config.json").json()
    assert config.get("stripePublishableKey") == PUBLISHABLE_KEY, f"config.json: {config}"
    served = shop.api("GET", "/").headers["content-security-policy"]
    assert served == content_security_policy(stripe=True), f"the local stack's CSP in Stripe mode: {served}"
