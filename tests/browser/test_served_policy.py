"""The storefront as the shop itself serves it, with no test-injected CSP: a script the
deployed shop's CDN would block is blocked by the local gateway too (or, with
SHOP_BASE_URL, by the deployed shop's CDN)."""

from __future__ import annotations

import pytest

from .steps import wait_until

pytestmark = pytest.mark.browser

# What a stored-XSS payload does: an inline <script> and an inline event handler. The
# listener added from here (not inline) tells when the image's error event has fired.
INJECTIONS = """() => {
  const script = document.createElement('script');
  script.textContent = 'window.__inline = 1';
  document.body.appendChild(script);
  const box = document.createElement('div');
  box.innerHTML = '<img src="/missing-image.png" onerror="window.__handler = 1">';
  box.firstChild.addEventListener('error', () => { window.__errored = 1; });
  document.body.appendChild(box);
}"""


def test_inline_scripts_handlers_and_eval_are_blocked_by_the_served_policy(browser, shop):
    context = browser.new_context()  # not tests' Contexts: no CSP route, the server's headers only
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        response = page.goto(shop.base_url + "/")
        assert response is not None and "script-src 'self'" in response.headers.get("content-security-policy", "")
        page.evaluate(INJECTIONS)
        wait_until(page, "window.__errored === 1")  # not wait_for_function: its polling evals, which CSP blocks
        ran = page.evaluate("() => [window.__inline ?? null, window.__handler ?? null]")
        assert ran == [None, None], f"injected inline script / handler ran: {ran}"
        assert violations, "no CSP violation reported: the page has no policy"
    finally:
        context.close()
