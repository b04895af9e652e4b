"""Browsing the catalog and keeping a cart."""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.shop import datamodel, ports


def add_products(shop, n: int, category="toys", name="Toy"):
    for i in range(n):
        shop.store.create_product(ports.Product(f"t{i:03}", f"{name} {i:03}", "", category, 100 + i, "USD", 5))


def test_categories(shop):
    shop.store.put_category(ports.Category("art", "Art"))
    assert shop.ok("GET", "/api/categories") == {
        "items": [{"categoryId": "art", "name": "Art"}, {"categoryId": "books", "name": "Books"}]
    }


def test_product_detail_and_404(shop):
    assert shop.ok("GET", "/api/products/b1") == {
        "productId": "b1",
        "name": "Book b1",
        "description": "d",
        "category": "books",
        "price": 4500,
        "currency": "USD",
        "stock": 3,
        "imageUrl": None,
    }
    assert "zzz" in shop.fails("GET", "/api/products/zzz", status=404, code="NOT_FOUND")["message"]


def test_pagination_walks_every_product_once_in_name_order(shop):
    add_products(shop, 45)
    seen, cursor, pages = [], None, 0
    while True:
        page = shop.ok(
            "GET", "/api/products", query={"category": "toys", "limit": "20", **({"cursor": cursor} if cursor else {})}
        )
        seen += [p["productId"] for p in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == [f"t{i:03}" for i in range(45)]


def test_default_limit_is_20(shop):
    add_products(shop, 25)
    page = shop.ok("GET", "/api/products", query={"category": "toys"})
    assert len(page["items"]) == 20 and page["nextCursor"]


def test_no_category_lists_everything_and_q_searches_names_case_insensitively(shop):
    add_products(shop, 3, name="Kite")
    assert len(shop.ok("GET", "/api/products")["items"]) == 6
    found = shop.ok("GET", "/api/products", query={"q": "kITe 00"})["items"]
    assert [p["productId"] for p in found] == ["t000", "t001", "t002"]
    assert shop.ok("GET", "/api/products", query={"category": "books", "q": "kite"})["items"] == []
    assert shop.ok("GET", "/api/products", query={"category": "nope"}) == {"items": [], "nextCursor": None}


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"limit": "\u0665"},  # an Arabic-Indic five: int() takes it, the API does not
        {"cursor": "!!not-a-cursor"},
        {"cursor": "x" * 1025},
        {"q": "x" * 101},
        {"category": "c" * 65},
        {"q": "bad\x00"},
    ],
)
def test_bad_query_parameters_are_400(shop, query):
    err = shop.fails("GET", "/api/products", query=query, status=400, code="BAD_REQUEST")
    assert next(iter(query)) in err["message"] or "cursor" in err["message"], err


def test_cart_shows_live_prices_and_totals(shop, customer):
    cart = shop.fill(customer, {"b1": 2, "b2": 1})
    assert cart == {
        "items": [
            {"productId": "b1", "name": "Book b1", "unitPrice": 4500, "quantity": 2, "lineTotal": 9000, "stock": 3},
            {"productId": "b2", "name": "Book b2", "unitPrice": 1999, "quantity": 1, "lineTotal": 1999, "stock": 10},
        ],
        "subtotal": 10999,
        "currency": "USD",
    }
    b1 = shop.store.get_product("b1")
    shop.store.update_product(replace(b1, price=5000))
    assert shop.ok("GET", "/api/cart", who=customer)["subtotal"] == 2 * 5000 + 1999


def test_setting_a_quantity_replaces_it_and_zero_or_delete_removes_the_line(shop, customer):
    shop.fill(customer, {"b1": 2})
    assert shop.fill(customer, {"b1": 1})["items"][0]["quantity"] == 1
    assert shop.fill(customer, {"b1": 0})["items"] == []
    shop.fill(customer, {"b1": 1, "b2": 1})
    cart = shop.ok("DELETE", "/api/cart/items/b1", who=customer)
    assert [i["productId"] for i in cart["items"]] == ["b2"]
    assert shop.ok("DELETE", "/api/cart/items/b1", who=customer)["subtotal"] == 1999, "removing twice is harmless"
    assert shop.ok("DELETE", "/api/cart", who=customer) == {"items": [], "subtotal": 0, "currency": "USD"}
    assert shop.store.get_cart(customer.user_id) == []


def test_unknown_products_cannot_be_added(shop, customer):
    shop.fails("PUT", "/api/cart/items/nope", {"quantity": 1}, who=customer, status=404, code="NOT_FOUND")
    assert shop.ok("PUT", "/api/cart/items/nope", {"quantity": 0}, who=customer)["items"] == []
    assert shop.store.get_cart(customer.user_id) == []


