"""The signed-in customer's cart, always shown with live catalog prices.

The store keeps only (product, quantity); names, prices and totals are read from the
catalog every time, so a price change shows up in every cart at once and the client
never supplies a price.

A line whose product was deleted from the catalog is dropped from the view (and from
checkout, which orders exactly what the view shows) and does not count towards
MAX_CART_LINES; checkout removes such leftovers from the stored cart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from . import datamodel, ports
from .errors import Refused
from .models import Cart, CartAdjustment, CartItem, MergeCartRequest, MergedCart, SetCartItemRequest
from .routes import CUSTOMER, route
from .services import Services

if TYPE_CHECKING:
    from .api import Ctx
    from .models import GuestCartItem

Reason = Literal["STOCK", "LINE_QUANTITY_LIMIT", "CART_FULL", "UNKNOWN_PRODUCT"]


def live_lines(lines: list[ports.CartLine], products: dict[str, ports.Product]) -> list[ports.CartLine]:
    return [li for li in lines if li.product_id in products]


def cart_view(
    services: Services,
    user_id: str,
    lines: list[ports.CartLine] | None = None,
    products: dict[str, ports.Product] | None = None,
) -> Cart:
    if lines is None:
        lines = services.store.get_cart(user_id)
    if products is None:
        products = services.store.get_products([li.product_id for li in lines]) if lines else {}
    items = [
        CartItem(
            product_id=p.product_id,
            name=p.name,
            unit_price=p.price,
            quantity=li.quantity,
            line_total=p.price * li.quantity,
            stock=p.stock,
        )
        for li in live_lines(lines, products)
        for p in [products[li.product_id]]
    ]
    return Cart(items=items, subtotal=sum(i.line_total for i in items), currency=services.currency)


def get_cart(services: Services, user_id: str) -> Cart:
    return cart_view(services, user_id)


def set_item(services: Services, user_id: str, product_id: str, quantity: int) -> Cart:
    """Three round trips: the cart, every product in it (one batch read, which also proves
    the product exists, enforces MAX_CART_LINES and prices the response), the write; the
    response is composed from what was read."""
    store = services.store
    lines = store.get_cart(user_id)
    others = [li for li in lines if li.product_id != product_id]
    products = store.get_products([li.product_id for li in others] + [product_id])
    if quantity > 0:
        if product_id not in products:
            raise ports.NotFound(f"product {product_id} not found")
        product = products[product_id]
        if quantity > product.stock:  # checkout would refuse it: say so now, with what is left
            raise ports.InsufficientStock(
                [product_id], available={product_id: product.stock}, names={product_id: product.name}
            )
        is_new_line = len(others) == len(lines)
        if is_new_line and len(live_lines(others, products)) >= datamodel.MAX_CART_LINES:
            raise Refused("CART_FULL", f"a cart holds at most {datamodel.MAX_CART_LINES} different products")
    # the catalog entry just read travels with the line: checkout re-verifies it, not re-reads it
    store.set_cart_line(user_id, product_id, quantity, products.get(product_id) if quantity > 0 else None)
    updated = others + ([ports.CartLine(product_id, quantity)] if quantity > 0 else [])
    updated.sort(key=lambda li: li.product_id)
    return cart_view(services, user_id, updated, products)


def remove_item(services: Services, user_id: str, product_id: str) -> Cart:
    services.store.set_cart_line(user_id, product_id, 0)
    return cart_view(services, user_id)


def clear(services: Services, user_id: str) -> Cart:
    services.store.clear_cart(user_id)
    return Cart(items=[], subtotal=0, currency=services.currency)


def _requested(items: Iterable[GuestCartItem]) -> dict[str, int]:
    """The guest lines, a product named twice counted once with the sum, in first-seen order."""
    wanted: dict[str, int] = {}
    for item in items:
        wanted[item.product_id] = wanted.get(item.product_id, 0) + item.quantity
    return wanted


def _adjustment(pid: str, requested: int, added: int, reason: Reason) -> CartAdjustment:
    return CartAdjustment(product_id=pid, requested=requested, added=added, reason=reason)


def merge(services: Services, user_id: str, guest: MergeCartRequest) -> MergedCart:
    """A guest cart (kept by the storefront until sign-in) added to the account's cart.

    Two reads (the cart, every product involved in one batch), then one write per line
    that grows. Quantities add up, capped at the stock and at MAX_LINE_QUANTITY; a line
    already above the stock is left as it is (checkout says what is left); products that
    do not exist are skipped; new lines stop at MAX_CART_LINES. Every guest line not added
    in full is reported in `adjusted` with the reason."""
    store = services.store
    wanted = _requested(guest.items)
    lines = store.get_cart(user_id)
    have = {li.product_id: li.quantity for li in lines}
    products = store.get_products(list(dict.fromkeys([*have, *wanted]))) if wanted or have else {}
    count = len(live_lines(lines, products))
    adjusted: list[CartAdjustment] = []
    for pid, requested in wanted.items():
        product = products.get(pid)
        current = have.get(pid, 0)
        if product is None:
            adjusted.append(_adjustment(pid, requested, 0, "UNKNOWN_PRODUCT"))
            continue
        if current == 0 and count >= datamodel.MAX_CART_LINES:
            adjusted.append(_adjustment(pid, requested, 0, "CART_FULL"))
            continue
        cap = min(product.stock, datamodel.MAX_LINE_QUANTITY)
        target = max(current, min(current + requested, cap))
        added = target - current
        if added < requested:
            reason: Reason = "STOCK" if product.stock <= datamodel.MAX_LINE_QUANTITY else "LINE_QUANTITY_LIMIT"
            adjusted.append(_adjustment(pid, requested, added, reason))
        if added > 0:
            store.set_cart_line(user_id, pid, target, product)
            count += current == 0
            have[pid] = target
    updated = sorted((ports.CartLine(pid, q) for pid, q in have.items()), key=lambda li: li.product_id)
    view = cart_view(services, user_id, updated, products)
    return MergedCart(items=view.items, subtotal=view.subtotal, currency=view.currency, adjusted=adjusted)


# --- HTTP: each route's request -> the operation's arguments --------------------------


@route("GET", "/api/cart", "getCart", CUSTOMER, "cart", "My cart with live prices", response=Cart)
def http_get_cart(ctx: Ctx) -> Cart:
    return get_cart(ctx.services, ctx.user.user_id)


@route(
    "PUT",
    "/api/cart/items/{productId}",
    "setCartItem",
    CUSTOMER,
    "cart",
    "Set a line's quantity (0 removes it)",
    request=SetCartItemRequest,
    response=Cart,
)
def http_set_item(ctx: Ctx) -> Cart:
    return set_item(ctx.services, ctx.user.user_id, ctx.param("productId"), ctx.body.quantity)


@route("DELETE", "/api/cart/items/{productId}", "removeCartItem", CUSTOMER, "cart", "Remove a line", response=Cart)
def http_remove_item(ctx: Ctx) -> Cart:
    return remove_item(ctx.services, ctx.user.user_id, ctx.param("productId"))


@route("DELETE", "/api/cart", "clearCart", CUSTOMER, "cart", "Empty my cart", response=Cart)
def http_clear(ctx: Ctx) -> Cart:
    return clear(ctx.services, ctx.user.user_id)


@route(
    "POST",
    "/api/cart/merge",
    "mergeCart",
    CUSTOMER,
    "cart",
    "Add a guest cart to mine (quantities added, capped at stock)",
    request=MergeCartRequest,
    response=MergedCart,
)
def http_merge(ctx: Ctx) -> MergedCart:
    return merge(ctx.services, ctx.user.user_id, ctx.body)
