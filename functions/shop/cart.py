"""The signed-in customer's cart, always shown with live catalog prices."""

from __future__ import annotations

from . import datamodel, ports
from .models import Cart, CartItem


def cart_view(services, user_id: str) -> Cart:
    lines = services.store.get_cart(user_id)
    products = services.store.get_products([li.product_id for li in lines]) if lines else {}
    items = []
    for line in lines:
        p = products.get(line.product_id)
        if p is None:  # deleted from the catalog since it was added: not purchasable
            continue
        items.append(CartItem(product_id=p.product_id, name=p.name, unit_price=p.price, quantity=line.quantity,
                              line_total=p.price * line.quantity, stock=p.stock))
    return Cart(items=items, subtotal=sum(i.line_total for i in items), currency=services.currency)


def get_cart(ctx):
    return cart_view(ctx.services, ctx.principal.user_id)


def set_item(ctx):
    store, user = ctx.services.store, ctx.principal.user_id
    product_id, quantity = ctx.param("productId"), ctx.body.quantity
    if quantity > 0:
        if store.get_product(product_id) is None:
            raise ports.NotFound(f"product {product_id} not found")
        lines = store.get_cart(user)
        if len(lines) >= datamodel.MAX_CART_LINES and all(li.product_id != product_id for li in lines):
            from .http import error

            return error(409, "CART_FULL", f"a cart holds at most {datamodel.MAX_CART_LINES} different products")
    store.set_cart_line(user, product_id, quantity)
    return cart_view(ctx.services, user)


def remove_item(ctx):
    ctx.services.store.set_cart_line(ctx.principal.user_id, ctx.param("productId"), 0)
    return cart_view(ctx.services, ctx.principal.user_id)


def clear(ctx):
    ctx.services.store.clear_cart(ctx.principal.user_id)
    return cart_view(ctx.services, ctx.principal.user_id)
