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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import addresses, checkout, ports
from .cart import live_lines
from .clock import now_iso
from .errors import BadRequest, InvalidFields, Refused
from .models import OrderList, OrderOut, PlaceOrderRequest
from .routes import CUSTOMER, Answer, Header, Reply, route
from .services import Services

if TYPE_CHECKING:
    from .api import Ctx

log = logging.getLogger("shop.orders")


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


def publish(services: Services, kind: str, order: ports.Order) -> None:
    """The order is committed already: a failed publish is logged, never surfaced."""
    try:
        services.notifier.publish_order_event(order_event(kind, order))
    except Exception:
        log.exception("could not publish %s for order %s", kind, order.order_id)


IDEMPOTENCY_KEY_MAX = 100
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": IDEMPOTENCY_KEY_MAX,
    "pattern": "^[\\x21-\\x7e][\\x20-\\x7e]*$",
}


def idempotency_key(header: str | None) -> str:
    """The key, or the 400 that says what is wrong with it: 1-100 printable ASCII characters
    (the OpenAPI document declares the same)."""
    key = (header or "").strip()
    if not key:
        raise BadRequest(
            "send an Idempotency-Key header (1-100 printable ASCII characters)", "IDEMPOTENCY_KEY_REQUIRED"
        )
    if len(key) > IDEMPOTENCY_KEY_MAX or not (key.isascii() and key.isprintable()):
        raise BadRequest(
            f"the Idempotency-Key must be 1-{IDEMPOTENCY_KEY_MAX} printable ASCII characters "
            f"(got {len(key)} characters{'' if key.isascii() and key.isprintable() else ', some not printable ASCII'})",
            "INVALID_IDEMPOTENCY_KEY",
        )
    return key


@dataclass(frozen=True)
class Checkout:
    """Place an order of the user's cart, shipped to `address`, once per idempotency key."""

    user: ports.Principal
    address: ports.Address
    idempotency_key: str


@dataclass(frozen=True)
class Placed:
    order: ports.Order
    created: bool  # False: the order this key placed before (a retry)


def _replay(services: Services, user: str, key: str, digest: str) -> Placed | None:
    """The order of a key that was used before, or None when it is new.

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
    return Placed(order, created=False)


def _cart_versions(lines: list[ports.CartLine]) -> tuple[tuple[str, str], ...]:
    """What the store must find unchanged: every line's version, when the store keeps them."""
    if any(li.version is None for li in lines):
        return ()
    return tuple((li.product_id, li.version) for li in lines if li.version is not None)


def _new_order(
    services: Services, cmd: Checkout, lines: tuple[ports.OrderLine, ...], cart: list[ports.CartLine]
) -> ports.Order:
    created = now_iso()
    return ports.Order(
        order_id=new_order_id(),
        user_id=cmd.user.user_id,
        status=ports.PLACED,
        lines=lines,
        total=sum(li.line_total for li in lines),
        currency=services.currency,
        created_at=created,
        updated_at=created,
        shipping_address=cmd.address,
        email=cmd.user.email,
        idempotency_key=cmd.idempotency_key,
        cart_versions=_cart_versions(cart),
    )


def _order_from_snapshots(services: Services, cmd: Checkout, lines: list[ports.CartLine]) -> ports.Order | None:
    """The order the cart's catalog snapshots describe, when the store verifies them at write
    time and every line has one in the shop's currency; None otherwise."""
    if not lines or not services.store.checks_catalog:
        return None
    order_lines = []
    for li in lines:
        if li.unit_price is None or li.name is None or li.currency != services.currency:
            return None
        order_lines.append(
            ports.OrderLine(product_id=li.product_id, name=li.name, unit_price=li.unit_price, quantity=li.quantity)
        )
    return _new_order(services, cmd, tuple(order_lines), lines)


def _from_snapshots(services: Services, cmd: Checkout, lines: list[ports.CartLine], digest: str) -> Placed | None:
    """1 read + 1 transaction: the store's transaction verifies stock AND that the catalog
    still says the cart's names, prices and currency. None when it cannot tell (no
    snapshots) or anything moved (price, product gone, stock short): then the
    read-then-write path gives the exact answer."""
    fast = _order_from_snapshots(services, cmd, lines)
    if fast is None:
        return None
    try:
        result = checkout.place_order(services.store, fast, request_hash=digest)
    except ports.CartChanged:
        if replay := _replay(services, cmd.user.user_id, cmd.idempotency_key, digest):
            return replay
        raise
    except (ports.InsufficientStock, ports.StaleState):
        return None
    return _placed(services, cmd.user.user_id, result, gone=())


def _placed(services: Services, user: str, result: ports.PlaceOrderResult, gone: list[str] | tuple[()]) -> Placed:
    """The order a replay found, or the new one after its follow-ups."""
    if not result.created:
        return Placed(result.order, created=False)
    for product_id in gone:  # leftovers of deleted products; harmless if this fails
        try:
            services.store.set_cart_line(user, product_id, 0)
        except Exception:
            log.warning("could not drop deleted product %s from %s's cart", product_id, user, exc_info=True)
    publish(services, "OrderPlaced", result.order)
    return Placed(result.order, created=True)


