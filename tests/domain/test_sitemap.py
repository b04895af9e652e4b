"""GET /api/sitemap.xml: the storefront's real paths, built from the catalog."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from functions.shop import ports

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def locs(response) -> list[str]:
    assert response.status == 200, response.body
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.body)
    assert root.tag == NS + "urlset"
    return [u.find(NS + "loc").text for u in root.findall(NS + "url")]


def test_sitemap_lists_home_every_category_and_every_product(shop):
    shop.store.put_category(ports.Category("toys & games", "Toys"))
    # More products than one store page, so the sitemap follows the cursor to the end.
    for i in range(130):
        shop.store.create_product(ports.Product(f"t{i:03}", f"Toy {i}", "d", "toys & games", 100, "USD", 1, None))
    got = locs(shop.call("GET", "/api/sitemap.xml", headers={"host": "shop.example.com"}))
    expected = {
        "/",
        "/c/books",
        "/c/toys%20%26%20games",
        "/p/b1",
        "/p/b2",
        "/p/b3",
        *(f"/p/t{i:03}" for i in range(130)),
    }
    assert set(got) == {"https://shop.example.com" + p for p in expected}
    assert len(got) == len(expected), "a page was listed twice"


def test_sitemap_uses_the_host_the_visitor_used(shop):
    behind_cdn = {"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-forwarded-host": "shop.example.com"}
    assert locs(shop.call("GET", "/api/sitemap.xml", headers=behind_cdn))[0] == "https://shop.example.com/"
    cdn_header = {"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-shop-site-host": "shop.example.org"}
    assert locs(shop.call("GET", "/api/sitemap.xml", headers=cdn_header))[0] == "https://shop.example.org/"
    local = {"host": "127.0.0.1:8000"}
    assert locs(shop.call("GET", "/api/sitemap.xml", headers=local))[0] == "http://127.0.0.1:8000/"


def test_sitemap_refuses_a_missing_or_forged_host(shop):
    shop.fails("GET", "/api/sitemap.xml", headers={}, status=400, code="BAD_REQUEST")
    shop.fails("GET", "/api/sitemap.xml", headers={"host": "evil.example/<x>"}, status=400, code="BAD_REQUEST")
