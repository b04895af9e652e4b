"""The dispatcher: routing, auth, body parsing, error mapping, headers."""

from __future__ import annotations

import json
import logging

import pytest

from functions.shop import api, ports
from functions.shop.http import Request
from functions.shop.routes import ROUTES

PRODUCT = {"name": "Lamp", "category": "home", "price": 1500, "currency": "USD", "stock": 2}


def test_unknown_path_is_404_and_known_path_with_another_method_is_405(shop):
    shop.fails("GET", "/api/nothing-here", status=404, code="NOT_FOUND")
    shop.fails("GET", "/api/products/b1/extra", status=404, code="NOT_FOUND")
    r = shop.call("PATCH", "/api/cart/items/b1")
    assert r.status == 405 and r.body["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert r.headers["allow"] == "DELETE, PUT"


def test_the_gateway_route_key_is_used_when_present(shop):
    # API Gateway matched the route and passes its key and parameters; the concrete path is not re-parsed.
    req = Request("GET", "/ignored", route_key="GET /api/products/{productId}", path_params={"productId": "b2"})
    r = api.handle(req, shop.services)
    assert r.status == 200 and r.body["productId"] == "b2"


@pytest.mark.parametrize("route", [r for r in ROUTES if r.auth != "public"], ids=lambda r: r.operation_id)
def test_every_protected_route_needs_a_principal(shop, route):
    path = route.path.replace("{productId}", "b1").replace("{orderId}", "o1")
    err = shop.fails(route.method, path, {}, status=401, code="UNAUTHORIZED")
    assert "token" in err["message"]


@pytest.mark.parametrize("route", [r for r in ROUTES if r.auth == "admin"], ids=lambda r: r.operation_id)
def test_every_admin_route_refuses_customers(shop, customer, route):
    path = route.path.replace("{productId}", "b1").replace("{orderId}", "o1")
    shop.fails(route.method, path, PRODUCT, who=customer, status=403, code="FORBIDDEN")
    assert shop.stock("b1") == 3 and shop.store.get_product("b1").name == "Book b1", "a refused call wrote"


def test_auth_is_checked_before_the_body(shop):
    # An anonymous caller learns nothing about the body's validity.
    shop.fails("PUT", "/api/cart/items/b1", raw=b"not json", status=401)


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"", 400, "BAD_REQUEST"),
        (b"{", 400, "BAD_REQUEST"),
        (b"\xff\xfe", 400, "BAD_REQUEST"),
        (b"[1, 2]", 400, "BAD_REQUEST"),
        (b'"quantity"', 400, "BAD_REQUEST"),
        (b"null", 400, "BAD_REQUEST"),
        (b"[" * 60_000, 400, "BAD_REQUEST"),  # deep nesting must not crash the parser
        (b'{"quantity": ' + b"9" * 5000 + b"}", 400, "BAD_REQUEST"),  # int beyond Python's digit limit
        (b'{"quantity": 1' + b" " * (64 * 1024) + b"}", 413, "PAYLOAD_TOO_LARGE"),
    ],
    ids=["empty", "truncated", "not-utf8", "array", "string", "null", "deep", "huge-int", "oversize"],
)
def test_malformed_bodies_are_4xx_json(shop, customer, raw, status, code):
    shop.fails("PUT", "/api/cart/items/b1", raw=raw, who=customer, status=status, code=code)
    assert shop.store.get_cart(customer.user_id) == []


def test_validation_errors_name_each_field(shop, customer):
    err = shop.fails("PUT", "/api/cart/items/b1", {"quantity": "2", "price": 1}, who=customer, status=422)
    assert err["code"] == "VALIDATION_ERROR"
    fields = {d["field"] for d in err["details"]}
    assert fields == {"quantity", "price"}, err
    assert "quantity" in err["message"] and "price" in err["message"]


