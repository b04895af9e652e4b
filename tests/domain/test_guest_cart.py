"""Merging a guest cart (kept by the storefront) into the account's cart at sign-in."""

from __future__ import annotations

from functions.shop import datamodel, ports


def merge(shop, who, items: list[tuple[str, int]]) -> dict:
    body = {"items": [{"productId": pid, "quantity": q} for pid, q in items]}
    return shop.ok("POST", "/api/cart/merge", body, who=who)


def quantities(cart: dict) -> dict[str, int]:
    return {i["productId"]: i["quantity"] for i in cart["items"]}


def test_quantities_add_up_and_are_capped_at_stock(shop, customer):
    shop.fill(customer, {"b1": 2, "b2": 1})
    cart = merge(shop, customer, [("b1", 2), ("b2", 4)])
    assert quantities(cart) == {"b1": 3, "b2": 5}, cart
    assert cart["adjusted"] == [{"productId": "b1", "requested": 2, "added": 1, "reason": "STOCK"}], cart
    assert cart["subtotal"] == 3 * 4500 + 5 * 1999
    stored = {li.product_id: li.quantity for li in shop.store.get_cart(customer.user_id)}
    assert stored == {"b1": 3, "b2": 5}, "the merged cart was not stored"


def test_unknown_and_sold_out_products_are_skipped_and_reported(shop, customer):
    cart = merge(shop, customer, [("ghost", 1), ("b3", 2), ("b2", 1), ("b2", 2)])
    assert quantities(cart) == {"b2": 3}, "a product named twice counts once with the sum"
    assert cart["adjusted"] == [
        {"productId": "ghost", "requested": 1, "added": 0, "reason": "UNKNOWN_PRODUCT"},
        {"productId": "b3", "requested": 2, "added": 0, "reason": "STOCK"},
    ], cart


def test_the_line_limit_is_respected(shop, customer):
    for i in range(datamodel.MAX_CART_LINES):
        shop.store.create_product(ports.Product(f"t{i:03}", f"T {i}", "", "toys", 100, "USD", 5))
    shop.fill(customer, {f"t{i:03}": 1 for i in range(datamodel.MAX_CART_LINES - 1)})
    cart = merge(shop, customer, [("b1", 1), ("b2", 1), ("t000", 1)])
    assert len(cart["items"]) == datamodel.MAX_CART_LINES and quantities(cart)["t000"] == 2
    assert "b2" not in quantities(cart)
    assert cart["adjusted"] == [{"productId": "b2", "requested": 1, "added": 0, "reason": "CART_FULL"}], cart


def test_a_line_already_above_the_stock_is_left_as_it_is(shop, customer, admin):
    shop.fill(customer, {"b2": 5})
    shop.ok("PUT", "/api/admin/products/b2/stock", {"stock": 2}, who=admin)
    cart = merge(shop, customer, [("b2", 1)])
    assert quantities(cart) == {"b2": 5}, "merging must never take away what the customer chose"
    assert cart["adjusted"] == [{"productId": "b2", "requested": 1, "added": 0, "reason": "STOCK"}]


def test_the_line_quantity_limit_applies_to_the_sum(shop, customer):
    shop.store.create_product(ports.Product("bulk", "Bulk", "", "toys", 1, "USD", 1000))
    shop.fill(customer, {"bulk": 90})
    cart = merge(shop, customer, [("bulk", 20)])
    assert quantities(cart) == {"bulk": datamodel.MAX_LINE_QUANTITY}
    assert cart["adjusted"][0]["reason"] == "LINE_QUANTITY_LIMIT" and cart["adjusted"][0]["added"] == 9


def test_bad_input_and_no_sign_in_are_refused(shop, customer):
    shop.fails("POST", "/api/cart/merge", {"items": []}, status=401, code="UNAUTHORIZED")
    for body in (
        {"items": [{"productId": "b1", "quantity": 0}]},
        {"items": [{"productId": "b1", "quantity": 1.5}]},
        {"items": [{"productId": "", "quantity": 1}]},
        {"items": [{"productId": "b1", "quantity": 1}] * 101},
        {"items": [{"productId": "b1", "quantity": 1, "price": 1}]},
    ):
        shop.fails("POST", "/api/cart/merge", body, who=customer, status=422, code="VALIDATION_ERROR")
    assert merge(shop, customer, []) == {"items": [], "subtotal": 0, "currency": "USD", "adjusted": []}
