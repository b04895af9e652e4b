"""Scroll restoration on a phone: a product opened from a scrolled list starts at the top;
Back returns to the list where it was, with its "Show more" pages still there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .steps import open_shop, wait_until

pytestmark = pytest.mark.browser

PAGE_SIZE = 12  # catalog.js PAGE_SIZE


def test_back_returns_to_the_same_place_in_the_list(shop, contexts, screenshots):
    total = len(shop.all_products())
    assert total > PAGE_SIZE + 2, f"the demo catalog needs more than one page ({total} products)"
    page = contexts.new_page(390, 844)
    open_shop(page)
    cards = page.get_by_role("list", name="Products").get_by_role("listitem")
    expect(cards).to_have_count(PAGE_SIZE)
    page.get_by_role("button", name="Show more products").click()
    shown = min(total, 2 * PAGE_SIZE)
    expect(cards).to_have_count(shown)

    target = cards.nth(PAGE_SIZE + 1)
    target.scroll_into_view_if_needed()
    y = page.evaluate("window.scrollY")
    assert y > 1000, f"the list did not scroll far: {y}"
    name = target.get_by_role("heading").inner_text()
    target.get_by_role("link", name=name, exact=True).click()

    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    assert page.evaluate("window.scrollY") == 0, "the product page did not open at its top"

    page.go_back()
    expect(page.get_by_role("heading", level=1, name="All products")).to_be_visible()
    expect(cards).to_have_count(shown)
    wait_until(page, f"Math.abs(window.scrollY - {y}) <= 2")
    expect(cards.nth(PAGE_SIZE + 1).get_by_role("link", name=name, exact=True)).to_be_in_viewport()
    page.screenshot(path=str(screenshots / "phone-catalog-back-restored.png"))
