"""The cart holds no more than the stock: capped steppers, the API's 409 `available` shown
as "Only N left" with the quantity put back, a cleared box that never deletes the line, and
a checkout that names each short product with what is left."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .steps import cart_quantities, customer_with_cart, fill_address, open_shop, set_stock, sign_in

pytestmark = pytest.mark.browser


def _quantity(page, name: str):
    return page.get_by_role("spinbutton", name=f"Quantity of {name}", exact=True)


def test_cart_quantity_is_capped_at_the_stock(shop, contexts, screenshots):
    product = shop.create_product(f"Camping Lantern {uuid.uuid4().hex[:6]}", stock=3)
    email, token = customer_with_cart(shop, {product["productId"]: 1})
    page = contexts.new_page(390, 844)
    sign_in(page, email)
    open_shop(page, "/cart")
    qty = _quantity(page, product["name"])
    expect(qty).to_have_attribute("max", "3")

    qty.fill("8")
    qty.press("Tab")
    expect(page.get_by_role("alert")).to_contain_text("Only 3 left")
    expect(qty).to_have_value("1")
    page.screenshot(path=str(screenshots / "phone-cart-only-n-left.png"), full_page=True)
    assert cart_quantities(shop, token) == {product["productId"]: 1}, "a quantity above the stock reached the cart"

    plus = page.get_by_role("button", name=f"Increase quantity of {product['name']}")
    plus.click()
    expect(qty).to_have_value("2")
    plus.click()
    expect(qty).to_have_value("3")
    expect(plus).to_be_disabled()


def test_cart_shows_what_is_left_when_the_stock_drops(shop, contexts):
    product = shop.create_product(f"Camping Stove {uuid.uuid4().hex[:6]}", stock=5)
    email, token = customer_with_cart(shop, {product["productId"]: 2})
    page = contexts.new_page(allow=(409,))
    sign_in(page, email)
    open_shop(page, "/cart")
    qty = _quantity(page, product["name"])
    expect(qty).to_have_value("2")
    set_stock(shop, product["productId"], 2)  # someone else bought three meanwhile

    plus = page.get_by_role("button", name=f"Increase quantity of {product['name']}")
    plus.click()
    expect(page.get_by_role("alert")).to_contain_text(f"Only 2 left of “{product['name']}”")
    expect(qty).to_have_value("2")
    expect(plus).to_be_disabled()
    assert cart_quantities(shop, token) == {product["productId"]: 2}


def test_clearing_a_quantity_box_keeps_the_line(shop, contexts):
    product = shop.create_product(f"Camping Mug {uuid.uuid4().hex[:6]}", stock=9)
    email, token = customer_with_cart(shop, {product["productId"]: 2})
    page = contexts.new_page()
    sign_in(page, email)
    open_shop(page, "/cart")
    qty = _quantity(page, product["name"])
    for typed in ("", "0"):
        qty.fill(typed)
        qty.press("Tab")
        expect(qty).to_have_value("2")
        expect(page.get_by_role("alert")).to_contain_text("use Remove")
        page.wait_for_load_state("networkidle")
        assert cart_quantities(shop, token) == {product["productId"]: 2}, f"typing {typed!r} changed the cart"
    page.get_by_role("button", name=f"Remove {product['name']}").click()
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()
    assert cart_quantities(shop, token) == {}


def test_checkout_names_each_short_product_and_what_is_left(shop, contexts):
    tag = uuid.uuid4().hex[:6]
    lantern = shop.create_product(f"Lantern {tag}", stock=5)
    kettle = shop.create_product(f"Kettle {tag}", stock=5)
    email, _ = customer_with_cart(shop, {lantern["productId"]: 4, kettle["productId"]: 1})
    page = contexts.new_page(allow=(409,))
    sign_in(page, email)
    open_shop(page, "/checkout")
    fill_address(page)
    set_stock(shop, lantern["productId"], 1)
    set_stock(shop, kettle["productId"], 0)
    page.get_by_role("button", name="Place order").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"{lantern['name']}: only 1 left")
    expect(alert).to_contain_text(f"{kettle['name']}: sold out")
    expect(alert).to_contain_text("no order was placed")
