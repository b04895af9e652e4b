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

# Every directive but connect-src, which names where each cloud's signed uploads go.
_DIRECTIVES_BEFORE_CONNECT = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
)
_DIRECTIVES_AFTER_CONNECT = (
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def content_security_policy(*upload_origins: str) -> str:
    """The storefront's CSP; `upload_origins` are the hosts its browser uploads go to
    besides its own origin (none locally: uploads go through the local gateway)."""
    connect = " ".join(("connect-src 'self'", *upload_origins))
    return "; ".join((*_DIRECTIVES_BEFORE_CONNECT, connect, *_DIRECTIVES_AFTER_CONNECT))


def response_headers(*upload_origins: str, https: bool) -> dict[str, str]:
    """Every header above, lower-case names; HSTS only over HTTPS (browsers ignore it on http)."""
    headers = {
        "content-security-policy": content_security_policy(*upload_origins),
        "x-content-type-options": CONTENT_TYPE_OPTIONS,
        "x-frame-options": FRAME_OPTIONS,
        "referrer-policy": REFERRER_POLICY,
        "permissions-policy": PERMISSIONS_POLICY,
    }
    if https:
        headers["strict-transport-security"] = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains; preload"
    return headers
