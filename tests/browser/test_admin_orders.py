"""Admin and storefront details: whose order it is, an order that moves on leaves its list at
once, the currency as a choice, messages written for people, one order reference in the
pages and the e-mail, a category bar that shows it scrolls, product images with alt text."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .steps import PASSWORD, customer_with_cart, open_shop, order_id_from, order_ref, sign_in, wait_until

pytestmark = pytest.mark.browser

SHIP_TO = {
    "name": "Grace Hopper",
    "line1": "1 Navy Way",
    "city": "Springfield",
    "region": "IL",
    "postalCode": "62704",
    "country": "US",
}


def _placed_order(shop) -> tuple[str, dict]:
    product = next(p for p in shop.all_products() if p["stock"] >= 5)
    email, token = customer_with_cart(shop, {product["productId"]: 1})
    r = shop.api(
        "POST",
        "/api/orders",
        token,
        json={"shippingAddress": SHIP_TO},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    return email, r.json()


def test_admin_orders_say_whose_they_are_and_leave_the_list_when_paid(shop, contexts, screenshots):
    email, order = _placed_order(shop)
    ref = order_ref(order["orderId"])
    admin = contexts.new_page()
    sign_in(admin, shop.admin_email, shop.admin_password)
    open_shop(admin, "/admin/orders")
    row = admin.get_by_role("listitem").filter(has_text=f"Order {ref}")
    listed = shop.api("GET", "/api/admin/orders", shop.admin_token(), params={"status": "PLACED", "limit": 100}).json()
    customer = next(o["customer"] for o in listed["items"] if o["orderId"] == order["orderId"])
    # The local stack's access tokens carry no e-mail (Cognito's never do): the list asks the
    # identity service for the verified address.
    assert customer["email"] == email, customer
    expect(row).to_contain_text(email)
    expect(row).to_contain_text(SHIP_TO["name"])
    expect(row).to_contain_text("Springfield, IL, United States")
    admin.screenshot(path=str(screenshots / "desktop-admin-orders-customer.png"), full_page=True)

    admin.get_by_role("button", name=f"Mark order {ref} as paid").click()
    expect(admin.get_by_text(f"Order {ref} is now PAID.")).to_be_visible()
    expect(row).to_have_count(0)  # gone from the Placed list, no reload
    admin.get_by_label("Show orders with status").select_option("PAID")
    expect(admin.get_by_role("listitem").filter(has_text=f"Order {ref}")).to_have_count(1)


def test_admin_currency_is_the_shops_and_sign_in_errors_read_well(shop, contexts):
    admin = contexts.new_page()
    sign_in(admin, shop.admin_email, shop.admin_password)
    open_shop(admin, "/admin/products/new")
    currency = admin.get_by_role("combobox", name="Currency")
    expect(currency).to_have_value("USD")
    assert currency.locator("option").all_inner_texts() == ["USD"], "the shop sells in USD only"

    page = contexts.new_page(allow=(401,))
    open_shop(page, "/signin")
    page.get_by_label("Email").fill(shop.new_customer())
    page.get_by_label("Password", exact=True).fill(PASSWORD + "x")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("That email and password don't match an account.")
    expect(alert).not_to_contain_text("incorrect email or password")


def test_order_reference_is_the_one_the_email_gives(shop, contexts):
    email, order = _placed_order(shop)
    page = contexts.new_page()
    sign_in(page, email)
    open_shop(page, f"/orders/{order['orderId']}")
    expect(page.get_by_role("heading", level=1, name=f"Order {order['orderId']}")).to_be_visible()
    assert order_id_from(page) == order["orderId"]
    open_shop(page, "/orders")
    expect(page.get_by_role("link", name=f"Order {order['orderId']}")).to_be_visible()
    mail = shop.wait_for_email(email)
    assert order["orderId"] in mail["subject"] + mail["text"], "the e-mail does not give the reference the pages show"


CATEGORY_HINT = "getComputedStyle(document.querySelector('nav.categories'), '::after').opacity"


def test_phone_category_bar_shows_that_it_scrolls(shop, contexts, screenshots):
    page = contexts.new_page(390, 844)
    open_shop(page)
    bar = page.locator("#category-links")
    expect(bar.get_by_role("link")).to_have_count(len(shop.categories()) + 1)
    assert page.evaluate("(ul => ul.scrollWidth > ul.clientWidth)(document.getElementById('category-links'))"), (
        "the category bar fits a phone: nothing to hint"
    )
    wait_until(page, f"{CATEGORY_HINT} === '1'")
    page.screenshot(path=str(screenshots / "phone-category-bar-hint.png"))
    bar.evaluate("ul => ul.scrollTo({left: ul.scrollWidth})")
    wait_until(page, f"{CATEGORY_HINT} === '0'")


def test_product_images_have_alt_text(shop, contexts):
    page = contexts.new_page()
    open_shop(page)
    images = page.locator(".product-card img")
    expect(images.first).to_be_visible()
    names = page.locator(".product-card .card-title").all_inner_texts()
    alts = [img.get_attribute("alt") for img in images.all()]
    assert alts == names, f"card images' alt text {alts} is not the products' names {names}"
    product = shop.all_products()[0]
    open_shop(page, f"/p/{product['productId']}")
    expect(page.locator(".product-media img")).to_have_attribute("alt", product["name"])
