"""A client generated from the served OpenAPI document (openapi-python-client), untouched, buys
and ships an order against the local stack, and reads every error as the documented Error."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import requests

from tests.fakes import mfa

pytestmark = pytest.mark.e2e
PACKAGE = "shop_client"


@pytest.fixture(scope="module")
def gen(shop, tmp_path_factory) -> Iterator[ModuleType]:
    """The generated package's modules, imported from a temporary directory."""
    root = tmp_path_factory.mktemp("generated")
    served = requests.get(shop.base_url + "/api/openapi.json", timeout=30)
    assert served.status_code == 200, served.text
    (root / "openapi.json").write_bytes(served.content)
    (root / "config.yaml").write_text("post_hooks: []\n")  # no formatter run: not what is tested
    cli = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [cli, "generate", "--path", root / "openapi.json", "--config", root / "config.yaml", "--meta", "none",
         "--output-path", root / PACKAGE],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The generator skips what it cannot read with a warning: the document must need none but
    # the sitemap's (XML for search engines, not an API client's business).
    warnings = [b for b in output.split("WARNING")[1:] if "/api/sitemap.xml" not in b.split("\n", 1)[0]]
    assert not warnings, output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _m(module: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{module}")


class _Tag:
    """The operations of one tag, e.g. _Tag("cart").get_cart is shop_client.api.cart.get_cart."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __getattr__(self, operation: str) -> ModuleType:
        return _m(f"api.{self.tag}.{operation}")


def _ok(response, status: int = 200):
    assert response.status_code == status, f"{response.status_code}: {response.content!r}"
    return response.parsed


def _error(response, status: int, code: str):
    """The parsed Error of a refused call (a generated client's KeyError would surface here)."""
    models = _m("models")
    assert response.status_code == status, f"{response.status_code}: {response.content!r}"
    assert isinstance(response.parsed, models.Error), f"not parsed as Error: {response.content!r}"
    assert response.parsed.error.code == models.ErrorBodyCode(code), response.parsed
    return response.parsed.error


def _signed_in(gen: ModuleType, base_url: str, email: str, password: str):
    models, log_in = _m("models"), _Tag("accounts").log_in
    tokens = _ok(log_in.sync_detailed(client=gen.Client(base_url), body=models.LoginRequest(email, password)))
    return gen.AuthenticatedClient(base_url, token=tokens.access_token), tokens


def test_a_generated_client_buys_and_ships_an_order(gen, shop):
    models = _m("models")
    catalog, cart, orders = _Tag("catalog"), _Tag("cart"), _Tag("orders")
    accounts, admin_api = _Tag("accounts"), _Tag("admin")
    anon = gen.Client(shop.base_url)
    email, password = f"generated-{time.monotonic_ns()}@example.com", "Corr3ct-horse!"

    signed_up = _ok(accounts.sign_up.sync_detailed(client=anon, body=models.SignUpRequest(email, password)), 202)
    assert signed_up.status == "pending" and signed_up.confirmed, "the local stack confirms sign-ups itself"
    me, tokens = _signed_in(gen, shop.base_url, email, password)
    assert _ok(accounts.get_me.sync_detailed(client=me)).email == email

    page = _ok(catalog.list_products.sync_detailed(client=anon, category="books", limit=3))
    assert len(page.items) == 3 and page.next_cursor
    # Admins answer a TOTP challenge (the storefront's flow, tests/fakes/mfa.py)
    admin = gen.AuthenticatedClient(
        shop.base_url, token=mfa.sign_in(shop.base_url, shop.admin_email, shop.admin_password)["accessToken"]
    )
    new = models.ProductInput(name="Generated widget", category="home", price=1234, currency="USD", stock=3)
    created = _ok(admin_api.admin_create_product.sync_detailed(client=admin, body=new), 201)
    pid = created.product_id
    product = _ok(catalog.get_product.sync_detailed(pid, client=anon))
    assert (product.price, product.stock) == (1234, 3)

    basket = _ok(cart.set_cart_item.sync_detailed(pid, client=me, body=models.SetCartItemRequest(quantity=2)))
    assert [(i.product_id, i.quantity) for i in basket.items] == [(pid, 2)]
    address = models.ShippingAddress(
        name="Gen Client", line1="1 Spec St", city="Parsing", postal_code="SW1A 1AA", country="GB"
    )
    key = f"gen-{time.monotonic_ns()}"
    order = _ok(
        orders.place_order.sync_detailed(client=me, body=models.PlaceOrderRequest(address), idempotency_key=key), 201
    )
    assert order.status == models.OrderStatus.PLACED and order.total == 2 * product.price
    assert order.created_at.tzinfo is not None, "createdAt parsed as an aware date-time"
    replay = _ok(
        orders.place_order.sync_detailed(client=me, body=models.PlaceOrderRequest(address), idempotency_key=key)
    )
    assert replay.order_id == order.order_id
    assert _ok(orders.list_my_orders.sync_detailed(client=me)).items[0].order_id == order.order_id

    for status in (models.OrderStatus.PAID, models.OrderStatus.SHIPPED):
        moved = admin_api.admin_set_order_status.sync_detailed(
            order.order_id, client=admin, body=models.OrderStatusInput(status)
        )
        assert _ok(moved).status == status
    assert _ok(orders.get_my_order.sync_detailed(order.order_id, client=me)).status == models.OrderStatus.SHIPPED

    # Refusals parse as the documented Error, with their codes and extras.
    _error(catalog.get_product.sync_detailed("no-such-product", client=anon), 404, "NOT_FOUND")
    _error(
        cart.get_cart.sync_detailed(client=gen.AuthenticatedClient(shop.base_url, token="forged")), 401, "UNAUTHORIZED"
    )
    _error(admin_api.admin_list_orders.sync_detailed(client=me, status=models.OrderStatus.PLACED), 403, "FORBIDDEN")
    empty = orders.place_order.sync_detailed(
        client=me, body=models.PlaceOrderRequest(address), idempotency_key=key + "-2"
    )
    _error(empty, 409, "CART_EMPTY")
    over = cart.set_cart_item.sync_detailed(pid, client=me, body=models.SetCartItemRequest(quantity=2))
    refused = _error(over, 409, "INSUFFICIENT_STOCK")
    assert refused.product_ids == [pid], "the cart refuses more than the stock"
    assert refused.available.additional_properties == {pid: 1}, "and says how many are left"
    invalid = admin_api.admin_set_stock.sync_detailed(pid, client=admin, body=models.StockInput(stock=-1))
    assert [d.field for d in _error(invalid, 422, "VALIDATION_ERROR").details] == ["stock"]
    long_key = orders.place_order.sync_detailed(
        client=me, body=models.PlaceOrderRequest(address), idempotency_key="k" * 101
    )
    _error(long_key, 400, "INVALID_IDEMPOTENCY_KEY")
    bad_refresh = accounts.refresh_tokens.sync_detailed(client=anon, body=models.RefreshRequest("not-a-token"))
    assert "refresh token" in _error(bad_refresh, 401, "NOT_AUTHORIZED").message
    assert tokens.refresh_token, "a real refresh token still works"
    assert _ok(
        accounts.refresh_tokens.sync_detailed(client=anon, body=models.RefreshRequest(tokens.refresh_token))
    ).access_token
