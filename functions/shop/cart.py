"""The signed-in customer's cart, always shown with live catalog prices.

The store keeps only (product, quantity); names, prices and totals are read from the
catalog every time, so a price change shows up in every cart at once and the client
never supplies a price.

A line whose product was deleted from the catalog is dropped from the view (and from
checkout, which orders exactly what the view shows) and does not count towards
MAX_CART_LINES; checkout removes such leftovers from the stored cart.
"""

from __future__ import annotations

from . import datamodel, ports
from .http import error
from .models import Cart, CartItem


def live_lines(lines: list[ports.CartLine], products: dict[str, ports.Product]) -> list[ports.CartLine]:
    return [li for li in lines if li.product_id in products]


def cart_view(services, user_id: str, lines=None, products=None) -> Cart:
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


def get_cart(ctx):
    return cart_view(ctx.services, ctx.principal.user_id)


def set_item(ctx):
    """Three round trips: the cart, every product in it (one batch read, which also proves
    the product exists, enforces MAX_CART_LINES and prices the response), the write; the
    response is composed from what was read."""
    store, user = ctx.services.store, ctx.principal.user_id
    product_id, quantity = ctx.param("productId"), ctx.body.quantity
    lines = store.get_cart(user)
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
            return error(409, "CART_FULL", f"a cart holds at most {datamodel.MAX_CART_LINES} different products")
    # the catalog entry just read travels with the line: checkout re-verifies it, not re-reads it
    store.set_cart_line(user, product_id, quantity, products.get(product_id) if quantity > 0 else None)
    updated = others + ([ports.CartLine(product_id, quantity)] if quantity > 0 else [])
    updated.sort(key=lambda li: li.product_id)
    return cart_view(ctx.services, user, updated, products)


def remove_item(ctx):
    ctx.services.store.set_cart_line(ctx.principal.user_id, ctx.param("productId"), 0)
    return cart_view(ctx.services, ctx.principal.user_id)


def clear(ctx):
    ctx.services.store.clear_cart(ctx.principal.user_id)
    return Cart(items=[], subtotal=0, currency=ctx.services.currency)
