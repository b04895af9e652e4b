"""No layout shift while a page loads: the sum of chromium's layout-shift entries (CLS as
the browser reports it) stays below 0.02 on every storefront page, phone and desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .steps import VIEWPORTS, open_shop, sign_in, wait_until

pytestmark = pytest.mark.browser

CLS_BUDGET = 0.02

# Every layout-shift entry since navigation (buffered), minus those right after input.
LAYOUT_SHIFT = """() => new Promise((resolve) => {
  const entries = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ type: "layout-shift", buffered: true });
  // Two frames: every shift of the last rendering is reported before we add them up.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    entries.push(...observer.takeRecords());
    observer.disconnect();
    const counted = entries.filter((e) => !e.hadRecentInput);
    resolve({
      total: counted.reduce((sum, e) => sum + e.value, 0),
      shifts: counted.map((e) => ({
        value: e.value,
        nodes: e.sources.map((s) => s.node ? (s.node.id || s.node.className || s.node.nodeName) : "?"),
      })),
    });
  }));
})"""


IMAGES_IN_VIEW_LOADED = """[...document.images]
  .filter((img) => { const r = img.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })
  .every((img) => img.complete)"""


def settled(page) -> None:
    """The view is rendered and every image in view has loaded (nothing left to move it)."""
    expect(page.locator("main h1")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # In view: lazy images further down load as the page nears them, which may be never
    # (how far ahead the browser starts depends on the catalog's contents), and cannot shift
    # anything (fixed dimensions). Polled with evaluate: the page's CSP forbids the eval
    # wait_for_function polls with.
    wait_until(page, IMAGES_IN_VIEW_LOADED)


def layout_shift(page) -> dict:
    settled(page)
    return page.evaluate(LAYOUT_SHIFT)


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_pages_do_not_shift_while_loading(shop, contexts, device):
    product = shop.all_products()[0]
    category = shop.categories()[0]
    width, height = VIEWPORTS[device]
    for path in ("/", f"/c/{category['categoryId']}", f"/p/{product['productId']}", "/signin"):
        page = contexts.new_page(width, height)
        open_shop(page, path)
        got = layout_shift(page)
        assert got["total"] < CLS_BUDGET, f"{device} {path}: layout shift {got['total']:.3f}: {got['shifts']}"
        page.context.close()


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_signed_in_header_does_not_shift(shop, contexts, device):
    width, height = VIEWPORTS[device]
    page = contexts.new_page(width, height)
    sign_in(page, shop.new_customer())
    open_shop(page, "/?signed-in")  # a fresh load with the stored session
    got = layout_shift(page)
    assert got["total"] < CLS_BUDGET, f"{device} signed in: layout shift {got['total']:.3f}: {got['shifts']}"
