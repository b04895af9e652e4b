"""Browsing: categories, product pages (by category and/or name search), product detail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote
from xml.sax.saxutils import escape

from . import ports
from .errors import BadRequest
from .http import Response
from .models import CategoryList, CategoryOut, ProductList, ProductOut
from .routes import PUBLIC, SITE_HOST_HEADER, SITEMAP_PATH, route
from .services import Services

if TYPE_CHECKING:
    from .api import Ctx

# Query parameter bounds (the OpenAPI document declares the same).
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_CATEGORY = 64
MAX_QUERY = 100


MAX_PRICE = 100_000_000  # models.Cents
SITEMAP_PAGE = 100  # products read per store call while the sitemap is built
SITEMAP_MAX_URLS = 50_000  # the sitemaps.org limit for one file
XML = "application/xml; charset=utf-8"


@dataclass(frozen=True)
class ProductQuery:
    category: str | None
    query: str | None  # case-insensitive substring of the name
    limit: int
    cursor: str | None
    browse: ports.Browse


def list_categories(services: Services) -> CategoryList:
    return CategoryList(
        items=[CategoryOut(category_id=c.category_id, name=c.name) for c in services.store.list_categories()]
    )


def list_products(services: Services, q: ProductQuery) -> ProductList:
    page = services.store.list_products(
        category=q.category, query=q.query, limit=q.limit, cursor=q.cursor, browse=q.browse
    )
    return ProductList(items=[ProductOut.of(p) for p in page.items], next_cursor=page.next_cursor)


def get_product(services: Services, product_id: str) -> ProductOut:
    product = services.store.get_product(product_id)
    if product is None:
        raise ports.NotFound(f"product {product_id} not found")
    return ProductOut.of(product)


def sitemap(services: Services, origin: str) -> str:
    """The storefront's real paths from the catalog under `origin`: home, each category,
    each product."""
    store = services.store
    paths = ["/"] + ["/c/" + quote(c.category_id, safe="") for c in store.list_categories()]
    cursor = None
    while len(paths) < SITEMAP_MAX_URLS:
        page = store.list_products(category=None, query=None, limit=SITEMAP_PAGE, cursor=cursor)
        paths += ["/p/" + quote(p.product_id, safe="") for p in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    urls = "".join(f"<url><loc>{escape(origin + path)}</loc></url>" for path in paths[:SITEMAP_MAX_URLS])
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'


# --- HTTP: each route's request -> the operation's arguments --------------------------


def _browse(ctx: Ctx) -> ports.Browse:
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


def site_origin(headers: dict[str, str]) -> str:
    """The storefront's origin as the visitor used it: the API sits behind each cloud's CDN
    under /api and sees its own host, so the CDN passes the visitor's in SITE_HOST_HEADER;
    X-Forwarded-Host, then Host, answer for a call that did not come through it."""
    host = (
        (headers.get(SITE_HOST_HEADER.lower()) or headers.get("x-forwarded-host") or headers.get("host") or "")
        .split(",")[0]
        .strip()
    )
    if not host or any(c in host for c in "/\\ @?#<>&\"'"):
        raise BadRequest("the request has no usable Host header")
    proto = (headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    local = host.split(":")[0] in ("127.0.0.1", "localhost")
    return f"{proto if proto in ('http', 'https') else 'http' if local else 'https'}://{host}"


@route("GET", "/api/categories", "listCategories", PUBLIC, "catalog", "Product categories", response=CategoryList)
def http_list_categories(ctx: Ctx) -> CategoryList:
    return list_categories(ctx.services)


@route(
    "GET",
    "/api/products",
    "listProducts",
    PUBLIC,
    "catalog",
    "Products by category or name search, filtered by price and stock, sorted, paginated",
    response=ProductList,
    query_params=("category", "q", "limit", "cursor", "minPrice", "maxPrice", "inStock", "sort"),
)
def http_list_products(ctx: Ctx) -> ProductList:
    category = ctx.query_str("category", MAX_CATEGORY)
    query = ctx.query_str("q", MAX_QUERY)
    limit = ctx.query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    browse = _browse(ctx)
    return list_products(ctx.services, ProductQuery(category, query, limit, ctx.cursor(), browse))


@route("GET", "/api/products/{productId}", "getProduct", PUBLIC, "catalog", "One product", response=ProductOut)
def http_get_product(ctx: Ctx) -> ProductOut:
    return get_product(ctx.services, ctx.param("productId"))


@route(
    "GET",
    SITEMAP_PATH,
    "getSitemap",
    PUBLIC,
    "catalog",
    "Sitemap of the storefront (XML): home, every category page and every product page",
    media_type="application/xml",
    body_description="sitemaps.org urlset",
)
def http_sitemap(ctx: Ctx) -> Response:
    body = sitemap(ctx.services, site_origin(ctx.request.headers))
    # Crawlers fetch it rarely; an hour keeps it fresh enough without asking the store each time.
    return Response(200, body.encode(), {"content-type": XML, "cache-control": "public, max-age=3600"})
