"""Browsing: categories, product pages (by category and/or name search), product detail."""

from __future__ import annotations

from . import ports
from .models import Category, CategoryList, Product, ProductList


def list_categories(ctx):
    return CategoryList(items=[Category(category_id=c.category_id, name=c.name)
                               for c in ctx.services.store.list_categories()])


def list_products(ctx):
    q = ctx.request.query
    category = (q.get("category") or "").strip() or None
    query = (q.get("q") or "").strip() or None
    if query is not None and len(query) > 100:
        raise ValueError("query parameter 'q' must be at most 100 characters")
    limit = ctx.query_int("limit", 20, 1, 100)
    page = ctx.services.store.list_products(category=category, query=query, limit=limit,
                                            cursor=q.get("cursor") or None)
    return ProductList(items=[Product.of(p) for p in page.items], next_cursor=page.next_cursor)


def get_product(ctx):
    product = ctx.services.store.get_product(ctx.param("productId"))
    if product is None:
        raise ports.NotFound(f"product {ctx.param('productId')} not found")
    return Product.of(product)