def test_a_cart_quantity_above_stock_is_refused_with_what_is_left(shop, customer):
    err = shop.fails("PUT", "/api/cart/items/b1", {"quantity": 4}, who=customer, status=409, code="INSUFFICIENT_STOCK")
    assert err["available"] == {"b1": 3} and err["productIds"] == ["b1"], err
    assert "Book b1: 3 left" in err["message"], err
    assert shop.ok("GET", "/api/cart", who=customer)["items"] == [], "the refused quantity was stored"
    sold_out = shop.fails("PUT", "/api/cart/items/b3", {"quantity": 1}, who=customer, status=409)
    assert sold_out["available"] == {"b3": 0} and "sold out" in sold_out["message"], sold_out
    assert shop.fill(customer, {"b1": 3})["items"][0]["quantity"] == 3, "exactly the stock must be accepted"


def test_a_line_whose_stock_fell_can_still_be_lowered_or_removed(shop, customer, admin):
    shop.fill(customer, {"b2": 5})
    shop.ok("PUT", "/api/admin/products/b2/stock", {"stock": 2}, who=admin)
    # the cart shows the stock so the storefront can warn before checkout
    assert shop.ok("GET", "/api/cart", who=customer)["items"][0]["stock"] == 2
    shop.fails("PUT", "/api/cart/items/b2", {"quantity": 3}, who=customer, status=409, code="INSUFFICIENT_STOCK")
    assert shop.fill(customer, {"b2": 2})["items"][0]["quantity"] == 2
    assert shop.fill(customer, {"b2": 0})["items"] == []


def test_a_deleted_product_drops_out_of_the_cart(shop, customer, admin):
    shop.fill(customer, {"b1": 1, "b2": 1})
    shop.ok("DELETE", "/api/admin/products/b1", who=admin)
    cart = shop.ok("GET", "/api/cart", who=customer)
    assert [i["productId"] for i in cart["items"]] == ["b2"] and cart["subtotal"] == 1999


def test_cart_line_limit(shop, customer):
    add_products(shop, datamodel.MAX_CART_LINES + 1)
    shop.fill(customer, {f"t{i:03}": 1 for i in range(datamodel.MAX_CART_LINES)})
    over = f"t{datamodel.MAX_CART_LINES:03}"
    err = shop.fails("PUT", f"/api/cart/items/{over}", {"quantity": 1}, who=customer, status=409, code="CART_FULL")
    assert str(datamodel.MAX_CART_LINES) in err["message"]
    assert len(shop.store.get_cart(customer.user_id)) == datamodel.MAX_CART_LINES
    # changing a line already in a full cart is fine
    assert shop.fill(customer, {"t000": 5})["items"][0]["quantity"] == 5


def test_lines_of_deleted_products_do_not_count_towards_the_limit(shop, customer):
    add_products(shop, datamodel.MAX_CART_LINES + 1)
    shop.fill(customer, {f"t{i:03}": 1 for i in range(datamodel.MAX_CART_LINES)})
    shop.store.delete_product("t000")
    over = f"t{datamodel.MAX_CART_LINES:03}"
    assert len(shop.fill(customer, {over: 1})["items"]) == datamodel.MAX_CART_LINES


def test_carts_are_per_customer(shop, customer, other):
    shop.fill(customer, {"b1": 1})
    assert shop.ok("GET", "/api/cart", who=other)["items"] == []
    shop.ok("DELETE", "/api/cart", who=other)
    assert len(shop.ok("GET", "/api/cart", who=customer)["items"]) == 1


def test_browse_filters_and_sort_through_the_api(shop):
    add_products(shop, 5)  # t000..t004: prices 100..104, stock 5
    shop.store.set_stock("t002", 0)
    got = shop.ok("GET", "/api/products", query={"category": "toys", "sort": "-price", "inStock": "true"})
    assert [p["productId"] for p in got["items"]] == ["t004", "t003", "t001", "t000"], got
    got = shop.ok("GET", "/api/products", query={"minPrice": "101", "maxPrice": "103", "sort": "price"})
    assert [p["price"] for p in got["items"]] == [101, 102, 103], got
    everything = shop.ok("GET", "/api/products", query={"sort": "price", "minPrice": "0"})
    assert everything["items"][-1]["productId"] == "b1", "the most expensive product must come last"


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "cheapest"},
        {"sort": "price,name"},
        {"minPrice": "-1"},
        {"minPrice": "1.5"},
        {"maxPrice": "100000001"},
        {"minPrice": "500", "maxPrice": "499"},
        {"inStock": "yes"},
        {"inStock": "1"},
    ],
)
def test_bad_browse_parameters_are_a_400(shop, query):
    shop.fails("GET", "/api/products", query=query, status=400, code="BAD_REQUEST")


def test_a_cursor_of_another_sort_or_filter_is_a_400(shop):
    add_products(shop, 5)
    by_price = shop.ok("GET", "/api/products", query={"sort": "price", "limit": "2"})["nextCursor"]
    assert shop.ok("GET", "/api/products", query={"sort": "price", "limit": "2", "cursor": by_price})["items"]
    for other in (
        {"sort": "name"},
        {"sort": "-price"},
        {"sort": "price", "inStock": "true"},
        {"sort": "price", "minPrice": "1"},
    ):
        shop.fails("GET", "/api/products", query={**other, "limit": "2", "cursor": by_price}, status=400)
