"""Two shoppers race for the last item: exactly one order, a clear sold-out message for the other."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .steps import cart_link, fill_address, open_shop, sign_in

pytestmark = pytest.mark.browser


def test_two_shoppers_race_for_the_last_item(shop, contexts, screenshots):
    product = shop.create_product(f"Last Lantern {uuid.uuid4().hex[:6]}", stock=1)
    pages = []
    for _ in range(2):
        # The loser's 409 is logged by Chromium as a failed resource: expected here.
        page = contexts.new_page(allow=(409,))
        sign_in(page, shop.new_customer())
        open_shop(page, f"/p/{product['productId']}")
        expect(page.get_by_text("Only 1 left")).to_be_visible()
        page.get_by_role("button", name="Add to cart").click()
        expect(cart_link(page, 1)).to_be_visible()
        cart_link(page, 1).click()
        page.get_by_role("link", name="Checkout").click()
        fill_address(page)
        pages.append(page)

    # Both clicks go out before either answer comes back.
    for page in pages:
        page.get_by_role("button", name="Place order").click()

    outcomes = []
    for page in pages:
        placed = page.get_by_text("Thank you! Your order is placed.")
        sold_out = page.get_by_role("alert").filter(has_text="not enough stock")
        expect(placed.or_(sold_out)).to_be_visible()
        outcomes.append("placed" if placed.is_visible() else "sold out")
    assert sorted(outcomes) == ["placed", "sold out"], outcomes

    loser = pages[outcomes.index("sold out")]
    alert = loser.get_by_role("alert").filter(has_text="not enough stock")
    expect(alert).to_contain_text(product["name"])
    expect(alert).to_contain_text("no order was placed")
    expect(alert.get_by_role("link", name="Update your cart")).to_be_visible()
    expect(loser.get_by_role("button", name="Place order")).to_be_enabled()
    loser.screenshot(path=str(screenshots / "desktop-sold-out.png"), full_page=True)

    assert shop.api("GET", f"/api/products/{product['productId']}").json()["stock"] == 0
