"""Every page and state of the storefront passes axe-core's WCAG 2.2 A/AA rules and its best
practices, on a phone and on a desktop: the catalog, search, a product, the cart, sign-in
and sign-up, checkout with its errors, an order with its payment step and a decline, and the
admin's pages, second factor included.

axe-core is the engine browser vendors and auditors use (bundled by axe-playwright-python,
so nothing is downloaded). A failure lists each broken rule with the elements that break it.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .steps import VIEWPORTS, customer_with_cart, fill_address, open_shop, order_id_from, sign_in

pytestmark = pytest.mark.browser

AXE = Axe()
OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}


def violations(page: Page) -> list[str]:
    """axe's violations on the page as it is now, one line per rule with the failing elements."""
    found = AXE.run(page, options=OPTIONS).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:5])}"
        for v in found
    ]


class Audit:
    """Runs axe on each state a test reaches and reports them all at the end."""

    def __init__(self, page: Page, viewport: str) -> None:
        self.page, self.viewport = page, viewport
        self.checked: list[str] = []
        self.failures: list[str] = []

    def check(self, state: str) -> None:
        self.checked.append(state)
        self.failures += [f"{self.viewport} {state}: {line}" for line in violations(self.page)]

    def open(self, path: str, state: str | None = None) -> None:
        open_shop(self.page, path)
        self.check(state or path)

    def assert_clean(self) -> None:
        assert not self.failures, f"axe violations in {len(self.checked)} states:\n" + "\n".join(self.failures)


@pytest.fixture(params=sorted(VIEWPORTS))
def audit(request, contexts) -> Audit:
    width, height = VIEWPORTS[request.param]
    return Audit(contexts.new_page(width=width, height=height), request.param)


def test_a_visitors_pages_pass_axe(shop, audit):
    product = next(p for p in shop.all_products() if p["stock"] >= 5)
    category = shop.categories()[0]["categoryId"]
    page = audit.page
    audit.open("/")
    audit.open(f"/c/{category}")
    audit.open("/?minPrice=1000&maxPrice=50000&inStock=true&sort=price", "the catalog, filtered and sorted")
    audit.open("/search?q=zzzqqq", "a search without results")
    audit.open(f"/p/{product['productId']}", "a product")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_be_visible()
    audit.check("a product just added to the guest cart")
    audit.open("/cart", "the guest cart")
    audit.open("/signin")
    page.get_by_role("button", name="Sign in").click()  # empty: each field says why
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    audit.check("sign-in with its errors")
    audit.open("/signup")
    audit.assert_clean()


def test_a_customers_checkout_and_payment_pass_axe(shop, audit):
    product = next(p for p in shop.all_products() if p["stock"] >= 5)
    email, _ = customer_with_cart(shop, {product["productId"]: 2})
    page = audit.page
    sign_in(page, email)
    audit.open("/cart", "the signed-in cart")
    audit.open("/checkout")
    page.get_by_role("button", name="Place order").click()  # nothing filled in: each field says why
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    audit.check("checkout with its errors")
    fill_address(page)
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Thank you! Your order is placed.")).to_be_visible()
    audit.check("an order placed, with its payment step")
    payment = page.get_by_role("region", name="Payment")
    payment.get_by_label("Card number").fill("4000 0000 0000 0002")
    payment.get_by_role("button", name="Pay").click()
    expect(payment.get_by_role("alert")).to_contain_text("Your card was declined.")
    audit.check("a declined payment")
    order_id = order_id_from(page)
    audit.open("/orders")
    audit.open(f"/orders/{order_id}", "an order")
    audit.assert_clean()


def test_the_admins_pages_pass_axe(shop, audit):
    page = audit.page
    second_factor = "the admin's second factor"
    sign_in(page, shop.admin_email, shop.admin_password, on_second_factor=lambda: audit.check(second_factor))
    assert second_factor in audit.checked, "the admin signed in without being asked for a second factor"
    audit.open("/admin", "the products' admin")
    audit.open("/admin/products/new", "a new product")
    page.get_by_role("button", name="Create product").click()  # empty: each field says why
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    audit.check("a new product with its errors")
    audit.open("/admin/orders", "the orders' admin")
    audit.assert_clean()
