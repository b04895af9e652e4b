"""Every list that can be empty says so and offers the way back: a search or a filter
without results, the cart, the orders."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .steps import open_shop, sign_in

pytestmark = pytest.mark.browser


def test_search_without_results_says_so_with_a_way_back(shop, contexts, screenshots):
    page = contexts.new_page()
    open_shop(page, "/search?q=zzzqqq")
    expect(page.get_by_role("heading", level=1, name="Results for “zzzqqq”")).to_be_visible()
    expect(page.get_by_text("Nothing matches “zzzqqq”.")).to_be_visible()
    expect(page.get_by_role("list", name="Products")).to_have_count(0)
    page.screenshot(path=str(screenshots / "desktop-search-no-results.png"), full_page=True)
    page.get_by_role("link", name="Browse all products").click()
    expect(page.get_by_role("heading", level=1, name="All products")).to_be_visible()
    expect(page.get_by_role("list", name="Products").get_by_role("listitem").first).to_be_visible()


def test_filters_without_results_say_so_with_a_way_back(shop, contexts):
    page = contexts.new_page()
    open_shop(page, "/?minPrice=999999&sort=price")
    expect(page.get_by_text("No products match these filters.")).to_be_visible()
    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_role("list", name="Products").get_by_role("listitem").first).to_be_visible()
    assert "minPrice" not in page.url and "sort=price" in page.url, f"Clear filters went to {page.url}"


def test_empty_cart_and_no_orders_say_so(shop, contexts):
    page = contexts.new_page()
    sign_in(page, shop.new_customer())
    open_shop(page, "/cart")
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()
    expect(page.get_by_role("link", name="Start shopping")).to_be_visible()
    open_shop(page, "/orders")
    expect(page.get_by_text("You haven't ordered anything yet.")).to_be_visible()
    page.get_by_role("link", name="Start shopping").click()
    expect(page.get_by_role("heading", level=1, name="All products")).to_be_visible()
