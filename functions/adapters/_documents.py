"""Record <-> JSON document mapping and opaque cursors, shared by the document stores
(Cosmos DB, Firestore). Stdlib only.

Documents use camelCase field names, like the API and the DynamoDB items, so an operator
reading any cloud's data sees the same shapes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import quote

from functions.shop.clock import now_iso
from functions.shop.ports import BROWSE_DEFAULT, Address, Browse, Order, OrderLine, Product


def safe_id(part: str) -> str:
    """Percent-encode one id component: Cosmos ids may not contain / \\ ? # and Firestore
    ids may not contain /, so every user-supplied part (user id, product id, idempotency
    key) is encoded and ':' (itself encoded inside parts) joins them unambiguously."""
    return quote(part, safe="-_.~")


def product_sort_key(name: str, product_id: str) -> str:
    # Name order, ties by id; \x1f sorts below every printable character, so "a" < "a b".
    return f"{name.lower()}\x1f{product_id}"


PRICE_DIGITS = 12  # prices are at most 100,000,000 cents (models.Cents): 9 digits


def price_key(price: int, name: str, product_id: str) -> str:
    """Price order, ties by name then id. A price range [lo, hi] is the key range
    [price_bound(lo), price_bound(hi + 1)): digits first, then \x1f."""
    return f"{price_bound(price)}\x1f{product_sort_key(name, product_id)}"


def price_bound(price: int) -> str:
    return f"{price:0{PRICE_DIGITS}d}"


def newest_key(updated_at: str, product_id: str) -> str:
    """Read backwards: most recently added or edited first (stock changes do not count:
    set_stock never rewrites this key)."""
    return f"{updated_at}\x1f{product_id}"


def product_fields(p: Product) -> dict[str, Any]:
    """Every field but stock (update_product keeps the stored stock)."""
    updated = p.updated_at or now_iso()
    return {
        "productId": p.product_id,
        "name": p.name,
        "nameLower": p.name.lower(),
        "description": p.description,
        "category": p.category,
        "price": p.price,
        "currency": p.currency,
        "imageUrl": p.image_url,
        "updatedAt": updated,
        "sortKey": product_sort_key(p.name, p.product_id),
        "priceKey": price_key(p.price, p.name, p.product_id),
        "newestKey": newest_key(updated, p.product_id),
    }


def product_from(doc: dict[str, Any]) -> Product:
    return Product(
        product_id=doc["productId"],
        name=doc["name"],
        description=doc.get("description", ""),
        category=doc["category"],
        price=int(doc["price"]),
        currency=doc["currency"],
        stock=int(doc["stock"]),
        image_url=doc.get("imageUrl"),
        updated_at=doc.get("updatedAt", ""),
    )


def order_fields(o: Order) -> dict[str, Any]:
    a = o.shipping_address
    return {
        "orderId": o.order_id,
        "userId": o.user_id,
        "status": o.status,
        "lines": [
            {"productId": ln.product_id, "name": ln.name, "unitPrice": ln.unit_price, "quantity": ln.quantity}
            for ln in o.lines
        ],
        "total": o.total,
        "currency": o.currency,
        "createdAt": o.created_at,
        "updatedAt": o.updated_at,
        "shippingAddress": {
            "name": a.name,
            "line1": a.line1,
            "line2": a.line2,
            "city": a.city,
            "postalCode": a.postal_code,
            "country": a.country,
            "region": a.region,
            "phone": a.phone,
        },
        "email": o.email,
        "idempotencyKey": o.idempotency_key,
        # admin listing by status, newest first (DynamoDB's GSI2 sorts on the order id alone,
        # which also sorts by creation time: functions/shop/datamodel.py)
        "statusSortKey": f"{o.created_at}#{o.order_id}",
    }


def order_from(doc: dict[str, Any]) -> Order:
    a = doc["shippingAddress"]
    return Order(
        order_id=doc["orderId"],
        user_id=doc["userId"],
        status=doc["status"],
        lines=tuple(
            OrderLine(ln["productId"], ln["name"], int(ln["unitPrice"]), int(ln["quantity"])) for ln in doc["lines"]
        ),
        total=int(doc["total"]),
        currency=doc["currency"],
        created_at=doc["createdAt"],
        updated_at=doc.get("updatedAt", doc["createdAt"]),
        shipping_address=Address(
            name=a["name"],
            line1=a["line1"],
            city=a["city"],
            postal_code=a["postalCode"],
            country=a["country"],
            line2=a.get("line2"),
            region=a.get("region"),
            phone=a.get("phone"),
        ),
        email=doc.get("email"),
        idempotency_key=doc.get("idempotencyKey"),
    )


CURSOR_ERROR = "query parameter 'cursor' is not a cursor of this list"


def _scope_tag(scope: str) -> str:
    """Binds a cursor to the list it came from (route and partition, e.g. one user's
    orders), so another list's cursor is refused instead of silently paging elsewhere."""
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


# sort -> (document field written by product_fields, read backwards): the document stores
# order a product listing on one of these fields.
SORT_FIELDS = {"name": ("sortKey", False), "price": ("priceKey", False), "-price": ("priceKey", True),
               "newest": ("newestKey", True)}  # fmt: skip


def products_scope(category: str | None, query: str | None = None, browse: Browse = BROWSE_DEFAULT) -> str:
    return f"products|{category or ''}|{query or ''}|{browse.scope()}"


def orders_scope(user_id: str) -> str:
    return f"orders|{user_id}"


def status_scope(status: str) -> str:
    return f"status|{status}"


def encode_cursor(last_key: str, scope: str) -> str:
    body = json.dumps({"k": last_key, "s": _scope_tag(scope)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, scope: str) -> str | None:
    """The last key of the previous page. Raises ValueError on anything encode_cursor did
    not produce for this same `scope`."""
    if cursor is None:
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except Exception as exc:  # binascii.Error, UnicodeDecodeError, JSONDecodeError, RecursionError
        raise ValueError(CURSOR_ERROR) from exc
    if not isinstance(doc, dict) or set(doc) != {"k", "s"} or doc["s"] != _scope_tag(scope):
        raise ValueError(CURSOR_ERROR)
    return text_key(doc["k"])


def text_key(value: object) -> str:
    """A key from a decoded cursor: a non-empty string every database accepts (no lone
    surrogates, which JSON can carry but UTF-8 cannot)."""
    if not isinstance(value, str) or not value:
        raise ValueError(CURSOR_ERROR)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(CURSOR_ERROR) from exc
    return value
