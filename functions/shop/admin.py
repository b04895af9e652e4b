"""Catalog and order administration (admin group only; the dispatcher checks the group)."""

from __future__ import annotations

import logging
import os
import re
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Literal, cast

from . import checkout, datamodel, ports
from .clock import now_iso
from .errors import InvalidFields, Refused
from .models import (
    ImageUploadRequest,
    ImageUploadResponse,
    OrderList,
    OrderOut,
    OrderStatusInput,
    ProductInput,
    ProductOut,
    StatusResponse,
    StockInput,
)
from .orders import publish
from .routes import ADMIN, route
from .services import Services

log = logging.getLogger("shop.admin")

if TYPE_CHECKING:
    from .api import Ctx

UploadMethod = Literal["POST", "PUT"]  # ports.UploadForm.method


def new_product_id(name: str) -> str:
    """A readable, URL-safe id: the name's slug plus 6 random hex digits (no collisions
    between two products of the same name)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "product"
    return f"{slug}-{os.urandom(3).hex()}"


def _check_input(services: Services, body: ProductInput) -> None:
    """Rules that need the shop's configuration, beyond the model's own validation."""
    if body.currency != services.currency:
        # A product in another currency could never be checked out (orders are in one currency).
        raise InvalidFields([("currency", f"this shop sells in {services.currency}")])


def _ensure_category(services: Services, category_id: str) -> None:
    """Register a new category so it shows in the category list (admin writes are rare:
    one extra read is cheap)."""
    store = services.store
    if all(c.category_id != category_id for c in store.list_categories()):
        store.put_category(ports.Category(category_id, category_id.replace("-", " ").title()))


def _product(body: ProductInput, product_id: str, stock: int, image_url: str | None) -> ports.Product:
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


def create_product(services: Services, body: ProductInput) -> ProductOut:
    _check_input(services, body)
    product_id = body.product_id or new_product_id(body.name)
    product = _product(body, product_id, body.stock, body.image_url)
    services.store.create_product(product)  # AlreadyExists -> 409 for a given, taken id
    _ensure_category(services, product.category)
    return ProductOut.of(product)


def _existing(services: Services, product_id: str) -> ports.Product:
    product = services.store.get_product(product_id)
    if product is None:
        raise ports.NotFound(f"product {product_id} not found")
    return product


def update_product(services: Services, product_id: str, body: ProductInput) -> ProductOut:
    """Replace the product's fields but its stock: stock changes only through the stock
    route, so a form opened before a sale cannot undo it. An absent imageUrl keeps the
    current image."""
    if body.product_id not in (None, product_id):
        raise InvalidFields([("productId", "must match the product id in the path")])
    _check_input(services, body)
    current = _existing(services, product_id)
    image = body.image_url if body.image_url is not None else current.image_url
    stored = services.store.update_product(_product(body, current.product_id, current.stock, image))
    if stored.category != current.category:
        _ensure_category(services, stored.category)
    return ProductOut.of(stored)


def delete_product(services: Services, product_id: str) -> StatusResponse:
    """Carts holding it drop the line from their view; placed orders keep their copy."""
    services.store.delete_product(product_id)
    return StatusResponse(status="deleted")


def set_stock(services: Services, product_id: str, stock: int) -> ProductOut:
    return ProductOut.of(services.store.set_stock(product_id, stock))


def image_upload_url(services: Services, product_id: str, content_type: str) -> ImageUploadResponse:
    """A signed upload form for one image under products/<productId>/<uuid>.<ext>, of the
    requested type (datamodel.IMAGE_TYPES) and at most datamodel.MAX_IMAGE_BYTES.

    The product points at the new image URL right away, so the storefront needs no second
    call; until the browser's upload completes (seconds), the image URL answers 404 and the
    storefront shows its placeholder. Every upload gets a fresh key, so CDN caches never
    serve an older picture."""
    current = _existing(services, product_id)
    key = f"products/{current.product_id}/{uuid.uuid4().hex}.{datamodel.IMAGE_TYPES[content_type]}"
    form = services.media.presign_upload(key, content_type, datamodel.MAX_IMAGE_BYTES, datamodel.UPLOAD_EXPIRES_SECONDS)
    services.store.update_product(
        ports.Product(**{**current.__dict__, "image_url": form.image_url, "updated_at": now_iso()})
    )
    return ImageUploadResponse(
        upload_url=form.url,
        upload_method=cast(UploadMethod, form.method),
        upload_fields=dict(form.fields),
        upload_headers=dict(form.headers),
        image_url=form.image_url,
        content_type=content_type,
        max_bytes=datamodel.MAX_IMAGE_BYTES,
    )


def list_orders(services: Services, status: str, limit: int, cursor: str | None) -> OrderList:
    page = services.store.list_orders_by_status(status, limit=limit, cursor=cursor)
    orders = _with_emails(services.identity, page.items)
    return OrderList(items=[OrderOut.of(o, admin=True) for o in orders], next_cursor=page.next_cursor)


def _with_emails(identity: ports.Identity, orders: list[ports.Order]) -> list[ports.Order]:
    """An order records the e-mail only when the access token carried one (Cognito's never do):
    the others get the customer's verified address from the identity service, asked once per
    customer on the page. A failed look-up leaves the address out rather than the whole list."""
    known: dict[str, str | None] = {}
    completed = []
    for order in orders:
        if order.email is None:
            if order.user_id not in known:
                try:
                    known[order.user_id] = identity.lookup_email(order.user_id)
                except ports.IdentityError as exc:
                    log.warning("admin orders: no e-mail for %s: %s", order.user_id, exc.code)
                    known[order.user_id] = None
            order = replace(order, email=known[order.user_id])
        completed.append(order)
    return completed


def set_order_status(services: Services, order_id: str, new: str) -> OrderOut:
    """Move an order along ports.NEXT_STATUS. Setting the current status again is a no-op
    (a retried request succeeds); cancelling restocks in the same atomic write."""
    order = services.store.find_order(order_id)
    if order is None:
        raise ports.NotFound(f"order {order_id} not found")
    if new == order.status:
        return OrderOut.of(order, admin=True)
    if new not in ports.NEXT_STATUS[order.status]:
        allowed = ", ".join(ports.NEXT_STATUS[order.status]) or "nothing (final)"
        raise Refused("INVALID_TRANSITION", f"an order that is {order.status} cannot become {new}; allowed: {allowed}")
    updated = checkout.transition_order(services.store, order, new, restock=new == ports.CANCELLED)
    publish(services, "OrderCancelled" if new == ports.CANCELLED else "OrderStatusChanged", updated)
    return OrderOut.of(updated, admin=True)


# --- HTTP: each route's request -> the operation's arguments --------------------------


@route(
    "POST",
    "/api/admin/products",
    "adminCreateProduct",
    ADMIN,
    "admin",
    "Create a product",
    request=ProductInput,
    response=ProductOut,
    status=201,
)
def http_create_product(ctx: Ctx) -> ProductOut:
    return create_product(ctx.services, ctx.body)


@route(
    "PUT",
    "/api/admin/products/{productId}",
    "adminUpdateProduct",
    ADMIN,
    "admin",
    "Update a product",
    request=ProductInput,
    response=ProductOut,
)
def http_update_product(ctx: Ctx) -> ProductOut:
    return update_product(ctx.services, ctx.param("productId"), ctx.body)


@route(
    "DELETE",
    "/api/admin/products/{productId}",
    "adminDeleteProduct",
    ADMIN,
    "admin",
    "Delete a product",
    response=StatusResponse,
)
def http_delete_product(ctx: Ctx) -> StatusResponse:
    return delete_product(ctx.services, ctx.param("productId"))


@route(
    "PUT",
    "/api/admin/products/{productId}/stock",
    "adminSetStock",
    ADMIN,
    "admin",
    "Set a product's stock",
    request=StockInput,
    response=ProductOut,
)
def http_set_stock(ctx: Ctx) -> ProductOut:
    return set_stock(ctx.services, ctx.param("productId"), ctx.body.stock)


@route(
    "POST",
    "/api/admin/products/{productId}/image",
    "adminImageUpload",
    ADMIN,
    "admin",
    "Get a pre-signed URL to upload a product image",
    request=ImageUploadRequest,
    response=ImageUploadResponse,
)
def http_image_upload_url(ctx: Ctx) -> ImageUploadResponse:
    return image_upload_url(ctx.services, ctx.param("productId"), ctx.body.content_type)


@route(
    "GET",
    "/api/admin/orders",
    "adminListOrders",
    ADMIN,
    "admin",
    "Orders by status",
    response=OrderList,
    query_params=("status", "limit", "cursor"),
    required_query=("status",),
)
def http_list_orders(ctx: Ctx) -> OrderList:
    status = (ctx.query_str("status", 16) or "").upper()
    if status not in ports.ORDER_STATUSES:
        raise ValueError(f"query parameter 'status' must be one of {', '.join(ports.ORDER_STATUSES)}")
    limit = ctx.query_int("limit", 20, 1, 100)
    return list_orders(ctx.services, status, limit, ctx.cursor())


@route(
    "PUT",
    "/api/admin/orders/{orderId}/status",
    "adminSetOrderStatus",
    ADMIN,
    "admin",
    "Advance an order's status",
    request=OrderStatusInput,
    response=OrderOut,
)
def http_set_order_status(ctx: Ctx) -> OrderOut:
    return set_order_status(ctx.services, ctx.param("orderId"), ctx.body.status)
