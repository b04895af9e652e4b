"""One local stack (moto server + gateway + real AWS entrypoints) for the e2e session."""

from __future__ import annotations

import itertools
import time

import pytest
import requests

from functions.local.stack import LocalStack
from tests.fakes import mfa

ADDRESS = {
    "shippingAddress": {
        "name": "Ada Lovelace",
        "line1": "1 Analytical St",
        "city": "London",
        "postalCode": "N1 1AA",
        "country": "GB",
    }
}
_ids = itertools.count()


@pytest.fixture(scope="session")
def shop():
    with LocalStack(port=0) as stack:
        yield stack


class Client:
    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base, token
        self.http = requests.Session()

    def call(self, method: str, path: str, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kw)


@pytest.fixture
def anon(shop) -> Client:
    return Client(shop.base_url)


def sign_in(shop, email: str, password: str) -> Client:
    r = requests.post(shop.base_url + "/api/auth/login", json={"email": email, "password": password}, timeout=30)
    assert r.status_code == 200, f"login of {email} failed: {r.status_code} {r.text}"
    return Client(shop.base_url, r.json()["accessToken"])


def new_customer(shop) -> Client:
    email = f"customer{next(_ids)}-{time.monotonic_ns()}@example.com"
    r = requests.post(
        shop.base_url + "/api/auth/signup", json={"email": email, "password": "Corr3ct-horse!"}, timeout=30
    )
    assert r.status_code == 202, f"signup failed: {r.status_code} {r.text}"
    client = sign_in(shop, email, "Corr3ct-horse!")
    client.email = email
    return client


@pytest.fixture
def customer(shop) -> Client:
    return new_customer(shop)


@pytest.fixture
def admin(shop) -> Client:
    return Client(shop.base_url, mfa.sign_in(shop.base_url, shop.admin_email, shop.admin_password)["accessToken"])


def create_product(admin: Client, stock: int, price: int = 1500, name: str = "Test widget") -> dict:
    r = admin.call(
        "POST",
        "/api/admin/products",
        json={
            "name": name,
            "description": "e2e",
            "category": "home",
            "price": price,
            "currency": "USD",
            "stock": stock,
        },
    )
    assert r.status_code == 201, f"admin create failed: {r.status_code} {r.text}"
    return r.json()


def wait_for_email(shop, to: str, subject_part: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outbox = requests.get(
            shop.base_url + "/local/outbox", headers={"x-shop-outbox-key": shop.outbox_key}, timeout=10
        )
        assert outbox.status_code == 200, f"/local/outbox refused this run's key: {outbox.status_code} {outbox.text}"
        for mail in outbox.json():
            if mail["to"] == to and subject_part in mail["subject"]:
                return mail
        time.sleep(0.2)
    raise AssertionError(f"no email to {to} with {subject_part!r} within {timeout}s")
