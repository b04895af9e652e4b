"""Filters and sort: category, price range, in stock; by price, name, newest. The address
bar holds the state: a filtered list can be shared, and Back undoes a change."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .steps import open_shop

pytestmark = pytest.mark.browser


def _names(page) -> list[str]:
    return page.get_by_role("list", name="Products").locator(".card-title").all_inner_texts()


def test_filters_and_sort_live_in_the_url(shop, contexts, screenshots):
    tag = uuid.uuid4().hex[:6]
    cheap = shop.create_product(f"Filter Alpha {tag}", stock=5, price=1000)
    mid = shop.create_product(f"Filter Bravo {tag}", stock=5, price=3000)
    gone = shop.create_product(f"Filter Charlie {tag}", stock=0, price=5000)
    page = contexts.new_page()
    open_shop(page, f"/search?q={tag}")
    grid = page.get_by_role("list", name="Products").get_by_role("listitem")
    expect(grid).to_have_count(3)

    page.get_by_label("Sort by").select_option("-price")
    expect(grid.first).to_contain_text(gone["name"])
    assert "sort=-price" in page.url
    assert _names(page) == [gone["name"], mid["name"], cheap["name"]]

    page.get_by_label("In stock only").check()
    expect(grid).to_have_count(2)
    assert "inStock=1" in page.url
    page.get_by_label("Max price").fill("20")
    page.get_by_label("Max price").press("Enter")
    expect(grid).to_have_count(1)
    expect(grid.first).to_contain_text(cheap["name"])
    assert "maxPrice=20" in page.url

    page.go_back()
    expect(grid).to_have_count(2)
    expect(page.get_by_label("Max price")).to_have_value("")
    expect(page.get_by_label("In stock only")).to_be_checked()
    page.go_back()
    expect(grid).to_have_count(3)
    expect(page.get_by_label("In stock only")).not_to_be_checked()

    # Shared: the same URL opened anew shows the same list and controls.
    other = contexts.new_page()
    open_shop(other, f"/search?q={tag}&sort=price&inStock=1&minPrice=15")
    expect(other.get_by_role("list", name="Products").get_by_role("listitem")).to_have_count(1)
    expect(other.get_by_label("Sort by")).to_have_value("price")
    expect(other.get_by_label("Min price")).to_have_value("15")
    assert _names(other) == [mid["name"]]
    other.screenshot(path=str(screenshots / "desktop-catalog-filtered.png"), full_page=True)

    # The category filter is the category's own page, filters kept.
    category = shop.categories()[1]
    other.get_by_label("Category").select_option(category["categoryId"])
    expect(other.get_by_role("heading", level=1)).to_have_text(f"Results for “{tag}”")
    assert f"/c/{category['categoryId']}?" in other.url and "sort=price" in other.url
    expect(other.get_by_text("Nothing matches")).to_be_visible()  # the test products are in another category


def test_sort_by_name_and_newest(shop, contexts):
    tag = uuid.uuid4().hex[:6]
    first = shop.create_product(f"Zebra Sort {tag}", stock=5)
    second = shop.create_product(f"Aardvark Sort {tag}", stock=5)
    page = contexts.new_page()
    open_shop(page, f"/search?q={tag}")
    expect(page.get_by_role("list", name="Products").get_by_role("listitem")).to_have_count(2)
    assert _names(page) == [second["name"], first["name"]], "the default order is by name"
    page.get_by_label("Sort by").select_option("newest")
    expect(page.get_by_role("list", name="Products").get_by_role("listitem").first).to_contain_text(second["name"])
    assert "sort=newest" in page.url
