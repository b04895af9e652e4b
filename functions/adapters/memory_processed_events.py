"""ProcessedEvents in memory: the reference semantics (one lock makes every call atomic)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from functions.shop import datamodel as dm
from functions.shop.processed_events import BUSY, CLAIMED, DONE


@dataclass
class _Record:
    state: str
    holder: str
    lease_until: float
    expires_at: float


class MemoryProcessedEvents:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.records: dict[str, _Record] = {}

    def claim(self, event_id: str, holder: str, *, lease_seconds: int = dm.PROCESSED_EVENT_LEASE_SECONDS) -> str:
        now = self._clock()
        with self._lock:
            rec = self.records.get(event_id)
            if rec is not None and rec.expires_at > now:
                if rec.state == DONE:
                    return DONE
                if rec.holder != holder and rec.lease_until > now:
                    return BUSY
            self.records[event_id] = _Record(
                CLAIMED, holder, now + lease_seconds, now + dm.PROCESSED_EVENTS_TTL_SECONDS
            )
            return CLAIMED

    def done(self, event_id: str, holder: str) -> None:
        now = self._clock()
        with self._lock:
            self.records[event_id] = _Record(DONE, holder, now, now + dm.PROCESSED_EVENTS_TTL_SECONDS)

    def release(self, event_id: str, holder: str) -> None:
        with self._lock:
            rec = self.records.get(event_id)
            if rec is not None and rec.state == CLAIMED and rec.holder == holder:
                del self.records[event_id]
