"""Checkout and the customer's orders.

Checkout reads the cart and the catalog, then hands the store ONE atomic write (stock
decrements conditional on availability, the order conditional on a new idempotency key,
the cart lines' deletion). Prices always come from the catalog.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from datetime import UTC, datetime

from . import ports
from .http import error
from .models import Order, OrderList

log = logging.getLogger("shop.orders")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_order_id() -> str:
    """Millisecond timestamp then randomness: ids sort by creation time (newest-first queries)."""
    return f"{int(time.time() * 1000):012x}{os.urandom(5).hex()}"


def request_hash(address: ports.Address) -> str:
    canonical = json.dumps(address.__dict__, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_event(kind: str, order: ports.Order) -> ports.OrderEvent:
    return ports.OrderEvent(type=kind, order_id=order.order_id, user_id=order.user_id, status=order.status,
                            total=order.total, currency=order.currency, lines=order.lines, email=order.email,
                            occurred_at=now_iso())


def publish(services, kind: str, order: ports.Order) -> None:
    """The order is committed already: a failed publish is logged, never surfaced."""
    try:
        services.notifier.publish_order_event(order_event(kind, order))
    except Exception:
        log.exception("could not publish %s for order %s", kind, order.order_id)


def _idempotency_key(ctx) -> str | None:
    key = ctx.request.headers.get("idempotency-key", "").strip()
    if not key or len(key) > 100 or not key.isprintable():
        return None
    return key


def place_order(ctx):
    key = _idempotency_key(ctx)
    if key is None:
        return error(400, "IDEMPOTENCY_KEY_REQUIRED", "send an Idempotency-Key header (1-100 printable characters)")
    services, user = ctx.services, ctx.principal.user_id
    address = ctx.body.shipping_address.to_port()
    digest = request_hash(address)
    lines = services.store.get_cart(user)
    if not lines:
        seen = services.store.find_idempotent_order(user, key)
        if seen is not None:
            order, seen_hash = seen
            if seen_hash != digest:
                raise ports.IdempotencyConflict(order.order_id)
            return 200, Order.of(order)
        return error(409, "CART_EMPTY", "your cart is empty")
    products = services.store.get_products([li.product_id for li in lines])
    missing = [li.product_id for li in lines if li.product_id not in products]
    if missing:
        return error(409, "PRODUCT_UNAVAILABLE", f"no longer sold: {', '.join(missing)}; remove them from your cart",
                     productIds=missing)
    order_lines = tuple(ports.OrderLine(product_id=p.product_id, name=p.name, unit_price=p.price, quantity=li.quantity)
                        for li in lines for p in [products[li.product_id]])
    short = [li.product_id for li in lines if products[li.product_id].stock < li.quantity]
    if short:  # fail fast; the store's conditional write is what actually guarantees it
        raise ports.InsufficientStock(short)
    wrong_currency = [p.product_id for p in products.values() if p.currency != services.currency]
    if wrong_currency:
        return error(409, "CURRENCY_MISMATCH", f"not sold in {services.currency}: {', '.join(wrong_currency)}")
    created = now_iso()
    order = ports.Order(order_id=new_order_id(), user_id=user, status=ports.PLACED, lines=order_lines,
                        total=sum(li.line_total for li in order_lines), currency=services.currency,
                        created_at=created, updated_at=created, shipping_address=address,
                        email=ctx.principal.email, idempotency_key=key)
    result = services.store.place_order(order, request_hash=digest)
    if result.created:
        publish(services, "OrderPlaced", result.order)
        return 201, Order.of(result.order)
    return 200, Order.of(result.order)


def list_my_orders(ctx):
    limit = ctx.query_int("limit", 20, 1, 100)
    page = ctx.services.store.list_orders(ctx.principal.user_id, limit=limit,
                                          cursor=ctx.request.query.get("cursor") or None)
    return OrderList(items=[Order.of(o) for o in page.items], next_cursor=page.next_cursor)


def _my_order(ctx) -> ports.Order:
    order = ctx.services.store.get_order(ctx.principal.user_id, ctx.param("orderId"))
    if order is None:  # someone else's order is indistinguishable from no order
        raise ports.NotFound(f"order {ctx.param('orderId')} not found")
    return order


def get_my_order(ctx):
    return Order.of(_my_order(ctx))


def cancel_my_order(ctx):
    order = _my_order(ctx)
    if order.status not in ports.CANCELLABLE:
        return error(409, "NOT_CANCELLABLE", f"an order that is {order.status} can no longer be cancelled")
    cancelled = ctx.services.store.transition_order(order, ports.CANCELLED, restock=True)
    publish(ctx.services, "OrderCancelled", cancelled)
    return Order.of(cancelled)
