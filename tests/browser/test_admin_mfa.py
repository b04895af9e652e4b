"""An admin's first sign-in in the storefront: enrol an authenticator app (its key shown as
text and as an otpauth:// URI), answer the code challenge, reach the admin pages; sign-out
revokes the refresh token at the identity service."""

from __future__ import annotations

import os
import urllib.parse
import uuid

import pytest
from playwright.sync_api import expect

from functions.adapters import totp
from functions.shop import datamodel as dm

from .steps import PASSWORD, open_shop

pytestmark = pytest.mark.browser


@pytest.fixture
def new_admin(shop) -> str:
    if os.environ.get("SHOP_BASE_URL"):
        pytest.skip("makes an admin through the local stack's user pool")
    from functions.adapters.aws_clients import client

    email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
    r = shop.api("POST", "/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert r.status_code == 202, r.text
    client("cognito-idp").admin_add_user_to_group(
        UserPoolId=os.environ[dm.ENV_USER_POOL], Username=email, GroupName="admin"
    )
    return email


def test_admin_enrols_an_authenticator_signs_in_with_its_code_and_signs_out(shop, contexts, new_admin, screenshots):
    page = contexts.new_page()
    open_shop(page, "/#/signin")
    page.get_by_label("Email").fill(new_admin)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1, name="Set up two-step sign-in", exact=True)).to_be_visible()
    secret = page.locator("#mfa-secret").inner_text().strip()
    uri = urllib.parse.urlparse(page.locator("#mfa-uri").inner_text().strip())
    assert uri.scheme == "otpauth" and urllib.parse.parse_qs(uri.query)["secret"] == [secret], uri
    assert page.evaluate("localStorage.getItem('nimbus.session')") is None, "no session before the second factor"
    page.screenshot(path=str(screenshots / "desktop-admin-mfa-setup.png"), full_page=True)

    page.get_by_label("Authentication code").fill("12")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("Enter the 6-digit code your authenticator app shows.")).to_be_visible()
    page.get_by_label("Authentication code").fill(totp.code(secret))
    page.get_by_role("button", name="Turn on").click()

    expect(page.get_by_role("heading", level=1, name="Two-step sign-in", exact=True)).to_be_visible()
    page.get_by_label("Authentication code").fill(totp.code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Admin: products")).to_be_visible()
    orders = shop.api("GET", "/api/admin/orders", _access_token(page), params={"status": "PLACED"})
    assert orders.status_code == 200, orders.text

    refresh_token = page.evaluate("JSON.parse(localStorage.getItem('nimbus.session')).refreshToken")
    with page.expect_response(lambda r: r.url.endswith("/api/auth/signout")) as signed_out:
        page.get_by_role("button", name="Sign out").click()
    assert signed_out.value.status == 200
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    again = shop.api("POST", "/api/auth/refresh", json={"refreshToken": refresh_token})
    assert again.status_code == 401, f"the refresh token still works after sign-out: {again.status_code}"


def _access_token(page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('nimbus.session')).accessToken")
