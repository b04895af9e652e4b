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
import threading
import time
from datetime import UTC, datetime

from . import addresses, checkout, ports
from .cart import live_lines
from .http import error
from .models import Order, OrderList

log = logging.getLogger("shop.orders")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_RANDOM_BITS = 40
_id_lock = threading.Lock()
_last_id = (0, 0)  # (milliseconds, random part) of the newest id this container made


def new_order_id() -> str:
    """ULID-like: 12 hex digits of Unix milliseconds, then 10 of randomness, so ids sort by
    creation time (newest-first queries on the order id). Within one container, ids made
    in the same millisecond (or while the clock steps back) count up from the previous
    one, so they still sort in creation order."""
    global _last_id
    ms = int(time.time() * 1000)
    with _id_lock:
        last_ms, last_rand = _last_id
        if ms > last_ms:
            rand = int.from_bytes(os.urandom(_RANDOM_BITS // 8), "big")
        else:
            ms, rand = last_ms, last_rand + 1
            if rand >= 1 << _RANDOM_BITS:
                ms, rand = ms + 1, 0
        _last_id = (ms, rand)
    return f"{ms:012x}{rand:010x}"


def request_hash(address: ports.Address) -> str:
    """The checkout's fingerprint for idempotency: sha256 of the canonical address JSON.
    The cart is deliberately not part of it: a retry comes after the cart was cleared."""
    canonical = json.dumps(address.__dict__, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_event(kind: str, order: ports.Order) -> ports.OrderEvent:
    return ports.OrderEvent(
        type=kind,
        order_id=order.order_id,
        user_id=order.user_id,
        status=order.status,
        total=order.total,
        currency=order.currency,
        lines=order.lines,
        email=order.email,
        occurred_at=now_iso(),
        shipping_address=order.shipping_address,
    )


def publish(services, kind: str, order: ports.Order) -> None:
    """The order is committed already: a failed publish is logged, never surfaced."""
    try:
        services.notifier.publish_order_event(order_event(kind, order))
    except Exception:
        log.exception("could not publish %s for order %s", kind, order.order_id)


IDEMPOTENCY_KEY_MAX = 100


def _idempotency_key(ctx):
    """The key, or the 400 that says what is wrong with it: 1-100 printable ASCII characters
    (the OpenAPI document declares the same)."""
    key = ctx.request.headers.get("idempotency-key", "").strip()
    if not key:
        return error(
            400, "IDEMPOTENCY_KEY_REQUIRED", "send an Idempotency-Key header (1-100 printable ASCII characters)"
        )
    if len(key) > IDEMPOTENCY_KEY_MAX or not (key.isascii() and key.isprintable()):
        return error(
            400,
            "INVALID_IDEMPOTENCY_KEY",
            f"the Idempotency-Key must be 1-{IDEMPOTENCY_KEY_MAX} printable ASCII characters "
            f"(got {len(key)} characters{'' if key.isascii() and key.isprintable() else ', some not printable ASCII'})",
        )
    return key


def _replay(services, user: str, key: str, digest: str):
    """The response for a key that was used before, or None when it is new.

    Only consulted when this request cannot place an order (empty cart, a product gone,
    too little stock): a retry of a checkout that succeeded must get its order back even
    though the cart was cleared and stock has moved since. The store's atomic write does
    the same check for the normal path."""
    seen = services.store.find_idempotent_order(user, key)
    if seen is None:
        return None
    order, seen_hash = seen
    if seen_hash != digest:
        raise ports.IdempotencyConflict(order.order_id)
    return 200, Order.of(order)


def _cart_versions(lines: list[ports.CartLine]) -> tuple[tuple[str, str], ...]:
    """What the store must find unchanged: every line's version, when the store keeps them."""
    if any(li.version is None for li in lines):
        return ()
    return tuple((li.product_id, li.version) for li in lines if li.version is not None)


def _new_order(ctx, lines: tuple[ports.OrderLine, ...], address, key: str, cart: list[ports.CartLine]) -> ports.Order:
    created = now_iso()
    return ports.Order(
        order_id=new_order_id(),
        user_id=ctx.principal.user_id,
        status=ports.PLACED,
        lines=lines,
        total=sum(li.line_total for li in lines),
        currency=ctx.services.currency,
        created_at=created,
        updated_at=created,
        shipping_address=address,
        email=ctx.principal.email,
        idempotency_key=key,
        cart_versions=_cart_versions(cart),
    )


def _order_from_snapshots(ctx, lines: list[ports.CartLine], address, key: str) -> ports.Order | None:
    """The order the cart's catalog snapshots describe, when the store verifies them at write
    time and every line has one in the shop's currency; None otherwise."""
    if not lines or not getattr(ctx.services.store, "checks_catalog", False):
        return None
    if any(li.unit_price is None or li.name is None or li.currency != ctx.services.currency for li in lines):
        return None
    order_lines = tuple(
        ports.OrderLine(product_id=li.product_id, name=li.name, unit_price=li.unit_price, quantity=li.quantity)
        for li in lines
    )
    return _new_order(ctx, order_lines, address, key, lines)


def _placed(ctx, result: ports.PlaceOrderResult, gone) -> tuple:
    """200 with the order a replay found, or 201 after the new order's follow-ups."""
    services, user = ctx.services, ctx.principal.user_id
    if not result.created:
        return 200, Order.of(result.order)
    for product_id in gone:  # leftovers of deleted products; harmless if this fails
        try:
            services.store.set_cart_line(user, product_id, 0)
        except Exception:
            log.warning("could not drop deleted product %s from %s's cart", product_id, user, exc_info=True)
    publish(services, "OrderPlaced", result.order)
    return 201, Order.of(result.order)


def place_order(ctx):
    key = _idempotency_key(ctx)
    if not isinstance(key, str):
        return key
    services, user = ctx.services, ctx.principal.user_id
    address = ctx.body.shipping_address.to_port()
    if bad := addresses.problems(address):
        details = [{"field": f"shippingAddress.{name}", "message": message} for name, message in bad]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return error(422, "VALIDATION_ERROR", f"request body is invalid: {summary}", details=details)
    digest = request_hash(address)
    lines = services.store.get_cart(user)
    fast = _order_from_snapshots(ctx, lines, address, key)
    if fast is not None:
        # 1 read + 1 transaction: the store's transaction verifies stock AND that the
        # catalog still says these names, prices and currency. If anything moved (price,
        # product gone, stock short), the read-then-write path below gives the exact answer.
        try:
            result = checkout.place_order(services.store, fast, request_hash=digest)
        except ports.CartChanged:
            if replay := _replay(services, user, key, digest):
                return replay
            raise
        except (ports.InsufficientStock, ports.StaleState):
            result = None
        if result is not None:
            return _placed(ctx, result, gone=())
    products = services.store.get_products([li.product_id for li in lines]) if lines else {}
    gone = [li.product_id for li in lines if li.product_id not in products]
    lines = live_lines(lines, products)  # exactly what the cart view shows
    if not lines:
        return _replay(services, user, key, digest) or error(409, "CART_EMPTY", "your cart is empty")
    short = [li.product_id for li in lines if products[li.product_id].stock < li.quantity]
    if short:  # fail fast; the store's conditional write is what actually guarantees it
        if replay := _replay(services, user, key, digest):
            return replay
        raise _sold_out(short, products)
    foreign = sorted({li.product_id for li in lines if products[li.product_id].currency != services.currency})
    if foreign:
        return _replay(services, user, key, digest) or error(
            409, "CURRENCY_MISMATCH", f"not sold in {services.currency}: {', '.join(foreign)}", productIds=foreign
        )
    order_lines = tuple(
        ports.OrderLine(product_id=p.product_id, name=p.name, unit_price=p.price, quantity=li.quantity)
        for li in lines
        for p in [products[li.product_id]]
    )
    order = _new_order(ctx, order_lines, address, key, lines)
    try:
        result = checkout.place_order(services.store, order, request_hash=digest)
    except ports.CartChanged:
        # The same key may have won with this very cart a moment ago: that is a replay.
        if replay := _replay(services, user, key, digest):
            return replay
        raise
    except ports.InsufficientStock as exc:
        # Another checkout took the stock after the read above: what is left now needs a
        # fresh read, made on this failure path only.
        short = exc.product_ids or [li.product_id for li in lines]
        raise _sold_out(short, services.store.get_products(short)) from exc
    return _placed(ctx, result, gone)


def _sold_out(short: list[str], products: dict[str, ports.Product]) -> ports.InsufficientStock:
    """The sold-out answer: each short product by name, with what is left (0 when gone)."""
    return ports.InsufficientStock(
        list(short),
        available={pid: products[pid].stock if pid in products else 0 for pid in short},
        names={pid: products[pid].name for pid in short if pid in products},
    )


def list_my_orders(ctx):
    limit = ctx.query_int("limit", 20, 1, 100)
    page = ctx.services.store.list_orders(ctx.principal.user_id, limit=limit, cursor=ctx.cursor())
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
    cancelled = checkout.transition_order(ctx.services.store, order, ports.CANCELLED, restock=True)
    publish(ctx.services, "OrderCancelled", cancelled)
    return Order.of(cancelled)
