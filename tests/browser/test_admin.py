"""An admin creates a product with an image, a customer buys it, the admin ships it."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .steps import cart_link, fill_address, open_shop, order_id_from, order_ref, png_bytes, sign_in

pytestmark = pytest.mark.browser


def test_admin_creates_product_customer_buys_admin_ships(shop, contexts, screenshots):
    name = f"Aurora Teapot {uuid.uuid4().hex[:6]}"
    image = png_bytes(64, 48)

    admin = contexts.new_page()
    sign_in(admin, shop.admin_email, shop.admin_password)
    admin.get_by_role("link", name="Admin", exact=True).click()
    expect(admin.get_by_role("heading", level=1, name="Admin: products")).to_be_visible()
    admin.get_by_role("navigation", name="Admin").get_by_role("link", name="New product").click()
    expect(admin.get_by_role("heading", level=1, name="New product")).to_be_visible()
    admin.get_by_label("Name").fill(name)
    admin.get_by_label("Description").fill("A glass teapot that glows at sunrise.")
    admin.get_by_label("Category").select_option(index=1)
    admin.get_by_label("Price").fill("24.50")
    admin.get_by_label("Stock").fill("5")
    admin.get_by_label("Image").set_input_files({"name": "teapot.png", "mimeType": "image/png", "buffer": image})
    admin.screenshot(path=str(screenshots / "desktop-admin-new-product.png"), full_page=True)
    admin.get_by_role("button", name="Create product").click()
    expect(admin.get_by_role("heading", level=1, name="Admin: products")).to_be_visible()
    expect(admin.get_by_text(f"Created {name}.")).to_be_visible()

    [product] = shop.all_products(q=name)
    assert (product["price"], product["currency"], product["stock"]) == (2450, "USD", 5)
    assert product["imageUrl"], product
    served = shop.http.get(requests_url(shop.base_url, product["imageUrl"]), timeout=10)
    assert served.status_code == 200 and served.content == image

    # A customer finds it, sees the uploaded image, buys it.
    customer = contexts.new_page()
    sign_in(customer, shop.new_customer())
    customer.get_by_role("searchbox", name="Search products").fill(name)
    customer.get_by_role("searchbox", name="Search products").press("Enter")
    customer.get_by_role("link", name=name, exact=True).click()
    expect(customer.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(customer.locator(".product-media img")).to_have_js_property("naturalWidth", 64)
    customer.get_by_role("button", name="Add to cart").click()
    expect(cart_link(customer, 1)).to_be_visible()
    cart_link(customer, 1).click()
    customer.get_by_role("link", name="Checkout").click()
    fill_address(customer)
    customer.get_by_role("button", name="Place order").click()
    expect(customer.get_by_text("Thank you! Your order is placed.")).to_be_visible()
    ref = order_ref(order_id_from(customer))

    # The admin takes it from PLACED to PAID to SHIPPED.
    admin.get_by_role("navigation", name="Admin").get_by_role("link", name="Orders").click()
    expect(admin.get_by_role("heading", level=1, name="Admin: orders")).to_be_visible()
    expect(admin.get_by_label("Show orders with status")).to_have_value("PLACED")
    admin.get_by_role("button", name=f"Mark order {ref} as paid").click()
    expect(admin.get_by_text(f"Order {ref} is now PAID.")).to_be_visible()
    admin.get_by_label("Show orders with status").select_option("PAID")
    admin.get_by_role("button", name=f"Mark order {ref} as shipped").click()
    expect(admin.get_by_text(f"Order {ref} is now SHIPPED.")).to_be_visible()
    admin.get_by_label("Show orders with status").select_option("SHIPPED")
    expect(admin.get_by_role("button", name=f"Mark order {ref} as delivered")).to_be_visible()
    admin.screenshot(path=str(screenshots / "desktop-admin-orders.png"), full_page=True)

    # The customer sees SHIPPED, and can no longer cancel.
    customer.reload()
    expect(customer.get_by_role("heading", level=1, name=f"Order {ref}")).to_be_visible()
    expect(customer.get_by_text("SHIPPED", exact=True)).to_be_visible()
    expect(customer.get_by_role("button", name="Cancel order")).to_have_count(0)
    customer.screenshot(path=str(screenshots / "desktop-order-shipped.png"), full_page=True)
    open_shop(customer, "/#/orders")
    expect(customer.get_by_role("list", name="Your orders")).to_contain_text("SHIPPED")


def requests_url(base: str, url: str) -> str:
    return url if url.startswith("http") else base + url
