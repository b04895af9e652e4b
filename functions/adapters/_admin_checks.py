"""Positive answers of the admin re-check, remembered per access token for a few seconds.

Every identity adapter asks its identity service on admin routes whether the caller is still
an enabled admin who used a second factor; a yes is kept briefly so an admin's burst of
calls costs one look-up. Only yeses are kept, and sign-out forgets the token's.
"""

from __future__ import annotations

import threading
import time

MAX_ENTRIES = 1024  # above this, expired answers are dropped before a new one is kept


class AdminRecheckCache:
    def __init__(self) -> None:
        self._ok: dict[str, float] = {}  # access token -> monotonic time the answer expires
        self._lock = threading.Lock()

    def fresh(self, token: str) -> bool:
        with self._lock:
            return self._ok.get(token, 0.0) > time.monotonic()

    def remember(self, token: str, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._ok) > MAX_ENTRIES:
                self._ok = {t: exp for t, exp in self._ok.items() if exp > now}
            self._ok[token] = now + seconds

    def forget(self, token: str) -> None:
        with self._lock:
            self._ok.pop(token, None)
