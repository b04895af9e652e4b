"""A customer signs up, browses, searches, fills a cart, checks out and gets an email."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .steps import PASSWORD, cart_link, fill_address, open_shop, order_id_from, order_ref, usd

pytestmark = pytest.mark.browser

PAGE_SIZE = 12  # catalog.js PAGE_SIZE: the grid's first page


def _pick_products(shop):
    """A category with an in-stock product on its first page, and another product to search for."""
    for cat in shop.categories():
        first_page = shop.api("GET", "/api/products", params={"category": cat["categoryId"], "limit": PAGE_SIZE}).json()
        in_stock = [p for p in first_page["items"] if p["stock"] >= 5]
        if in_stock:
            first = in_stock[0]
            others = [p for p in shop.all_products() if p["stock"] >= 5 and p["productId"] != first["productId"]]
            assert others, "the demo catalog needs two products in stock"
            return cat, first, others[-1]
    raise AssertionError("no category has a product in stock")


def test_customer_signs_up_browses_searches_and_checks_out(shop, contexts, screenshots):
    category, first, second = _pick_products(shop)
    email = f"journey-{uuid.uuid4().hex[:10]}@example.com"
    page = contexts.new_page()
    open_shop(page)

    # Sign up (the local stack confirms at once and the shop signs the new customer in).
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Create an account").click()
    # The sign-in form (with its own Email field) stays until the sign-up view replaces it.
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(cart_link(page, 0)).to_be_visible()

    # Browse a category and add from the grid.
    page.get_by_role("navigation", name="Categories").get_by_role("link", name=category["name"], exact=True).click()
    expect(page.get_by_role("heading", level=1, name=category["name"])).to_be_visible()
    page.get_by_role("button", name=f"Add to cart: {first['name']}").click()
    expect(cart_link(page, 1)).to_be_visible()

    # Search, open the product page, add from there.
    page.get_by_role("searchbox", name="Search products").fill(second["name"])
    page.get_by_role("searchbox", name="Search products").press("Enter")
    expect(page.get_by_role("heading", level=1, name=f"Results for “{second['name']}”")).to_be_visible()
    page.get_by_role("link", name=second["name"], exact=True).click()
    expect(page.get_by_role("heading", level=1, name=second["name"])).to_be_visible()
    expect(page.get_by_text(usd(second["price"]), exact=True)).to_be_visible()
    page.get_by_role("button", name="Add to cart").click()
    expect(cart_link(page, 2)).to_be_visible()

    # Change a quantity in the cart; totals come back from the API.
    cart_link(page, 2).click()
    expect(page.get_by_role("heading", level=1, name="Your cart")).to_be_visible()
    page.get_by_role("button", name=f"Increase quantity of {first['name']}").click()
    expect(cart_link(page, 3)).to_be_visible()
    expect(page.get_by_role("spinbutton", name=f"Quantity of {first['name']}", exact=True)).to_have_value("2")
    expect(page.locator(".subtotal")).to_have_text(usd(2 * first["price"] + second["price"]))

    # Checkout: validation first, then a double click that must place exactly one order.
    page.get_by_role("link", name="Checkout").click()
    expect(page.get_by_role("heading", level=1, name="Checkout")).to_be_visible()
    page.get_by_label("Full name").fill("")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Enter the recipient's full name.")).to_be_visible()
    expect(page.get_by_label("Full name")).to_be_focused()
    fill_address(page)
    page.get_by_role("button", name="Place order").dblclick()
    expect(page.get_by_text("Thank you! Your order is placed.")).to_be_visible()
    order_id = order_id_from(page)
    expect(page.get_by_role("heading", level=1, name=f"Order {order_ref(order_id)}")).to_be_visible()
    expect(page.get_by_text("PLACED", exact=True)).to_be_visible()
    expect(cart_link(page, 0)).to_be_visible()
    page.screenshot(path=str(screenshots / "desktop-order-placed.png"), full_page=True)

    # Order history, and one order only despite the double click.
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Your orders")).to_be_visible()
    history = page.get_by_role("list", name="Your orders").get_by_role("listitem")
    expect(history).to_have_count(1)
    expect(history.get_by_role("link", name=f"Order {order_ref(order_id)}")).to_be_visible()
    expect(history).to_contain_text(usd(2 * first["price"] + second["price"]))

    mail = shop.wait_for_email(email)
    # The mail and the pages give the order the same reference.
    assert order_ref(order_id) in mail["subject"] + mail["text"], "the e-mail lacks the reference the pages show"

    # The session survives a reload.
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Your orders")).to_be_visible()
