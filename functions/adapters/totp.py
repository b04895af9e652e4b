"""RFC 6238 time-based one-time passwords (SHA-1, 6 digits, 30 s): what authenticator apps
compute. The in-memory identity checks codes with it; tests use it to act as the app.
Stdlib only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import time

PERIOD = 30
DIGITS = 6


def new_secret() -> str:
    return base64.b32encode(os.urandom(20)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    clean = secret.strip().replace(" ", "").upper()
    return base64.b32decode(clean + "=" * (-len(clean) % 8))


def code(secret: str, at: float | None = None) -> str:
    counter = int((time.time() if at is None else at) // PERIOD)
    digest = hmac.new(_key(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def verify(secret: str, candidate: str, at: float | None = None, window: int = 1) -> bool:
    """True when `candidate` is the code of this period or of `window` periods either side
    (the clock drift apps and servers allow)."""
    now = time.time() if at is None else at
    return any(hmac.compare_digest(code(secret, now + k * PERIOD), candidate) for k in range(-window, window + 1))
