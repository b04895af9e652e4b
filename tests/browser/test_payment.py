"""The payment step: after placing an order the customer pays through the processor (the
simulated one of `make dev`, cards as in Stripe's test mode): a decline says why and leaves
the order unpaid, the extra confirmation step is offered, and the order shows as paid."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .steps import customer_with_cart, fill_address, open_shop, order_id_from, sign_in

pytestmark = pytest.mark.browser


def test_pay_after_placing_an_order(shop, contexts, screenshots):
    product = next(p for p in shop.all_products() if p["stock"] >= 5)
    email, token = customer_with_cart(shop, {product["productId"]: 1})
    page = contexts.new_page()
    sign_in(page, email)
    open_shop(page, "/checkout")
    fill_address(page)
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Thank you! Your order is placed.")).to_be_visible()
    order_id = order_id_from(page)
    payment = page.get_by_role("region", name="Payment")
    expect(payment).to_be_visible()

    payment.get_by_label("Card number").fill("4000 0000 0000 0002")
    payment.get_by_role("button", name="Pay").click()
    expect(payment.get_by_role("alert")).to_contain_text("Your card was declined.")
    page.screenshot(path=str(screenshots / "desktop-payment-declined.png"), full_page=True)
    assert shop.api("GET", f"/api/orders/{order_id}", token).json()["status"] == "PLACED"

    payment.get_by_label("Card number").fill("4000 0025 0000 3155")
    payment.get_by_role("button", name="Pay").click()
    payment.get_by_role("button", name="Confirm payment").click()
    expect(page.get_by_text("Payment received. Your order is paid.")).to_be_visible()
    expect(page.get_by_text("PAID", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Payment")).to_have_count(0)
    page.screenshot(path=str(screenshots / "desktop-order-paid.png"), full_page=True)
    assert shop.api("GET", f"/api/orders/{order_id}", token).json()["status"] == "PAID"
