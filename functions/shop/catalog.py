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


MAX_PRICE = 100_000_000  # models.Cents


def _browse(ctx) -> ports.Browse:
    """sort, minPrice, maxPrice (cents, inclusive) and inStock=true; 400 on anything else."""
    sort = ctx.query_str("sort", 8) or "name"
    if sort not in ports.SORTS:
        raise ValueError(f"query parameter 'sort' must be one of {', '.join(ports.SORTS)}")
    given = ctx.request.query
    low = ctx.query_int("minPrice", 0, 0, MAX_PRICE) if given.get("minPrice") else None
    high = ctx.query_int("maxPrice", 0, 0, MAX_PRICE) if given.get("maxPrice") else None
    if low is not None and high is not None and low > high:
        raise ValueError("query parameter 'minPrice' must not exceed 'maxPrice'")
    in_stock = (ctx.query_str("inStock", 5) or "false").lower()
    if in_stock not in ("true", "false"):
        raise ValueError("query parameter 'inStock' must be true or false")
    return ports.Browse(sort=sort, min_price=low, max_price=high, in_stock=in_stock == "true")


def list_products(ctx):
    category = ctx.query_str("category", MAX_CATEGORY)
    query = ctx.query_str("q", MAX_QUERY)
    limit = ctx.query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    browse = _browse(ctx)
    page = ctx.services.store.list_products(
        category=category, query=query, limit=limit, cursor=ctx.cursor(), browse=browse
    )
    return ProductList(items=[Product.of(p) for p in page.items], next_cursor=page.next_cursor)


def get_product(ctx):
    product = ctx.services.store.get_product(ctx.param("productId"))
    if product is None:
        raise ports.NotFound(f"product {ctx.param('productId')} not found")
    return Product.of(product)
