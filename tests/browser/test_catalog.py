"""Catalog details: pagination through nextCursor, stock states, prices from cents."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .steps import open_shop, usd

pytestmark = pytest.mark.browser

PAGE_SIZE = 12  # catalog.js PAGE_SIZE


def test_show_more_follows_next_cursor(shop, contexts):
    total = len(shop.all_products())
    page = contexts.new_page()
    open_shop(page)
    cards = page.get_by_role("list", name="Products").get_by_role("listitem")
    expect(cards).to_have_count(min(total, PAGE_SIZE))
    more = page.get_by_role("button", name="Show more products")
    if total <= PAGE_SIZE:
        expect(more).to_have_count(0)
        return
    more.click()
    expect(cards).to_have_count(min(total, 2 * PAGE_SIZE))
    # Keyboard users continue from the first product of the new page.
    expect(cards.nth(PAGE_SIZE).get_by_role("link")).to_be_focused()


def test_stock_states_and_prices(shop, contexts):
    tag = uuid.uuid4().hex[:6]
    low = shop.create_product(f"Quartz Clock {tag}", stock=3, price=123456)
    gone = shop.create_product(f"Quartz Vase {tag}", stock=0, price=500)
    page = contexts.new_page()
    open_shop(page, f"/search?q={tag}")
    grid = page.get_by_role("list", name="Products")
    expect(grid.get_by_role("listitem")).to_have_count(2)
    low_card = grid.get_by_role("listitem").filter(has_text=low["name"])
    expect(low_card).to_contain_text("Only 3 left")
    expect(low_card).to_contain_text(usd(123456))  # "$1,234.56" from 123456 cents
    expect(low_card.get_by_role("button", name=f"Add to cart: {low['name']}")).to_be_enabled()
    gone_card = grid.get_by_role("listitem").filter(has_text=gone["name"])
    expect(gone_card.get_by_role("button", name=f"Sold out: {gone['name']}")).to_be_disabled()

    open_shop(page, f"/p/{gone['productId']}")
    expect(page.get_by_role("heading", level=1, name=gone["name"])).to_be_visible()
    expect(page.get_by_text("Sold out", exact=True).first).to_be_visible()
    expect(page.get_by_role("button", name="Sold out")).to_be_disabled()
