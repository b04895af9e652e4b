"""Record <-> JSON document mapping and opaque cursors, shared by the document stores
(Cosmos DB, Firestore). Stdlib only.

Documents use camelCase field names, like the API and the DynamoDB items, so an operator
reading any cloud's data sees the same shapes.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from functions.shop.ports import Address, Order, OrderLine, Product


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def safe_id(part: str) -> str:
    """Percent-encode one id component: Cosmos ids may not contain / \\ ? # and Firestore
    ids may not contain /, so every user-supplied part (user id, product id, idempotency
    key) is encoded and ':' (itself encoded inside parts) joins them unambiguously."""
    return quote(part, safe="-_.~")


def product_sort_key(name: str, product_id: str) -> str:
    # Name order, ties by id; \x1f sorts below every printable character, so "a" < "a b".
    return f"{name.lower()}\x1f{product_id}"


def product_fields(p: Product) -> dict[str, Any]:
    """Every field but stock (update_product keeps the stored stock)."""
    return {
        "productId": p.product_id,
        "name": p.name,
        "nameLower": p.name.lower(),
        "description": p.description,
        "category": p.category,
        "price": p.price,
        "currency": p.currency,
        "imageUrl": p.image_url,
        "updatedAt": p.updated_at or now_iso(),
        "sortKey": product_sort_key(p.name, p.product_id),
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
        },
        "email": o.email,
        "idempotencyKey": o.idempotency_key,
        # admin listing by status, newest first (the GSI2 sort key of the DynamoDB design)
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
        ),
        email=doc.get("email"),
        idempotency_key=doc.get("idempotencyKey"),
    )


def quantities(order: Order) -> dict[str, int]:
    """Total quantity per product (an order may name a product on several lines)."""
    out: dict[str, int] = {}
    for ln in order.lines:
        out[ln.product_id] = out.get(ln.product_id, 0) + ln.quantity
    return out


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": last_key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """Raises ValueError on anything encode_cursor did not produce."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)["k"]
    except Exception as e:  # binascii.Error, UnicodeDecodeError, JSONDecodeError, KeyError, TypeError
        raise ValueError("malformed cursor") from e
    if not isinstance(key, str):
        raise ValueError("malformed cursor")
    return key
