"""The session: kept across reloads, refreshed before expiry and after a 401, cleared on sign-out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .steps import open_shop, sign_in

pytestmark = pytest.mark.browser

SESSION_KEY = "nimbus.session"


def _session(page):
    return page.evaluate(f"JSON.parse(localStorage.getItem('{SESSION_KEY}') || 'null')")


def _patch_session(page, js_update: str) -> None:
    page.evaluate(
        f"""() => {{
          const s = JSON.parse(localStorage.getItem('{SESSION_KEY}'));
          {js_update}
          localStorage.setItem('{SESSION_KEY}', JSON.stringify(s));
        }}"""
    )


def test_tokens_refresh_before_expiry_and_after_a_401(shop, contexts):
    # The forged token's 401 is logged by Chromium as a failed resource: expected here.
    page = contexts.new_page(allow=(401,))
    sign_in(page, shop.new_customer())
    first = _session(page)
    assert first["accessToken"] and first["refreshToken"]

    # An access token about to expire is refreshed before the request goes out.
    _patch_session(page, "s.expiresAt = Date.now() - 1000;")
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    open_shop(page, "/#/orders")
    expect(page.get_by_role("heading", level=1, name="Your orders")).to_be_visible()
    second = _session(page)
    assert second["accessToken"] != first["accessToken"]
    assert second["expiresAt"] > first["expiresAt"] - 60_000

    # A token the API refuses (401) is refreshed once and the request retried.
    _patch_session(page, "s.accessToken = 'not-a-valid-token';")
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    open_shop(page, "/#/cart")
    expect(page.get_by_role("heading", level=1, name="Your cart")).to_be_visible()
    assert _session(page)["accessToken"] != "not-a-valid-token"

    # Signing out forgets the session; protected pages ask to sign in again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert _session(page) is None
    open_shop(page, "/#/orders")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


def test_sign_up_that_needs_a_code_shows_the_confirm_form(shop, contexts):
    """Clouds whose user pool emails a code: the API says so and the shop asks for it.

    The local stack confirms at once, so the API's two answers are stubbed here."""
    email = "needs-code@example.com"
    page = contexts.new_page()
    page.route(
        "**/api/auth/signup",
        lambda route: route.fulfill(status=201, json={"userId": "u-1", "email": email, "confirmed": False}),
    )
    page.route("**/api/auth/confirm", lambda route: route.fulfill(status=200, json={"status": "CONFIRMED"}))
    open_shop(page, "/#/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill("Shopper-Passw0rd!")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1, name="Confirm your email")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(email)
    page.get_by_role("button", name="Confirm account").click()
    expect(page.get_by_text("Enter the code from the email we sent you.")).to_be_visible()
    page.get_by_label("Confirmation code").fill("123456")
    page.get_by_role("button", name="Confirm account").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(email)
