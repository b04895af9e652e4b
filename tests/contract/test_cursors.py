"""Page cursors on every Store: a list accepts only the cursors it issued itself.

Anything else (not base64, base64 of the wrong JSON, the right shape with wrong types, or a
real cursor of another list) raises ValueError, which the API answers as 400. Before, the
DynamoDB store let DynamoDB reject such a key (500, or 503 through botocore's parameter
validation) and the document stores paged another list's cursor silently.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.shop.ports import PAID, PLACED, Page

from .test_store_contract import order, product

Lister = Callable[[object, str | None], Page]

LISTS: dict[str, Lister] = {
    "all products": lambda s, c: s.list_products(category=None, query=None, limit=1, cursor=c),
    "books": lambda s, c: s.list_products(category="books", query=None, limit=1, cursor=c),
    "games": lambda s, c: s.list_products(category="games", query=None, limit=1, cursor=c),
    "orders of u": lambda s, c: s.list_orders("u", limit=1, cursor=c),
    "orders of v": lambda s, c: s.list_orders("v", limit=1, cursor=c),
    "PLACED": lambda s, c: s.list_orders_by_status(PLACED, limit=1, cursor=c),
    "PAID": lambda s, c: s.list_orders_by_status(PAID, limit=1, cursor=c),
}


@pytest.fixture
def seeded(store):
    """Every list in LISTS holds at least two items, so each has a real next cursor."""
    for pid, category in (("a", "books"), ("b", "books"), ("c", "games"), ("d", "games")):
        store.create_product(product(pid, stock=100, category=category))
    for user in ("u", "v"):
        placed = [store.place_order(order(user, [("a", 1)], f"{user}{i}"), request_hash="h").order for i in range(3)]
        store.transition_order(placed[0], PAID, restock=False)
    cursors = {}
    for name, list_ in LISTS.items():
        cursors[name] = list_(store, None).next_cursor
        assert cursors[name], f"{name}: two items but no next cursor"
    return store, cursors


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_each_list_pages_with_its_own_cursor_and_refuses_every_other_lists(seeded):
    store, cursors = seeded
    for name, list_ in LISTS.items():
        second = list_(store, cursors[name])
        first = list_(store, None)
        assert second.items and second.items != first.items, f"{name}: its own cursor did not page"
        for other, cursor in cursors.items():
            if other == name:
                continue
            with pytest.raises(ValueError):
                list_(store, cursor)
                pytest.fail(f"{name} accepted the cursor of {other}")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
KEY_NAMES = st.sampled_from(["k", "s", "PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"])


def _store_shaped() -> st.SearchStrategy[object]:
    """Documents shaped like real cursors (the document stores' {"k", "s"}, DynamoDB's
    {"PK": {"S": ...}}) with wrong key sets, types or values."""
    attr = st.one_of(JSON, st.fixed_dictionaries({"S": JSON}), st.dictionaries(st.sampled_from(["S", "N"]), JSON))
    return st.one_of(
        st.fixed_dictionaries({"k": JSON, "s": JSON}),
        st.dictionaries(KEY_NAMES, attr, max_size=5),
        st.dictionaries(KEY_NAMES, st.fixed_dictionaries({"S": st.text(max_size=30)}), max_size=5),
    )


CURSORS = st.one_of(
    st.text(min_size=1, max_size=200).filter(str.strip),
    st.binary(min_size=1, max_size=200).map(_b64),
    JSON.map(lambda v: _b64(json.dumps(v).encode())),
    _store_shaped().map(lambda v: _b64(json.dumps(v).encode())),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=CURSORS)
def test_anything_a_list_did_not_issue_is_a_value_error(seeded, cursor):
    store, _ = seeded
    for name, list_ in LISTS.items():
        try:
            list_(store, cursor)
        except ValueError:
            continue
        pytest.fail(f"{name} accepted the crafted cursor {cursor!r}")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_real_cursor_with_one_value_changed_is_a_value_error(seeded, data):
    """Real cursors of one list, one field replaced by another JSON value (a wrong type,
    another user's partition, a key outside the list's bounds)."""
    store, cursors = seeded
    name = data.draw(st.sampled_from(sorted(LISTS)))
    doc = json.loads(base64.urlsafe_b64decode(cursors[name] + "=" * (-len(cursors[name]) % 4)))
    field = data.draw(st.sampled_from(sorted(doc)))
    value = data.draw(JSON.filter(lambda v: v != doc[field]))
    if isinstance(doc[field], dict) and data.draw(st.booleans()):
        value = {"S": data.draw(st.text(max_size=30).filter(lambda t: t != doc[field].get("S")))}
    forged = _b64(json.dumps({**doc, field: value}).encode())
    try:
        LISTS[name](store, forged)
    except ValueError:
        return
    # A changed sort key inside the list's own bounds is a legitimate position (a client
    # may resume anywhere in its own list); anything else must be refused.
    assert _inside_bounds(name, field, value), f"{name} accepted {field}={value!r}"


# Per list, the DynamoDB key attributes a client may move within the list's own bounds
# (attribute -> required prefix); the partition values are fixed.
_FREE_KEYS = {
    "all products": {"GSI2SK": "", "PK": "PRODUCT#"},
    "books": {"GSI1SK": "", "PK": "PRODUCT#"},
    "games": {"GSI1SK": "", "PK": "PRODUCT#"},
    "orders of u": {"SK": "ORDER#"},
    "orders of v": {"SK": "ORDER#"},
    "PLACED": {"GSI2SK": "", "PK": "USER#", "SK": "ORDER#"},
    "PAID": {"GSI2SK": "", "PK": "USER#", "SK": "ORDER#"},
}


def _inside_bounds(name: str, field: str, value: object) -> bool:
    """A document store's last key, or a DynamoDB key attribute moved within the list:
    still a position in the same list, so accepting it is correct."""
    if field == "k":
        return isinstance(value, str) and bool(value)
    if not (isinstance(value, dict) and list(value) == ["S"] and isinstance(value["S"], str) and value["S"]):
        return False
    prefix = _FREE_KEYS[name].get(field)
    return prefix is not None and value["S"].startswith(prefix)
