"""Real paths, what search engines read on them, and how the published files are cached.

The local gateway serves the storefront exactly as the clouds publish it
(providers/site_files.build_site), so the hashed names and Cache-Control checked here are
the deployed ones; the CDN routing of each cloud is checked in tests/infra.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from .steps import open_shop, usd

pytestmark = pytest.mark.browser

IMMUTABLE = "public, max-age=31536000, immutable"
HASHED = re.compile(r"/(js|css)/.+\.[0-9a-f]{12}\.(js|css)$")


def json_ld(page) -> dict:
    blocks = page.locator('head script[type="application/ld+json"]')
    expect(blocks).to_have_count(1)
    return json.loads(blocks.text_content())


def test_product_page_loads_from_its_real_path_with_product_data(shop, contexts):
    product = next(p for p in shop.all_products() if p["stock"] > 0)
    response = requests.get(f"{shop.base_url}/p/{product['productId']}", timeout=10)
    assert response.status_code == 200, f"/p/<id> answered {response.status_code}"
    assert response.headers["content-type"].startswith("text/html"), "/p/<id> must be the app, not JSON"

    page = contexts.new_page()
    open_shop(page, f"/p/{product['productId']}")
    expect(page.get_by_role("heading", level=1, name=product["name"])).to_be_visible()
    assert page.url == f"{shop.base_url}/p/{product['productId']}"
    assert page.title() == f"{product['name']} · Nimbus Market"
    description = page.locator('meta[name="description"]').get_attribute("content")
    assert product["name"] in description and usd(product["price"]) in description, description
    canonical = page.locator('link[rel="canonical"]').get_attribute("href")
    assert canonical == f"{shop.base_url}/p/{product['productId']}"

    data = json_ld(page)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Product"
    assert data["name"] == product["name"] and data["sku"] == product["productId"]
    assert data["url"] == canonical and data["image"].startswith(shop.base_url + "/")
    offer = data["offers"]
    assert offer["@type"] == "Offer"
    assert offer["price"] == f"{product['price'] / 100:.2f}", offer
    assert offer["priceCurrency"] == product["currency"]
    assert offer["availability"] == "https://schema.org/InStock"


def test_sold_out_product_offer_says_out_of_stock(shop, contexts):
    gone = shop.create_product("Sold Out Lamp", stock=0, price=4250)
    page = contexts.new_page()
    open_shop(page, f"/p/{gone['productId']}")
    expect(page.get_by_role("heading", level=1, name="Sold Out Lamp")).to_be_visible()
    offer = json_ld(page)["offers"]
    assert offer["availability"] == "https://schema.org/OutOfStock"
    assert offer["price"] == "42.50"


def test_category_page_has_its_own_path_title_description_and_canonical(shop, contexts):
    category = shop.categories()[0]
    page = contexts.new_page()
    open_shop(page, "/")
    home_description = page.locator('meta[name="description"]').get_attribute("content")
    open_shop(page, f"/c/{category['categoryId']}")
    expect(page.get_by_role("heading", level=1, name=category["name"])).to_be_visible()
    assert page.title() == f"{category['name']} · Nimbus Market"
    description = page.locator('meta[name="description"]').get_attribute("content")
    assert category["name"] in description and description != home_description, description
    assert page.locator('link[rel="canonical"]').get_attribute("href") == f"{shop.base_url}/c/{category['categoryId']}"
    expect(page.locator('script[type="application/ld+json"]')).to_have_count(0)
    current = page.get_by_role("navigation", name="Categories").get_by_role("link", name=category["name"])
    expect(current).to_have_attribute("aria-current", "page")


def test_old_hash_links_land_on_the_real_path(shop, contexts):
    product = shop.all_products()[0]
    category = shop.categories()[0]
    page = contexts.new_page()
    open_shop(page, f"/#/p/{product['productId']}")
    expect(page.get_by_role("heading", level=1, name=product["name"])).to_be_visible()
    assert page.url == f"{shop.base_url}/p/{product['productId']}", "the #/ link was not rewritten"
    open_shop(page, f"/#/c/{category['categoryId']}")
    expect(page.get_by_role("heading", level=1, name=category["name"])).to_be_visible()
    assert page.url == f"{shop.base_url}/c/{category['categoryId']}"
    # A view that still sets location.hash (sign-in's ?next=, admin) is routed too.
    page.evaluate("location.hash = '#/search?q=a'")
    expect(page.get_by_role("heading", level=1, name=re.compile("Results for"))).to_be_visible()
    assert page.url == f"{shop.base_url}/search?q=a"


def test_links_navigate_in_place_and_back_returns(shop, contexts):
    product = shop.all_products()[0]
    page = contexts.new_page()
    open_shop(page)
    page.evaluate("window.__samePage = true")
    link = page.locator(f'a[href="/p/{product["productId"]}"]').last
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1, name=product["name"])).to_be_visible()
    assert page.url == f"{shop.base_url}/p/{product['productId']}"
    assert page.evaluate("window.__samePage === true"), "following a product link reloaded the page"
    page.go_back()
    expect(page.get_by_role("heading", level=1, name="All products")).to_be_visible()
    assert page.url == f"{shop.base_url}/"


def test_views_load_when_needed(shop, contexts):
    page = contexts.new_page()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    open_shop(page)
    expect(page.get_by_role("heading", level=1, name="All products")).to_be_visible()
    views = {re.sub(r"\.[0-9a-f]{12}\.js$", "", u.rsplit("/", 1)[1]) for u in scripts if "/js/views/" in u}
    assert views == {"catalog"}, f"the home page loaded views it does not show: {sorted(views)}"
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert any("/js/views/account." in u for u in scripts), "the sign-in view was not loaded on demand"
    assert not any("/js/views/admin." in u for u in scripts), "the admin view was loaded for a shopper"


def test_scripts_and_styles_are_hashed_and_cached_for_good(shop, contexts):
    page = contexts.new_page()
    assets: dict[str, str] = {}

    def record(response) -> None:
        if response.request.resource_type in ("script", "stylesheet"):
            assets[response.url] = response.headers.get("cache-control", "")

    page.on("response", record)
    open_shop(page, "/c/" + shop.categories()[0]["categoryId"])
    assert assets, "no script or stylesheet was loaded"
    for url, cache in assets.items():
        assert HASHED.search(url), f"{url} has no content hash in its name"
        assert cache == IMMUTABLE, f"{url}: Cache-Control {cache!r}"
    for path in ("/", "/p/anything", "/config.json"):
        got = requests.get(shop.base_url + path, timeout=10).headers.get("cache-control")
        assert got == "no-cache", f"{path} must be revalidated, got {got!r}"


def test_missing_files_are_404_while_routes_are_the_app(shop):
    assert requests.get(f"{shop.base_url}/js/missing.js", timeout=10).status_code == 404
    assert requests.get(f"{shop.base_url}/c/books/", timeout=10).status_code == 200


def test_robots_txt_lets_crawlers_in_and_keeps_private_pages_out(shop):
    response = requests.get(f"{shop.base_url}/robots.txt", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    rules = [line.split(":", 1) for line in response.text.splitlines() if ":" in line and not line.startswith("#")]
    disallowed = {v.strip() for k, v in rules if k.strip().lower() == "disallow"}
    assert {"/cart", "/checkout", "/orders", "/admin"} <= disallowed
    assert not {d for d in disallowed if "/p/".startswith(d) or "/c/".startswith(d) or d in ("/", "/api")}, disallowed


def test_unknown_pages_tell_crawlers_not_to_index_them(shop, contexts):
    page = contexts.new_page(allow=(404,))
    open_shop(page, "/p/no-such-product")
    expect(page.get_by_role("heading", level=1, name="Product not found")).to_be_visible()
    expect(page.locator('meta[name="robots"]')).to_have_attribute("content", "noindex")
    page.get_by_role("link", name="Browse all products").click()
    expect(page.get_by_role("heading", level=1, name="All products")).to_be_visible()
    expect(page.locator('meta[name="robots"]')).to_have_count(0)
    open_shop(page, "/no/such/page")
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    expect(page.locator('meta[name="robots"]')).to_have_attribute("content", "noindex")


def test_sitemap_lists_every_product_and_category_page_by_its_real_path(shop):
    import xml.etree.ElementTree as ET

    response = requests.get(f"{shop.base_url}/api/sitemap.xml", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = {u.find(ns + "loc").text for u in ET.fromstring(response.content).findall(ns + "url")}
    expected = {f"{shop.base_url}/"}
    expected |= {f"{shop.base_url}/c/{c['categoryId']}" for c in shop.categories()}
    expected |= {f"{shop.base_url}/p/{p['productId']}" for p in shop.all_products()}
    assert expected <= locs, f"missing from the sitemap: {sorted(expected - locs)[:5]}"
    for loc in sorted(locs)[:3]:
        page = requests.get(loc, timeout=10)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), loc
