"""Small storefront promises: the cart badge, accessible names that contain the visible
text, and the cart page asking the API for the cart once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .steps import PASSWORD, cart_link, open_shop, sign_in

pytestmark = pytest.mark.browser

# Every control whose accessible name comes from aria-label: [label, visible text].
LABELLED_CONTROLS = """() => [...document.querySelectorAll("button[aria-label], a[aria-label]")]
  .filter((el) => el.offsetParent !== null && el.innerText.trim())
  .map((el) => [el.getAttribute("aria-label"), el.innerText.replace(/\\s+/g, " ").trim()])"""


def test_cart_badge_is_hidden_on_an_empty_cart(shop, contexts):
    product = next(p for p in shop.all_products() if p["stock"] > 0)
    page = contexts.new_page()
    sign_in(page, shop.new_customer())
    badge = page.locator(".cart-link .badge")
    expect(cart_link(page, 0)).to_be_visible()
    expect(badge).to_be_hidden()
    open_shop(page, f"/p/{product['productId']}")
    page.get_by_role("button", name="Add to cart").click()
    expect(cart_link(page, 1)).to_be_visible()
    expect(badge).to_be_visible()
    expect(badge).to_have_text("1")


def test_accessible_names_contain_the_visible_text(shop, contexts):
    page = contexts.new_page()
    open_shop(page)
    expect(page.get_by_role("heading", level=1, name="All products")).to_be_visible()
    pairs = page.evaluate(LABELLED_CONTROLS)
    assert any(label.startswith("Add to cart") for label, _ in pairs), "no labelled add-to-cart button on the page"
    bad = [(label, text) for label, text in pairs if text.lower() not in label.lower()]
    assert not bad, f"accessible names without their visible text: {bad}"
    first = shop.all_products()[0]
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=first["name"], exact=True))
    expect(card.get_by_role("button", name=f"Add to cart: {first['name']}")).to_be_visible()


def test_cart_page_asks_for_the_cart_once(shop, contexts):
    product = next(p for p in shop.all_products() if p["stock"] > 0)
    email = shop.new_customer()
    token = shop.login(email, PASSWORD)
    shop.api("PUT", f"/api/cart/items/{product['productId']}", token, json={"quantity": 2}).raise_for_status()
    page = contexts.new_page()
    sign_in(page, email)
    carts: list[str] = []
    page.on("request", lambda r: carts.append(r.method) if r.url.endswith("/api/cart") else None)
    open_shop(page, "/cart")
    expect(page.get_by_role("heading", level=1, name="Your cart")).to_be_visible()
    expect(page.get_by_role("link", name=product["name"])).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert carts == ["GET"], f"/api/cart requests while opening the cart page: {carts}"
