"""A cart without an account: filled signed out, kept across a reload (localStorage), and
merged into the account's cart at sign-in or sign-up (quantities added, capped at stock,
the changes shown)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .steps import PASSWORD, cart_link, cart_quantities, customer_with_cart, open_shop

pytestmark = pytest.mark.browser

GUEST_CART = "JSON.parse(localStorage.getItem('nimbus.guestCart') || '[]').length"


def _add_as_guest(page, product: dict, quantity: int) -> None:
    open_shop(page, f"/p/{product['productId']}")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()


def test_guest_cart_survives_a_reload_and_merges_at_sign_in(shop, contexts, screenshots):
    tag = uuid.uuid4().hex[:6]
    lantern = shop.create_product(f"Guest Lantern {tag}", stock=3)
    tent = shop.create_product(f"Guest Tent {tag}", stock=8)
    email, token = customer_with_cart(shop, {lantern["productId"]: 2})

    page = contexts.new_page()
    _add_as_guest(page, lantern, 3)
    expect(cart_link(page, 3)).to_be_visible()
    _add_as_guest(page, tent, 1)
    expect(cart_link(page, 4)).to_be_visible()
    page.reload()
    expect(cart_link(page, 4)).to_be_visible()
    open_shop(page, "/cart")
    expect(page.get_by_role("spinbutton", name=f"Quantity of {lantern['name']}", exact=True)).to_have_value("3")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.screenshot(path=str(screenshots / "desktop-guest-cart.png"), full_page=True)

    page.get_by_role("link", name="Sign in to check out").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Checkout")).to_be_visible()
    notice = page.get_by_role("status").filter(has_text="Some quantities changed")
    expect(notice).to_contain_text(f"“{lantern['name']}”: 1 of 3 added")
    page.screenshot(path=str(screenshots / "desktop-checkout-guest-cart-merged.png"), full_page=True)
    # 2 in the account + 3 from the device, capped at the 3 in stock; the tent added in full.
    assert cart_quantities(shop, token) == {lantern["productId"]: 3, tent["productId"]: 1}
    assert page.evaluate(GUEST_CART) == 0, "the device still keeps the merged guest cart"

    open_shop(page, "/cart")
    expect(page.get_by_role("spinbutton", name=f"Quantity of {lantern['name']}", exact=True)).to_have_value("3")
    expect(cart_link(page, 4)).to_be_visible()


def test_guest_cart_joins_a_new_account_at_sign_up(shop, contexts):
    product = shop.create_product(f"Guest Mug {uuid.uuid4().hex[:6]}", stock=6)
    page = contexts.new_page()
    _add_as_guest(page, product, 2)
    expect(cart_link(page, 2)).to_be_visible()
    open_shop(page, "/signup")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Email").fill(f"guest-{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    open_shop(page, "/cart")
    expect(page.get_by_role("spinbutton", name=f"Quantity of {product['name']}", exact=True)).to_have_value("2")
    assert page.evaluate(GUEST_CART) == 0
