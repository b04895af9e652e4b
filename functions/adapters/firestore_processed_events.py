"""ProcessedEvents on Firestore: shops/<root>/processedEvents/<sha256(eventId)> with
eventId, state, holder, leaseUntil and expiresAt (a Timestamp under the TTL policy of
datamodel.FIRESTORE_TTL_FIELDS; Firestore deletes expired documents within about a day, so
reads treat an expired record as absent).

A claim is `create` (AlreadyExists when the record exists), or, to take over an expired or
own claim, an update with the `last_update_time` just read as precondition
(FailedPrecondition when someone else wrote first): no transaction, no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from functions.shop import datamodel as dm
from functions.shop.ports import Unavailable
from functions.shop.processed_events import BUSY, CLAIMED, DONE, record_id

from .firestore_store import _translated  # the store's own mapping of transient failures

COLLECTION = "processedEvents"
_ATTEMPTS = 5  # read-then-conditional-write rounds lost to concurrent claimers


class FirestoreProcessedEvents:
    def __init__(self, client: Any, root: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self._db = client
        self._clock = clock
        base = client.collection(dm.FIRESTORE_ROOT_COLLECTION).document(root or dm.SHOP_TABLE.name)
        self._events = base.collection(COLLECTION)

    def _ref(self, event_id: str) -> Any:
        return self._events.document(record_id(event_id))

    def _doc(self, event_id: str, state: str, holder: str, lease_until: float, now: float) -> dict[str, Any]:
        return {
            "eventId": event_id,
            "state": state,
            "holder": holder,
            "leaseUntil": lease_until,
            "expiresAt": datetime.fromtimestamp(now + dm.PROCESSED_EVENTS_TTL_SECONDS, UTC),
        }

    def claim(self, event_id: str, holder: str, *, lease_seconds: int = dm.PROCESSED_EVENT_LEASE_SECONDS) -> str:
        from google.api_core import exceptions as gexc

        ref = self._ref(event_id)
        for _ in range(_ATTEMPTS):
            now = self._clock()
            doc = self._doc(event_id, CLAIMED, holder, now + lease_seconds, now)
            try:
                with _translated():
                    ref.create(doc)
                return CLAIMED
            except gexc.AlreadyExists:
                pass
            with _translated():
                snap = ref.get()
            if not snap.exists:
                continue  # released since our create: try again
            current = snap.to_dict()
            alive = current["expiresAt"].timestamp() > now
            if alive and current["state"] == DONE:
                return DONE
            if alive and current["holder"] != holder and current["leaseUntil"] > now:
                return BUSY
            batch = self._db.batch()
            batch.update(ref, doc, option=self._db.write_option(last_update_time=snap.update_time))
            try:
                with _translated():
                    batch.commit()
                return CLAIMED
            except (gexc.FailedPrecondition, gexc.NotFound):
                continue  # another claimer wrote between our read and our update
        raise Unavailable("firestore: event claim lost to concurrent writers; retry")

    def done(self, event_id: str, holder: str) -> None:
        now = self._clock()
        with _translated():
            self._ref(event_id).set(self._doc(event_id, DONE, holder, now, now))

    def release(self, event_id: str, holder: str) -> None:
        from google.api_core import exceptions as gexc

        ref = self._ref(event_id)
        with _translated():
            snap = ref.get()
        if not snap.exists:
            return
        current = snap.to_dict()
        if current["state"] != CLAIMED or current["holder"] != holder:
            return
        try:
            with _translated():
                ref.delete(option=self._db.write_option(last_update_time=snap.update_time))
        except (gexc.FailedPrecondition, gexc.NotFound):
            pass  # taken over or gone: not ours to release any more
