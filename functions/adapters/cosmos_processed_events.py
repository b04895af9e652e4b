"""ProcessedEvents on the shop's Cosmos DB container (datamodel.COSMOS_CONTAINER):

    pk=id="EVENT:<sha256(eventId)>"  eventId, state, holder, leaseUntil, ttl

Each record is its own logical partition (dedupe traffic never lands on the LEDGER). A
claim is create_item (409 when the record exists), or, to take over an expired or own
claim, replace_item with the etag just read (412 when someone else got there first).
`ttl` (seconds after the last write; the container has default_ttl -1) expires records.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from functions.shop import datamodel as dm
from functions.shop.ports import Unavailable
from functions.shop.processed_events import BUSY, CLAIMED, DONE, record_id

from .cosmos_store import _translated  # the store's own mapping of transient failures

_ATTEMPTS = 5  # read-then-conditional-write rounds lost to concurrent claimers


class CosmosProcessedEvents:
    def __init__(self, container: Any, clock: Callable[[], float] = time.time) -> None:
        self._c = container
        self._clock = clock

    def _doc(self, event_id: str, state: str, holder: str, lease_until: float) -> dict[str, Any]:
        rid = f"EVENT:{record_id(event_id)}"
        return {
            "id": rid,
            "pk": rid,
            "type": "processedEvent",
            "eventId": event_id,
            "state": state,
            "holder": holder,
            "leaseUntil": lease_until,
            "ttl": dm.PROCESSED_EVENTS_TTL_SECONDS,
        }

    def _read(self, rid: str) -> dict[str, Any] | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with _translated():
            try:
                return self._c.read_item(item=rid, partition_key=rid)
            except CosmosResourceNotFoundError:
                return None

    def claim(self, event_id: str, holder: str, *, lease_seconds: int = dm.PROCESSED_EVENT_LEASE_SECONDS) -> str:
        from azure.core import MatchConditions
        from azure.cosmos import exceptions as cx

        for _ in range(_ATTEMPTS):
            now = self._clock()
            doc = self._doc(event_id, CLAIMED, holder, now + lease_seconds)
            try:
                with _translated():
                    self._c.create_item(body=doc)
                return CLAIMED
            except cx.CosmosResourceExistsError:
                pass
            current = self._read(doc["id"])
            if current is None:
                continue  # released or expired since our create: try again
            if current["state"] == DONE:
                return DONE
            if current["holder"] != holder and current["leaseUntil"] > now:
                return BUSY
            try:
                with _translated():
                    self._c.replace_item(
                        item=doc["id"], body=doc, etag=current["_etag"], match_condition=MatchConditions.IfNotModified
                    )
                return CLAIMED
            except (cx.CosmosAccessConditionFailedError, cx.CosmosResourceNotFoundError):
                continue  # another claimer wrote between our read and our replace
        raise Unavailable("cosmos: event claim lost to concurrent writers; retry")

    def done(self, event_id: str, holder: str) -> None:
        with _translated():
            self._c.upsert_item(body=self._doc(event_id, DONE, holder, self._clock()))

    def release(self, event_id: str, holder: str) -> None:
        from azure.core import MatchConditions
        from azure.cosmos import exceptions as cx

        current = self._read(f"EVENT:{record_id(event_id)}")
        if current is None or current["state"] != CLAIMED or current["holder"] != holder:
            return
        try:
            with _translated():
                self._c.delete_item(
                    item=current["id"],
                    partition_key=current["pk"],
                    etag=current["_etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
        except (cx.CosmosAccessConditionFailedError, cx.CosmosResourceNotFoundError):
            pass  # taken over or gone: not ours to release any more
