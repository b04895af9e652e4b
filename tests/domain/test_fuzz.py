"""Properties over generated inputs: no input yields a 5xx or a partial write; the cart's
arithmetic always holds; stock is conserved by checkouts and cancellations."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.shop import datamodel
from functions.shop.routes import ROUTES

from .conftest import ADDRESS, CATALOG, Shop

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)
# Keys the models really have, so generated bodies get past "extra field" and reach the
# type, bound and domain checks.
KNOWN_KEYS = sorted(
    {"email", "password", "code", "refreshToken", "quantity", "status", "stock", "contentType", "productId"}
    | {"name", "description", "category", "price", "currency", "imageUrl", "shippingAddress"}
)
address_like = st.fixed_dictionaries(
    {}, optional={k: json_values for k in ("name", "line1", "line2", "city", "postalCode", "country")}
)
shaped = st.dictionaries(st.sampled_from(KNOWN_KEYS), json_values | address_like, max_size=7)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)

SHOP = Shop()
ADMIN = SHOP.user("fuzz-admin@example.com", admin=True)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    route=st.sampled_from(ROUTES), body=bodies, key=st.text(max_size=120), pid=st.sampled_from(["b2", "zz", "x" * 200])
)
def test_no_input_yields_a_server_error(route, body, key, pid):
    path = route.path.replace("{productId}", pid).replace("{orderId}", "nope").replace("{token}", pid)
    stock_before = SHOP.stock("b2") if SHOP.store.get_product("b2") else None
    r = SHOP.call(route.method, path, raw=body, who=ADMIN, headers={"idempotency-key": key})  # asserts < 500
    if r.status == 204:  # a success without a body (removeDevice)
        assert r.body is None and route.success_status == 204, (route.operation_id, r.body)
    else:
        assert isinstance(r.body, dict) and (r.status < 400 or set(r.body) == {"error"}), r.body
    if r.status >= 400 and route.operation_id == "placeOrder" and stock_before is not None:
        assert SHOP.stock("b2") == stock_before, "a refused checkout wrote stock"


cart_ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "remove", "clear"]),
        st.sampled_from([*CATALOG, "t1", "t2", "ghost"]),
        st.integers(-2, datamodel.MAX_LINE_QUANTITY + 2),
    ),
    max_size=25,
)


@FUZZ
@given(ops=cart_ops)
def test_any_sequence_of_cart_operations_keeps_the_arithmetic(ops):
    shop = Shop()
    for extra in ("t1", "t2"):
        shop.store.create_product(shop.store.get_product("b2").__class__(extra, extra, "", "toys", 7, "USD", 1))
    me = shop.user()
    expected: dict[str, int] = {}
    for op, pid, qty in ops:
        if op == "set":
            r = shop.call("PUT", f"/api/cart/items/{pid}", {"quantity": qty}, who=me)
            if not 0 <= qty <= datamodel.MAX_LINE_QUANTITY:
                assert r.status == 422, (op, pid, qty, r.body)
            elif pid == "ghost" and qty > 0:
                assert r.status == 404, r.body
            elif pid != "ghost" and qty > shop.stock(pid):
                assert r.status == 409 and r.body["error"]["available"] == {pid: shop.stock(pid)}, r.body
            else:
                assert r.status == 200, r.body
                if qty:
                    expected[pid] = qty
                else:
                    expected.pop(pid, None)
        elif op == "remove":
            shop.ok("DELETE", f"/api/cart/items/{pid}", who=me)
            expected.pop(pid, None)
        else:
            shop.ok("DELETE", "/api/cart", who=me)
            expected.clear()
        cart = shop.ok("GET", "/api/cart", who=me)
        assert {i["productId"]: i["quantity"] for i in cart["items"]} == expected
        assert all(i["lineTotal"] == i["unitPrice"] * i["quantity"] for i in cart["items"])
        assert cart["subtotal"] == sum(i["lineTotal"] for i in cart["items"])


@FUZZ
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["buy", "cancel", "ship"]),
            st.integers(0, 2),
            st.dictionaries(st.sampled_from(sorted(CATALOG)), st.integers(1, 4), min_size=1),
        ),
        max_size=12,
    )
)
def test_stock_is_conserved_by_checkouts_and_cancellations(steps):
    shop = Shop()
    users = [shop.user(f"s{i}@example.com") for i in range(3)]
    admin = shop.user("boss@example.com", admin=True)
    placed: list[tuple[int, str]] = []
    for n, (action, who, quantities) in enumerate(steps):
        user = users[who]
        if action == "buy":
            shop.ok("DELETE", "/api/cart", who=user)
            for pid, qty in quantities.items():  # a quantity above the stock is refused at once
                assert shop.call("PUT", f"/api/cart/items/{pid}", {"quantity": qty}, who=user).status in (200, 409)
            r = shop.checkout(user, key=f"k{n}")
            assert r.status in (201, 409), r.body
            if r.status == 201:
                placed.append((who, r.body["orderId"]))
        elif placed:
            owner, oid = placed[n % len(placed)]
            if action == "cancel":
                assert shop.call("POST", f"/api/orders/{oid}/cancel", who=users[owner]).status in (200, 409)
            else:
                assert shop.call("PUT", f"/api/admin/orders/{oid}/status", {"status": "PAID"}, who=admin).status in (
                    200,
                    409,
                )
    live = [o for o in shop.store.orders.values() if o.status != "CANCELLED"]
    for pid, (_, initial) in CATALOG.items():
        sold = sum(li.quantity for o in live for li in o.lines if li.product_id == pid)
        assert shop.stock(pid) >= 0 and shop.stock(pid) + sold == initial, (
            f"{pid}: stock {shop.stock(pid)}, sold {sold}"
        )
    assert all(o.total == sum(li.line_total for li in o.lines) for o in shop.store.orders.values())
    assert ADDRESS  # the checkout body used throughout
