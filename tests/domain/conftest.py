"""A shop on the in-memory adapters, driven through api.handle with neutral requests."""

from __future__ import annotations

import json

import pytest

from functions.adapters import totp
from functions.adapters.memory import memory_services
from functions.shop import ports
from functions.shop.api import handle
from functions.shop.http import Request, Response

ADDRESS = {
    "shippingAddress": {"name": "Ada", "line1": "1 St", "city": "London", "postalCode": "N1 9GU", "country": "GB"}
}
PASSWORD = "password123"

# id -> (price in cents, stock); all in category "books", currency USD
CATALOG = {"b1": (4500, 3), "b2": (1999, 10), "b3": (800, 0)}


class Shop:
    def __init__(self) -> None:
        self.services = memory_services()
        self.services.identity.iterations = 1  # password hashing is slow on purpose; not what's tested here
        store = self.services.store
        store.put_category(ports.Category("books", "Books"))
        for pid, (price, stock) in CATALOG.items():
            store.create_product(ports.Product(pid, f"Book {pid}", "d", "books", price, "USD", stock, None))

    @property
    def store(self):
        return self.services.store

    @property
    def notifier(self):
        return self.services.notifier

    def call(self, method, path, body=None, *, who=None, headers=None, query=None, raw=None) -> Response:
        """One request through the dispatcher; any 5xx fails the test on the spot."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = Request(method, path, body=data, principal=who, headers=headers or {}, query=query or {})
        r = handle(request, self.services)
        assert r.status < 500, f"{method} {path} answered {r.status}: {r.body}"
        return r

    def ok(self, method, path, body=None, *, status=200, **kw) -> dict:
        r = self.call(method, path, body, **kw)
        assert r.status == status, f"{method} {path}: expected {status}, got {r.status}: {r.body}"
        return r.body

    def fails(self, method, path, body=None, *, status, code=None, **kw) -> dict:
        """The error object of a refused request, after checking its status and code."""
        r = self.call(method, path, body, **kw)
        assert r.status == status, f"{method} {path}: expected {status}, got {r.status}: {r.body}"
        assert r.headers.get("content-type") == "application/json", r.headers
        err = r.body["error"]
        assert err["message"], f"{method} {path}: error without a message: {r.body}"
        if code is not None:
            assert err["code"] == code, f"{method} {path}: expected code {code}: {r.body}"
        return err

    def user(self, email="c@example.com", admin=False) -> ports.Principal:
        ident = self.services.identity
        ident.sign_up(email, PASSWORD)
        if admin:
            ident.add_to_group(email, "admin")
            # admins sign in with a second factor: enrol one and answer the challenge
            secret = ident.enable_mfa(email)
            challenge = ident.log_in(email, PASSWORD)
            token = ident.answer_mfa(email, challenge.session, totp.code(secret)).access_token
        else:
            token = ident.log_in(email, PASSWORD).access_token
        return ident.principal_for(token)

    def fill(self, who, quantities: dict[str, int]) -> dict:
        cart = {}
        for pid, qty in quantities.items():
            cart = self.ok("PUT", f"/api/cart/items/{pid}", {"quantity": qty}, who=who)
        return cart

    def checkout(self, who, key="key-1", body=ADDRESS) -> Response:
        return self.call("POST", "/api/orders", body, who=who, headers={"idempotency-key": key})

    def order(self, who, quantities: dict[str, int], key="key-1") -> dict:
        """Fill the cart and check it out; the placed order."""
        self.fill(who, quantities)
        r = self.checkout(who, key)
        assert r.status == 201, f"checkout failed: {r.status} {r.body}"
        return r.body

    def stock(self, pid: str) -> int:
        return self.store.get_product(pid).stock


@pytest.fixture
def shop() -> Shop:
    return Shop()


@pytest.fixture
def customer(shop) -> ports.Principal:
    return shop.user("c@example.com")


@pytest.fixture
def other(shop) -> ports.Principal:
    return shop.user("other@example.com")


@pytest.fixture
def admin(shop) -> ports.Principal:
    return shop.user("admin@example.com", admin=True)
