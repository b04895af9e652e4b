"""The ProcessedEvents port: how an at-least-once consumer does its work once per event.

Queues and topics (SQS, Service Bus, Pub/Sub) deliver at least once: a message comes back
after a timeout, a crash or a publish retried by the sender. The notifications consumer
keeps one small record per event id in the cloud's own database, with an expiry:

    claim(event, holder, lease)  -> CLAIMED: this delivery does the work ...
                                    then done() (kept PROCESSED_EVENTS_TTL_SECONDS), or,
                                    when the work failed, release() so a redelivery retries;
                                 -> DONE: already processed: acknowledge, do nothing;
                                 -> BUSY: another delivery holds an unexpired claim.

The claim is one conditional write (DynamoDB conditional put, Cosmos create / etag
replace, Firestore create / last-update-time precondition), so of two concurrent
deliveries exactly one gets CLAIMED. `holder` names the delivery: the queue's message id
(or sequence number), which stays the same when that message is redelivered. A redelivery
of the holder's own message may take its claim back at once: the queue only redelivers a
message after the previous attempt's visibility timeout / lock / ack deadline, all longer
than the function's timeout, so that attempt is over (a crash between claim and done).
Anyone else may take a claim over only after its lease (PROCESSED_EVENT_LEASE_SECONDS,
longer than any function timeout) has run out.

Stdlib only: on the notifications function's cold-start path.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from . import datamodel as dm

CLAIMED, DONE, BUSY = "claimed", "done", "busy"


class ProcessedEvents(Protocol):
    def claim(self, event_id: str, holder: str, *, lease_seconds: int = dm.PROCESSED_EVENT_LEASE_SECONDS) -> str:
        """CLAIMED, DONE or BUSY (see the module docstring); atomic against concurrent
        claims of the same event. Raises Unavailable on a transient backend failure."""
        ...

    def done(self, event_id: str, holder: str) -> None:
        """The work is done: later claims answer DONE until the record expires."""
        ...

    def release(self, event_id: str, holder: str) -> None:
        """The work failed: drop the claim if `holder` still holds it (else do nothing)."""
        ...


def record_id(event_id: str) -> str:
    """A fixed-length id safe in every store's keys (Cosmos and Firestore ids forbid '/')."""
    return hashlib.sha256(event_id.encode()).hexdigest()
