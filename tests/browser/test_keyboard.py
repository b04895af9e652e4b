"""Keyboard use: the skip link, visible focus, search and a product page without a mouse."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .steps import open_shop

pytestmark = pytest.mark.browser


def test_keyboard_only_browsing(shop, contexts):
    product = next(p for p in shop.all_products() if p["stock"] > 0)
    page = contexts.new_page()
    open_shop(page)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Focus is always visible (a ring drawn with box-shadow).
    search = page.get_by_role("searchbox", name="Search products")
    search.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).boxShadow") != "none"
    page.keyboard.type(product["name"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=f"Results for “{product['name']}”")).to_be_focused()

    # Tab from the heading reaches the product's link; Enter opens it, focus lands on its heading.
    result = page.get_by_role("link", name=product["name"], exact=True)
    for _ in range(10):
        page.keyboard.press("Tab")
        if result.evaluate("el => el === document.activeElement"):
            break
    expect(result).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=product["name"])).to_be_focused()
    expect(page.get_by_role("spinbutton", name="Quantity")).to_be_visible()
