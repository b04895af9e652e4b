"""Browsing: categories, product pages (by category and/or name search), product detail."""

from __future__ import annotations

from . import ports
from .models import Category, CategoryList, Product, ProductList

# Query parameter bounds (the OpenAPI document declares the same).
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_CATEGORY = 64
MAX_QUERY = 100


def list_categories(ctx):
    return CategoryList(
        items=[Category(category_id=c.category_id, name=c.name) for c in ctx.services.store.list_categories()]
    )


def list_products(ctx):
    category = ctx.query_str("category", MAX_CATEGORY)
    query = ctx.query_str("q", MAX_QUERY)
    limit = ctx.query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = ctx.services.store.list_products(category=category, query=query, limit=limit, cursor=ctx.cursor())
    return ProductList(items=[Product.of(p) for p in page.items], next_cursor=page.next_cursor)


def get_product(ctx):
    product = ctx.services.store.get_product(ctx.param("productId"))
    if product is None:
        raise ports.NotFound(f"product {ctx.param('productId')} not found")
    return Product.of(product)