def test_nested_validation_errors_use_the_json_path(shop, customer):
    body = {"shippingAddress": {**ADDRESS_FIELDS, "country": "gb"}}
    err = shop.fails("POST", "/api/orders", body, who=customer, headers={"idempotency-key": "k"}, status=422)
    assert [d["field"] for d in err["details"]] == ["shippingAddress.country"]


ADDRESS_FIELDS = {"name": "Ada", "line1": "1 St", "city": "London", "postalCode": "N1", "country": "GB"}


@pytest.mark.parametrize("value", ["x" * 129, "a\x00b", "tab\there"])
def test_bad_path_parameters_are_400(shop, value):
    shop.fails("GET", f"/api/products/{value}", status=400, code="BAD_REQUEST")


def test_json_content_type_everywhere_and_no_store_on_personal_routes(shop, customer):
    public = shop.call("GET", "/api/products/b1")
    assert public.headers["content-type"] == "application/json"
    assert "cache-control" not in public.headers
    personal = shop.call("GET", "/api/cart", who=customer)
    assert personal.headers["content-type"] == "application/json"
    assert personal.headers["cache-control"] == "no-store"
    denied = shop.call("GET", "/api/cart")
    assert denied.headers["cache-control"] == "no-store"


def test_request_id_is_echoed(shop):
    r = api.handle(Request("GET", "/api/health", request_id="req-42"), shop.services)
    assert r.headers["x-request-id"] == "req-42"


def test_health(shop):
    assert shop.ok("GET", "/api/health") == {"status": "ok", "cloud": "local"}


def _boom(*args, **kwargs):
    raise RuntimeError("secret connection string in here")


def test_an_unexpected_error_is_a_generic_500_and_is_logged(shop, caplog):
    shop.store.list_categories = _boom
    with caplog.at_level(logging.ERROR, logger="shop.api"):
        r = api.handle(Request("GET", "/api/categories", request_id="req-7"), shop.services)
    assert r.status == 500 and r.body["error"]["code"] == "INTERNAL"
    assert "secret" not in json.dumps(r.body), "the 500 leaked the exception text"
    assert "req-7" in r.body["error"]["message"]
    assert any("req-7" in rec.getMessage() and rec.exc_info for rec in caplog.records), "no traceback logged"


def test_a_response_that_fails_its_model_is_a_500_not_a_400(shop):
    # pydantic's ValidationError is a ValueError; raised while building a response it means bad server data.
    broken = ports.Product("b9", "Broken", "", "books", "not-a-price", "USD", 1)  # type: ignore[arg-type]
    shop.store.get_product = lambda product_id: broken
    r = api.handle(Request("GET", "/api/products/b9"), shop.services)
    assert r.status == 500 and r.body["error"]["code"] == "INTERNAL"


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (ports.Unavailable("throttled"), 503, "UNAVAILABLE"),
        (ports.StaleState("order changed"), 409, "CONFLICT"),
        (ports.NotFound("gone"), 404, "NOT_FOUND"),
        (ports.AlreadyExists("taken"), 409, "ALREADY_EXISTS"),
        (ports.IdentityError("LIMIT_EXCEEDED", "slow down", 429), 429, "LIMIT_EXCEEDED"),
        (ValueError("cursor is not valid"), 400, "BAD_REQUEST"),
    ],
    ids=["unavailable", "stale", "not-found", "exists", "identity", "value-error"],
)
def test_port_errors_map_to_their_status(shop, exc, status, code):
    def raise_it(**kwargs):
        raise exc

    shop.store.list_products = raise_it
    r = api.handle(Request("GET", "/api/products"), shop.services)
    assert (r.status, r.body["error"]["code"]) == (status, code), r.body
    if status == 503:
        assert r.headers["retry-after"] == "1"


def test_handlers_are_imported_lazily():
    # The dispatcher itself loads neither pydantic nor any handler module.
    import subprocess
    import sys

    code = (
        "import sys, functions.shop.api;"
        "bad = [m for m in ('pydantic', 'functions.shop.models', 'functions.shop.orders', 'functions.shop.admin')"
        " if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing functions.shop.api loaded: {out}"
