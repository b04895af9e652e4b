"""Catalog and order administration (admin group only; the dispatcher checks the group)."""

from __future__ import annotations

import os
import re
import uuid

from . import checkout, datamodel, ports
from .http import error
from .models import ImageUploadResponse, Order, OrderList, Product, StatusResponse
from .orders import now_iso, publish


def new_product_id(name: str) -> str:
    """A readable, URL-safe id: the name's slug plus 6 random hex digits (no collisions
    between two products of the same name)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "product"
    return f"{slug}-{os.urandom(3).hex()}"


def _invalid(field: str, message: str):
    return error(
        422,
        "VALIDATION_ERROR",
        f"request body is invalid: {field}: {message}",
        details=[{"field": field, "message": message}],
    )


def _check_input(ctx):
    """Rules that need the shop's configuration, beyond the model's own validation."""
    if ctx.body.currency != ctx.services.currency:
        # A product in another currency could never be checked out (orders are in one currency).
        return _invalid("currency", f"this shop sells in {ctx.services.currency}")
    return None


def _ensure_category(store, category_id: str) -> None:
    """Register a new category so it shows in the category list (admin writes are rare:
    one extra read is cheap)."""
    if all(c.category_id != category_id for c in store.list_categories()):
        store.put_category(ports.Category(category_id, category_id.replace("-", " ").title()))


def _product(body, product_id: str, stock: int, image_url: str | None) -> ports.Product:
    return ports.Product(
        product_id=product_id,
        name=body.name,
        description=body.description,
        category=body.category,
        price=body.price,
        currency=body.currency,
        stock=stock,
        image_url=image_url,
        updated_at=now_iso(),
    )


def create_product(ctx):
    if (bad := _check_input(ctx)) is not None:
        return bad
    product_id = ctx.body.product_id or new_product_id(ctx.body.name)
    product = _product(ctx.body, product_id, ctx.body.stock, ctx.body.image_url)
    ctx.services.store.create_product(product)  # AlreadyExists -> 409 for a given, taken id
    _ensure_category(ctx.services.store, product.category)
    return 201, Product.of(product)


def _existing(ctx) -> ports.Product:
    product = ctx.services.store.get_product(ctx.param("productId"))
    if product is None:
        raise ports.NotFound(f"product {ctx.param('productId')} not found")
    return product


def update_product(ctx):
    """Replace the product's fields but its stock: stock changes only through the stock
    route, so a form opened before a sale cannot undo it. An absent imageUrl keeps the
    current image."""
    if ctx.body.product_id not in (None, ctx.param("productId")):
        return _invalid("productId", "must match the product id in the path")
    if (bad := _check_input(ctx)) is not None:
        return bad
    current = _existing(ctx)
    image = ctx.body.image_url if ctx.body.image_url is not None else current.image_url
    stored = ctx.services.store.update_product(_product(ctx.body, current.product_id, current.stock, image))
    if stored.category != current.category:
        _ensure_category(ctx.services.store, stored.category)
    return Product.of(stored)


def delete_product(ctx):
    """Carts holding it drop the line from their view; placed orders keep their copy."""
    ctx.services.store.delete_product(ctx.param("productId"))
    return StatusResponse(status="deleted")


def set_stock(ctx):
    return Product.of(ctx.services.store.set_stock(ctx.param("productId"), ctx.body.stock))


def image_upload_url(ctx):
    """A signed upload form for one image under products/<productId>/<uuid>.<ext>, of the
    requested type (datamodel.IMAGE_TYPES) and at most datamodel.MAX_IMAGE_BYTES.

    The product points at the new image URL right away, so the storefront needs no second
    call; until the browser's upload completes (seconds), the image URL answers 404 and the
    storefront shows its placeholder. Every upload gets a fresh key, so CDN caches never
    serve an older picture."""
    current = _existing(ctx)
    content_type = ctx.body.content_type
    key = f"products/{current.product_id}/{uuid.uuid4().hex}.{datamodel.IMAGE_TYPES[content_type]}"
    form = ctx.services.media.presign_upload(
        key, content_type, datamodel.MAX_IMAGE_BYTES, datamodel.UPLOAD_EXPIRES_SECONDS
    )
    ctx.services.store.update_product(
        ports.Product(**{**current.__dict__, "image_url": form.image_url, "updated_at": now_iso()})
    )
    return ImageUploadResponse(
        upload_url=form.url,
        upload_method=form.method,
        upload_fields=dict(form.fields),
        upload_headers=dict(form.headers),
        image_url=form.image_url,
        content_type=content_type,
        max_bytes=datamodel.MAX_IMAGE_BYTES,
    )


def list_orders(ctx):
    status = (ctx.query_str("status", 16) or "").upper()
    if status not in ports.ORDER_STATUSES:
        raise ValueError(f"query parameter 'status' must be one of {', '.join(ports.ORDER_STATUSES)}")
    limit = ctx.query_int("limit", 20, 1, 100)
    page = ctx.services.store.list_orders_by_status(status, limit=limit, cursor=ctx.cursor())
    return OrderList(items=[Order.of(o, admin=True) for o in page.items], next_cursor=page.next_cursor)


def set_order_status(ctx):
    """Move an order along ports.NEXT_STATUS. Setting the current status again is a no-op
    (a retried request succeeds); cancelling restocks in the same atomic write."""
    order = ctx.services.store.find_order(ctx.param("orderId"))
    if order is None:
        raise ports.NotFound(f"order {ctx.param('orderId')} not found")
    new = ctx.body.status
    if new == order.status:
        return Order.of(order, admin=True)
    if new not in ports.NEXT_STATUS[order.status]:
        allowed = ", ".join(ports.NEXT_STATUS[order.status]) or "nothing (final)"
        return error(
            409, "INVALID_TRANSITION", f"an order that is {order.status} cannot become {new}; allowed: {allowed}"
        )
    updated = checkout.transition_order(ctx.services.store, order, new, restock=new == ports.CANCELLED)
    publish(ctx.services, "OrderCancelled" if new == ports.CANCELLED else "OrderStatusChanged", updated)
    return Order.of(updated, admin=True)
