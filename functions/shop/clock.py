"""The one timestamp format the shop writes: UTC, milliseconds, ``Z`` (``2026-12-02T19:02:22.123Z``).

Every store and record uses it, so timestamps from different writers sort as text."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
