"""The browser security headers the shop's CDN sends with every response, as plain values.

Each cloud's CDN (providers/*/cdn.py) deploys them and the local gateway
(functions/local/gateway.py) sends them, so a script the deployed shop would block is
blocked locally too. No Pulumi here: the local stack imports this module.
"""

from __future__ import annotations

HSTS_MAX_AGE_SECONDS = 63_072_000  # two years: what HSTS preload lists ask for
CONTENT_TYPE_OPTIONS = "nosniff"
FRAME_OPTIONS = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"
# The storefront uses none of these; a page that got a script in still cannot ask for them.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# Stripe.js, only on a shop that takes cards through Stripe: its script, the iframes that
# hold the card fields (and 3-D Secure), and the API the script calls. Stripe documents
# exactly these hosts for card payments.
STRIPE_SCRIPT_ORIGINS = ("https://js.stripe.com",)
STRIPE_FRAME_ORIGINS = ("https://js.stripe.com", "https://hooks.stripe.com")
STRIPE_CONNECT_ORIGINS = ("https://api.stripe.com",)


def content_security_policy(*upload_origins: str, stripe: bool = False) -> str:
    """The storefront's CSP; `upload_origins` are the hosts its browser uploads go to
    besides its own origin (none locally: uploads go through the local gateway); `stripe`
    admits Stripe.js and nothing else of Stripe's."""

    def directive(name: str, *sources: str) -> str:
        return " ".join((name, *sources))

    scripts = STRIPE_SCRIPT_ORIGINS if stripe else ()
    connects = (*upload_origins, *(STRIPE_CONNECT_ORIGINS if stripe else ()))
    frames = directive("frame-src", *STRIPE_FRAME_ORIGINS) if stripe else directive("frame-src", "'none'")
    return "; ".join(
        (
            "default-src 'self'",
            directive("script-src", "'self'", *scripts),
            "style-src 'self'",
            "img-src 'self' data: https:",
            directive("connect-src", "'self'", *connects),
            frames,
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def response_headers(*upload_origins: str, https: bool, stripe: bool = False) -> dict[str, str]:
    """Every header above, lower-case names; HSTS only over HTTPS (browsers ignore it on http)."""
    headers = {
        "content-security-policy": content_security_policy(*upload_origins, stripe=stripe),
        "x-content-type-options": CONTENT_TYPE_OPTIONS,
        "x-frame-options": FRAME_OPTIONS,
        "referrer-policy": REFERRER_POLICY,
        "permissions-policy": PERMISSIONS_POLICY,
    }
    if https:
        headers["strict-transport-security"] = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains; preload"
    return headers
