"""Catalog and order administration (admin group only; the dispatcher checks the group)."""

from __future__ import annotations

import os
import re
import uuid

from . import ports
from .http import error
from .models import ImageUploadResponse, Order, OrderList, Product, StatusResponse
from .orders import now_iso, publish

IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif",
                    "image/svg+xml": "svg"}


def _slug(name: str) -> str:
    return (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "product")


def _product(body, product_id: str, stock: int, image_url: str | None) -> ports.Product:
    return ports.Product(product_id=product_id, name=body.name, description=body.description,
                         category=body.category, price=body.price, currency=body.currency, stock=stock,
                         image_url=image_url, updated_at=now_iso())


def create_product(ctx):
    product_id = f"{_slug(ctx.body.name)}-{os.urandom(3).hex()}"
    product = _product(ctx.body, product_id, ctx.body.stock, ctx.body.image_url)
    ctx.services.store.create_product(product)
    return 201, Product.of(product)


def _existing(ctx) -> ports.Product:
    product = ctx.services.store.get_product(ctx.param("productId"))
    if product is None:
        raise ports.NotFound(f"product {ctx.param('productId')} not found")
    return product


def update_product(ctx):
    current = _existing(ctx)
    image = ctx.body.image_url if ctx.body.image_url is not None else current.image_url
    # stock is managed through the stock route only, so a stale form cannot undo sales
    return Product.of(ctx.services.store.update_product(_product(ctx.body, current.product_id, current.stock, image)))


def delete_product(ctx):
    ctx.services.store.delete_product(ctx.param("productId"))
    return StatusResponse(status="deleted")


def set_stock(ctx):
    return Product.of(ctx.services.store.set_stock(ctx.param("productId"), ctx.body.stock))


def image_upload_url(ctx):
    current = _existing(ctx)
    ext = IMAGE_EXTENSIONS[ctx.body.content_type]
    key = f"products/{current.product_id}/{uuid.uuid4().hex}.{ext}"
    upload_url, image_url = ctx.services.media.presign_upload(key, ctx.body.content_type)
    # The product points at the new image right away; the upload follows within minutes.
    ctx.services.store.update_product(
        ports.Product(**{**current.__dict__, "image_url": image_url, "updated_at": now_iso()}))
    return ImageUploadResponse(upload_url=upload_url, image_url=image_url, content_type=ctx.body.content_type)


def list_orders(ctx):
    status = (ctx.request.query.get("status") or "").upper()
    if status not in ports.ORDER_STATUSES:
        raise ValueError(f"query parameter 'status' must be one of {', '.join(ports.ORDER_STATUSES)}")
    limit = ctx.query_int("limit", 20, 1, 100)
    page = ctx.services.store.list_orders_by_status(status, limit=limit, cursor=ctx.request.query.get("cursor") or None)
    return OrderList(items=[Order.of(o, admin=True) for o in page.items], next_cursor=page.next_cursor)


def set_order_status(ctx):
    order = ctx.services.store.find_order(ctx.param("orderId"))
    if order is None:
        raise ports.NotFound(f"order {ctx.param('orderId')} not found")
    new = ctx.body.status
    if new == order.status:
        return Order.of(order, admin=True)
    if new not in ports.NEXT_STATUS[order.status]:
        return error(409, "INVALID_TRANSITION", f"an order that is {order.status} cannot become {new}")
    updated = ctx.services.store.transition_order(order, new, restock=new == ports.CANCELLED)
    publish(ctx.services, "OrderCancelled" if new == ports.CANCELLED else "OrderStatusChanged", updated)
    return Order.of(updated, admin=True)
