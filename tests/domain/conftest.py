from __future__ import annotations

import json

import pytest

from functions.adapters.memory import memory_services
from functions.shop import ports
from functions.shop.api import handle
from functions.shop.http import Request

ADDRESS = {"shippingAddress": {"name": "Ada", "line1": "1 St", "city": "London", "postalCode": "N1", "country": "GB"}}


class Shop:
    def __init__(self) -> None:
        self.services = memory_services()
        store = self.services.store
        store.put_category(ports.Category("books", "Books"))
        for pid, price, stock in (("b1", 4500, 3), ("b2", 1999, 10), ("b3", 800, 0)):
            store.create_product(ports.Product(pid, f"Book {pid}", "d", "books", price, "USD", stock, None))

    def call(self, method, path, body=None, *, who=None, headers=None, query=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        r = handle(Request(method, path, body=data, principal=who, headers=headers or {}, query=query or {}),
                   self.services)
        assert r.status < 500, f"{method} {path} answered {r.status}: {r.body}"
        return r

    def user(self, email="c@example.com", admin=False):
        ident = self.services.identity
        ident.sign_up(email, "password123")
        if admin:
            ident.add_to_group(email, "admin")
        token = ident.log_in(email, "password123").access_token
        return ident.principal_for(token)


@pytest.fixture
def shop():
    return Shop()
