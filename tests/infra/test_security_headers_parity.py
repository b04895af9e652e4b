"""The CDN deploys the header policy the local gateway sends (functions/shop/security_headers.py):
a script the deployed shop blocks is blocked by `make dev` too."""

from __future__ import annotations

from functions.shop import security_headers

from .conftest import BuiltStack


def _directives(csp: str) -> dict[str, str]:
    return {name: value for name, _, value in (d.strip().partition(" ") for d in csp.split(";") if d.strip())}


def test_cloudfront_sends_the_shared_policy(dev: BuiltStack):
    config = dev.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs["securityHeadersConfig"]
    assert config["frameOptions"]["frameOption"] == security_headers.FRAME_OPTIONS
    assert config["referrerPolicy"]["referrerPolicy"] == security_headers.REFERRER_POLICY
    assert config["strictTransportSecurity"]["accessControlMaxAgeSec"] == security_headers.HSTS_MAX_AGE_SECONDS
    deployed = _directives(config["contentSecurityPolicy"]["contentSecurityPolicy"])
    # the dev stack takes cards: the same policy with Stripe.js admitted (the local gateway's when it does)
    local = _directives(security_headers.content_security_policy(stripe=bool(dev.config.get("stripePublishableKey"))))
    # connect-src differs on purpose: the cloud adds the storage host its signed uploads go to
    connect = " https://api.stripe.com" if dev.config.get("stripePublishableKey") else ""
    assert deployed.pop("connect-src").startswith("'self'") and local.pop("connect-src") == "'self'" + connect
    assert deployed == local, f"the CDN's CSP and the local gateway's differ: {deployed} vs {local}"
