"""Arbitrary JSON bodies on every route never produce a 5xx or a partial write."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.shop.routes import ROUTES

from .conftest import Shop

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)
bodies = st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64))

SHOP = Shop()
ADMIN = SHOP.user("fuzz-admin@example.com", admin=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route=st.sampled_from(ROUTES), body=bodies, key=st.text(max_size=120))
def test_no_input_yields_a_server_error(route, body, key):
    path = route.path.replace("{productId}", "b2").replace("{orderId}", "nope")
    stock_before = SHOP.services.store.get_product("b2").stock if SHOP.services.store.get_product("b2") else None
    r = SHOP.call(route.method, path, raw=body, who=ADMIN, headers={"idempotency-key": key})
    assert r.status < 500
    if r.status >= 400 and route.operation_id == "placeOrder" and stock_before is not None:
        assert SHOP.services.store.get_product("b2").stock == stock_before, "a refused checkout wrote stock"
