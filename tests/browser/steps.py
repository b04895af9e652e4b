"""Shared pieces of the storefront's browser tests: the shop under test, browser contexts
that record console errors, and UI steps used by several tests."""

from __future__ import annotations

import re
import socket
import struct
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from functions.adapters import totp
from tests.fakes import mfa

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "Shopper-Passw0rd!"
# (width, height) of the form factors the layout and accessibility tests cover
VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 900)}
# What the CDN sends (providers/aws/cdn.py); the tests serve the page under it so a
# violation (inline style, blob: image, eval...) shows up as a console error here first.
FALLBACK_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self' https://*.amazonaws.com; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def production_csp() -> str:
    try:
        from providers.aws.cdn import CONTENT_SECURITY_POLICY
    except Exception:  # the infrastructure code is optional for these tests
        return FALLBACK_CSP
    return CONTENT_SECURITY_POLICY


ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postalCode": "NW1 2AB",
    "country": "GB",
}

expect.set_options(timeout=15_000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Shop:
    """The shop under test: its URL, an admin account, and API helpers for set-up."""

    base_url: str
    admin_email: str
    admin_password: str
    http: requests.Session = field(default_factory=requests.Session)

    def api(self, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base_url + path, headers=headers, timeout=30, **kw)

    def login(self, email: str, password: str) -> str:
        """An access token, through the MFA challenge (and enrolment) an admin gets."""
        return mfa.sign_in(self.base_url, email, password)["accessToken"]

    def new_customer(self) -> str:
        """Sign a customer up through the API (the UI sign-up has its own test); returns the email."""
        email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
        r = self.api("POST", "/api/auth/signup", json={"email": email, "password": PASSWORD})
        assert r.status_code == 202, r.text
        return email

    def admin_token(self) -> str:
        return self.login(self.admin_email, self.admin_password)

    def categories(self) -> list[dict]:
        return self.api("GET", "/api/categories").json()["items"]

    def create_product(self, name: str, stock: int, price: int = 1999) -> dict:
        body = {
            "name": name,
            "description": "Made for the browser tests.",
            "category": self.categories()[0]["categoryId"],
            "price": price,
            "currency": "USD",
            "stock": stock,
        }
        r = self.api("POST", "/api/admin/products", self.admin_token(), json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def all_products(self, **query) -> list[dict]:
        items, cursor = [], None
        while True:
            params = {**query, "limit": 50, **({"cursor": cursor} if cursor else {})}
            page = self.api("GET", "/api/products", params=params).json()
            items += page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return items

    def outbox(self, admin_token: str | None = None) -> list[dict]:
        """Every customer's mail: the outbox answers an admin (or the key `make dev` prints)."""
        r = self.api("GET", "/local/outbox", admin_token or self.admin_token())
        assert r.status_code == 200, f"/local/outbox refused the admin: {r.status_code} {r.text}"
        return r.json()

    def wait_for_email(self, to: str, timeout: float = 20) -> dict:
        """Emails go out through the topic and queue: poll the outbox until one arrives."""
        deadline = time.monotonic() + timeout
        token = self.admin_token()
        while True:
            mails = [m for m in self.outbox(token) if m.get("to") == to]
            if mails:
                return mails[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no email to {to} in /local/outbox after {timeout}s")
            time.sleep(0.25)


class Contexts:
    """Makes browser contexts on the shop's URL and collects every page's console errors.

    Chromium logs each failed HTTP response ("Failed to load resource: ... status of 409")
    as a console error; a test that expects such an answer passes its status in `allow`.
    """

    def __init__(self, browser: Browser, base_url: str, csp: str | None = "") -> None:
        """`csp`: the policy pages are served under; "" the CDN's (production_csp()), None
        the one the shop under test sends itself."""
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []
        self.allowed_statuses: set[int] = set()
        self.allowed_texts: set[str] = set()
        self.csp = production_csp() if csp == "" else csp

    def new_page(
        self, width: int = 1366, height: int = 900, allow: tuple[int, ...] = (), allow_text: tuple[str, ...] = ()
    ) -> Page:
        self.allowed_statuses.update(allow)
        self.allowed_texts.update(allow_text)
        # en-US so price assertions can spell "$12.34"; the shop itself follows the visitor's locale.
        ctx = self.browser.new_context(
            base_url=self.base_url, viewport={"width": width, "height": height}, locale="en-US", timezone_id="UTC"
        )
        self.contexts.append(ctx)
        # Every page is a document: / and index.html, and real paths such as /p/<id> (no dot).
        if self.csp is not None:
            ctx.route(re.compile(r"^https?://[^/]+/([^?#.]*|index\.html)(\?[^#]*)?$"), self._with_csp)
        page = ctx.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        return page

    def _with_csp(self, route) -> None:
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": self.csp or ""})

    def _on_console(self, msg) -> None:
        if msg.type != "error":
            return
        m = re.search(r"status of (\d{3})", msg.text)
        if m and int(m.group(1)) in self.allowed_statuses:
            return
        if any(t in msg.text for t in self.allowed_texts):
            return
        self.errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


# ---------------------------------------------------------------------------
# Shared UI steps
# ---------------------------------------------------------------------------


def open_shop(page: Page, path: str = "/") -> None:
    page.goto(path)
    expect(page.locator("html[data-ready=true]")).to_be_attached()


def sign_in(
    page: Page, email: str, password: str = PASSWORD, on_second_factor: Callable[[], None] | None = None
) -> None:
    """Signs in through the form; `on_second_factor` runs while the code form is shown."""
    open_shop(page, "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    signed_in = page.get_by_role("button", name="Sign out")
    code = page.get_by_label("Authentication code")
    expect(signed_in.or_(code)).to_be_visible()
    if code.is_visible():
        if on_second_factor:
            on_second_factor()
        answer_second_factor(page, email)
    expect(signed_in).to_be_visible()


def answer_second_factor(page: Page, email: str) -> None:
    """The admin's steps: enrol the authenticator if asked (its key is on the page), then
    enter the app's code."""
    if page.locator("#mfa-secret").is_visible():
        secret = page.locator("#mfa-secret").inner_text().strip()
        mfa.remember(email, secret)
        page.get_by_label("Authentication code").fill(totp.code(secret))
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("heading", level=1, name="Two-step sign-in", exact=True)).to_be_visible()
    page.get_by_label("Authentication code").fill(totp.code(mfa.secret_of(email)))
    page.get_by_role("button", name="Sign in").click()


def fill_address(page: Page, address: dict | None = None) -> None:
    a = address or ADDRESS
    # The country first: it decides which fields the form has (a state in the US, ...).
    page.get_by_label("Country").select_option(a["country"])
    page.get_by_label("Full name").fill(a["name"])
    page.get_by_label("Address line 1").fill(a["line1"])
    page.get_by_label("City").fill(a["city"])
    page.get_by_label("Postal code").fill(a["postalCode"])
    if "region" in a:
        page.locator("#region").fill(a["region"])
    if "phone" in a:
        page.get_by_label("Phone").fill(a["phone"])


def cart_link(page: Page, count: int):
    return page.get_by_role("link", name=f"Cart, {count} {'item' if count == 1 else 'items'}")


def png_bytes(width: int = 64, height: int = 64, rgb: tuple[int, int, int] = (79, 70, 229)) -> bytes:
    """A small solid-colour PNG, made here so the upload test needs no file on disk."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def usd(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def order_ref(order_id: str) -> str:
    """The storefront's order reference (ui.js orderRef): the whole id, as the e-mails print it."""
    return order_id


def order_id_from(page: Page) -> str:
    m = re.search(r"/orders/([^?#/]+)", page.url)
    assert m, f"not on an order page: {page.url}"
    return requests.utils.unquote(m.group(1))


def no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def customer_with_cart(shop: Shop, quantities: dict[str, int]) -> tuple[str, str]:
    """A new customer whose cart holds these quantities (set through the API): (email, token)."""
    email = shop.new_customer()
    token = shop.login(email, PASSWORD)
    for product_id, quantity in quantities.items():
        r = shop.api("PUT", f"/api/cart/items/{product_id}", token, json={"quantity": quantity})
        assert r.status_code == 200, r.text
    return email, token


def set_stock(shop: Shop, product_id: str, stock: int) -> None:
    r = shop.api("PUT", f"/api/admin/products/{product_id}/stock", shop.admin_token(), json={"stock": stock})
    assert r.status_code == 200, r.text


def cart_quantities(shop: Shop, token: str) -> dict[str, int]:
    return {i["productId"]: i["quantity"] for i in shop.api("GET", "/api/cart", token).json()["items"]}


def wait_until(page: Page, expression: str, timeout: float = 15) -> None:
    """Poll a JavaScript expression until it is truthy. page.evaluate, not wait_for_function:
    the page's Content-Security-Policy forbids the eval that wait_for_function polls with."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {expression}")
        time.sleep(0.1)