def place_order(services: Services, cmd: Checkout) -> Placed:
    user, key = cmd.user.user_id, cmd.idempotency_key
    if bad := addresses.problems(cmd.address):
        raise InvalidFields([(f"shippingAddress.{name}", message) for name, message in bad])
    digest = request_hash(cmd.address)
    lines = services.store.get_cart(user)
    if (fast := _from_snapshots(services, cmd, lines, digest)) is not None:
        return fast
    products = services.store.get_products([li.product_id for li in lines]) if lines else {}
    gone = [li.product_id for li in lines if li.product_id not in products]
    lines = live_lines(lines, products)  # exactly what the cart view shows
    if not lines:
        if replay := _replay(services, user, key, digest):
            return replay
        raise Refused("CART_EMPTY", "your cart is empty")
    short = [li.product_id for li in lines if products[li.product_id].stock < li.quantity]
    if short:  # fail fast; the store's conditional write is what actually guarantees it
        if replay := _replay(services, user, key, digest):
            return replay
        raise _sold_out(short, products)
    foreign = sorted({li.product_id for li in lines if products[li.product_id].currency != services.currency})
    if foreign:
        if replay := _replay(services, user, key, digest):
            return replay
        raise Refused("CURRENCY_MISMATCH", f"not sold in {services.currency}: {', '.join(foreign)}", productIds=foreign)
    order_lines = tuple(
        ports.OrderLine(product_id=p.product_id, name=p.name, unit_price=p.price, quantity=li.quantity)
        for li in lines
        for p in [products[li.product_id]]
    )
    order = _new_order(services, cmd, order_lines, lines)
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
    return _placed(services, user, result, gone)


def _sold_out(short: list[str], products: dict[str, ports.Product]) -> ports.InsufficientStock:
    """The sold-out answer: each short product by name, with what is left (0 when gone)."""
    return ports.InsufficientStock(
        list(short),
        available={pid: products[pid].stock if pid in products else 0 for pid in short},
        names={pid: products[pid].name for pid in short if pid in products},
    )


def list_my_orders(services: Services, user_id: str, limit: int, cursor: str | None) -> OrderList:
    page = services.store.list_orders(user_id, limit=limit, cursor=cursor)
    return OrderList(items=[OrderOut.of(o) for o in page.items], next_cursor=page.next_cursor)


def _my_order(services: Services, user_id: str, order_id: str) -> ports.Order:
    order = services.store.get_order(user_id, order_id)
    if order is None:  # someone else's order is indistinguishable from no order
        raise ports.NotFound(f"order {order_id} not found")
    return order


def get_my_order(services: Services, user_id: str, order_id: str) -> OrderOut:
    return OrderOut.of(_my_order(services, user_id, order_id))


def cancel_my_order(services: Services, user_id: str, order_id: str) -> OrderOut:
    order = _my_order(services, user_id, order_id)
    if order.status not in ports.CANCELLABLE:
        raise Refused("NOT_CANCELLABLE", f"an order that is {order.status} can no longer be cancelled")
    cancelled = checkout.transition_order(services.store, order, ports.CANCELLED, restock=True)
    publish(services, "OrderCancelled", cancelled)
    return OrderOut.of(cancelled)


# --- HTTP: each route's request -> the operation's arguments --------------------------


@route(
    "POST",
    "/api/orders",
    "placeOrder",
    CUSTOMER,
    "orders",
    "Check out the cart (Idempotency-Key header required)",
    request=PlaceOrderRequest,
    response=OrderOut,
    status=201,
    headers=(
        Header(
            "Idempotency-Key",
            "A fresh key per checkout; a retry with the same key and body returns the same order",
            IDEMPOTENCY_KEY_SCHEMA,
        ),
    ),
    answers=(Answer(200, "Replay of an order placed with the same key and body"),),
)
def http_place_order(ctx: Ctx) -> OrderOut | Reply:
    key = idempotency_key(ctx.request.headers.get("idempotency-key"))
    placed = place_order(ctx.services, Checkout(ctx.user, ctx.body.shipping_address.to_port(), key))
    body = OrderOut.of(placed.order)
    return body if placed.created else Reply(200, body)


@route(
    "GET",
    "/api/orders",
    "listMyOrders",
    CUSTOMER,
    "orders",
    "My orders, newest first",
    response=OrderList,
    query_params=("limit", "cursor"),
)
def http_list_my_orders(ctx: Ctx) -> OrderList:
    limit = ctx.query_int("limit", 20, 1, 100)
    return list_my_orders(ctx.services, ctx.user.user_id, limit, ctx.cursor())


@route("GET", "/api/orders/{orderId}", "getMyOrder", CUSTOMER, "orders", "One of my orders", response=OrderOut)
def http_get_my_order(ctx: Ctx) -> OrderOut:
    return get_my_order(ctx.services, ctx.user.user_id, ctx.param("orderId"))


@route(
    "POST",
    "/api/orders/{orderId}/cancel",
    "cancelMyOrder",
    CUSTOMER,
    "orders",
    "Cancel my order while it has not shipped",
    response=OrderOut,
)
def http_cancel_my_order(ctx: Ctx) -> OrderOut:
    return cancel_my_order(ctx.services, ctx.user.user_id, ctx.param("orderId"))
