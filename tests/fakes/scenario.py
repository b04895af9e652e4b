"""The purchase scenario every cloud runtime must carry end to end, written once against
a `call(method, path, *, token=None, body=None, headers=None) -> (status, json)` that each
runtime test implements with its native request type."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from functions.shop.ports import Category
from tests.fakes.orders import product

Call = Callable[..., tuple[int, Any]]
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main St", "city": "Paris", "postalCode": "75001", "country": "FR"}


def seed(store) -> None:
    store.put_category(Category("books", "Books"))
    store.put_category(Category("games", "Games"))
    for pid, name, price, stock in [
        ("b-1", "Algorithms", 4500, 3),
        ("b-2", "Compilers", 5200, 10),
        ("b-3", "Databases", 3900, 1),
        ("g-1", "Chess", 2500, 4),
    ]:
        store.create_product(
            product(pid, name, stock=stock, price=price, category="books" if pid[0] == "b" else "games")
        )


def expect(result: tuple[int, Any], status: int, what: str) -> Any:
    got, body = result
    assert got == status, f"{what}: expected HTTP {status}, got {got}: {json.dumps(body)[:300]}"
    return body


def sign_up_and_log_in(call: Call, email: str, password: str = "Correct-Horse-1") -> str:
    expect(call("POST", "/api/auth/signup", body={"email": email, "password": password}), 202, "sign up")
    tokens = expect(call("POST", "/api/auth/login", body={"email": email, "password": password}), 200, "log in")
    assert {"idToken", "accessToken", "refreshToken", "expiresIn"} <= tokens.keys(), tokens
    return tokens["accessToken"]


def purchase(call: Call, store) -> dict[str, Any]:
    """Sign up, browse, fill the cart, check out (and replay), list, read, cancel."""
    token = sign_up_and_log_in(call, "ada@example.com")
    me = expect(call("GET", "/api/me", token=token), 200, "me")
    assert me["email"] == "ada@example.com", me

    expect(call("GET", "/api/categories"), 200, "categories")
    page = expect(call("GET", "/api/products?category=books&limit=2"), 200, "first product page")
    assert [p["name"] for p in page["items"]] == ["Algorithms", "Compilers"] and page["nextCursor"], page
    rest = expect(call("GET", f"/api/products?category=books&limit=2&cursor={page['nextCursor']}"), 200, "next page")
    assert [p["name"] for p in rest["items"]] == ["Databases"] and rest["nextCursor"] is None, rest
    detail = expect(call("GET", "/api/products/b-1"), 200, "product detail")
    assert (detail["price"], detail["stock"]) == (4500, 3), detail

    expect(call("PUT", "/api/cart/items/b-1", token=token, body={"quantity": 2}), 200, "add b-1")
    cart = expect(call("PUT", "/api/cart/items/g-1", token=token, body={"quantity": 1}), 200, "add g-1")
    assert cart["subtotal"] == 2 * 4500 + 2500, cart

    checkout = {"shippingAddress": ADDRESS}
    key = {"Idempotency-Key": "checkout-0001"}
    order = expect(call("POST", "/api/orders", token=token, body=checkout, headers=key), 201, "checkout")
    assert (order["total"], order["status"]) == (2 * 4500 + 2500, "PLACED"), order
    replay = expect(call("POST", "/api/orders", token=token, body=checkout, headers=key), 200, "replayed checkout")
    assert replay["orderId"] == order["orderId"]
    assert store.get_product("b-1").stock == 1
    assert expect(call("GET", "/api/cart", token=token), 200, "cart after checkout")["items"] == []

    mine = expect(call("GET", "/api/orders", token=token), 200, "my orders")
    assert [o["orderId"] for o in mine["items"]] == [order["orderId"]], mine
    expect(call("GET", f"/api/orders/{order['orderId']}", token=token), 200, "my order")
    other = sign_up_and_log_in(call, "eve@example.com")
    expect(call("GET", f"/api/orders/{order['orderId']}", token=other), 404, "someone else's order")

    cancelled = expect(call("POST", f"/api/orders/{order['orderId']}/cancel", token=token), 200, "cancel")
    assert cancelled["status"] == "CANCELLED"
    assert store.get_product("b-1").stock == 3 and store.get_product("g-1").stock == 4, "cancel must restock"
    return order


def errors(call: Call, token: str) -> None:
    """Auth and validation failures keep the API's JSON error shape."""
    for status, result, what in [
        (401, call("GET", "/api/cart"), "no token"),
        (403, call("GET", "/api/admin/orders?status=PLACED", token=token), "customer on an admin route"),
        (400, call("PUT", "/api/cart/items/b-1", token=token, raw=b"{not json"), "malformed JSON"),
        (404, call("GET", "/api/nothing-here"), "unknown path"),
    ]:
        body = expect(result, status, what)
        assert isinstance(body, dict) and "code" in body.get("error", {}), f"{what}: not the error shape: {body}"
