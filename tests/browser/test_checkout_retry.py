"""A checkout whose answer is lost is retried with the same Idempotency-Key: one order, not two."""

from __future__ import annotations

import pytest
from playwright.sync_api import Route, expect

from .steps import PASSWORD, cart_link, fill_address, open_shop, sign_in

pytestmark = pytest.mark.browser


def test_retry_after_a_lost_answer_places_one_order(shop, contexts):
    product = next(p for p in shop.all_products() if p["stock"] >= 5)
    email = shop.new_customer()
    # The aborted request is logged by Chromium as a failed resource: expected here.
    page = contexts.new_page(allow_text=("net::ERR_FAILED",))
    sign_in(page, email)
    open_shop(page, f"/p/{product['productId']}")
    page.get_by_role("button", name="Add to cart").click()
    expect(cart_link(page, 1)).to_be_visible()
    cart_link(page, 1).click()
    page.get_by_role("link", name="Checkout").click()
    fill_address(page)

    keys: list[str] = []

    def lose_first_answer(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.fetch()  # the shop places the order...
            route.abort("failed")  # ...but the answer never reaches the browser
        else:
            route.continue_()

    page.route("**/api/orders", lose_first_answer)
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("alert")).to_contain_text("retrying is safe")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("Thank you! Your order is placed.")).to_be_visible()

    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    orders = shop.api("GET", "/api/orders", shop.login(email, PASSWORD)).json()["items"]
    assert len(orders) == 1, orders
