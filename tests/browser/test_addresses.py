"""Addresses per country: checkout asks for the region where the country needs one (named
as it is there) and a phone; orders show the address as it is written in its country."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .steps import customer_with_cart, fill_address, open_shop, sign_in

pytestmark = pytest.mark.browser

US_ADDRESS = {
    "name": "Abe Lincoln",
    "line1": "413 S 8th St",
    "city": "Springfield",
    "postalCode": "62704",
    "country": "US",
    "phone": "+1 217 555 0100",
}


def test_checkout_asks_for_the_state_and_shows_a_us_address_as_written(shop, contexts, screenshots):
    product = next(p for p in shop.all_products() if p["stock"] >= 5)
    email, _ = customer_with_cart(shop, {product["productId"]: 1})
    page = contexts.new_page()
    sign_in(page, email)
    open_shop(page, "/checkout")
    page.get_by_label("Country").select_option("CA")
    expect(page.get_by_label("Province")).to_be_visible()
    page.get_by_label("Country").select_option("GB")
    expect(page.locator("#region")).to_be_hidden()

    fill_address(page, US_ADDRESS)
    expect(page.get_by_label("State")).to_be_visible()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Enter the state.")).to_be_visible()
    expect(page.get_by_label("State")).to_be_focused()
    page.screenshot(path=str(screenshots / "desktop-checkout-us-state-required.png"), full_page=True)
    page.get_by_label("State").fill("IL")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Thank you! Your order is placed.")).to_be_visible()

    address = page.locator("address")
    expect(address).to_contain_text("Springfield, IL 62704")
    expect(address).to_contain_text("United States")
    expect(address).to_contain_text("Phone: +1 217 555 0100")
    expect(address).not_to_contain_text("62704 Springfield")
    page.screenshot(path=str(screenshots / "desktop-order-us-address.png"), full_page=True)
