"""Origin verification: the function answers only requests that came through the CDN.

The CDN (CloudFront on AWS) adds a secret header to every request it forwards to the API;
the deployed function gets the same secret in SHOP_ORIGIN_SECRET and refuses any request
without it, so calling the API Gateway URL directly (around the CDN and its firewall)
gets a 403. Stdlib only: this runs on every cold start.

Without SHOP_ORIGIN_SECRET (unit tests, the local stack unless it sets one) nothing is
checked; the infrastructure tests assert that every deployed HTTP function has it.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

ORIGIN_HEADER = "x-origin-verify"
ORIGIN_SECRET_ENV = "SHOP_ORIGIN_SECRET"


def expected_secret() -> str | None:
    return os.environ.get(ORIGIN_SECRET_ENV) or None


def origin_verified(headers: Mapping[str, str], secret: str | None = None) -> bool:
    """True when no secret is configured, or the request carries it (constant-time compare).
    `headers` must have lower-case names."""
    expected = secret if secret is not None else expected_secret()
    if not expected:
        return True
    given = headers.get(ORIGIN_HEADER)
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def forward_headers() -> dict[str, str]:
    """What a gateway in front of the function adds (the local gateway plays the CDN)."""
    secret = expected_secret()
    return {ORIGIN_HEADER: secret} if secret else {}
