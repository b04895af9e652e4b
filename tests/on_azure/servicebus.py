"""A fake Service Bus topic subscription in peek-lock mode, and the Functions host's pump.

Faithful where the notifications trigger depends on it:
- the broker numbers every message it accepts (`sequence_number`, kept across
  redeliveries); the sender's MessageId is just carried;
- a receive locks the message and increments its `delivery_count`; complete removes it;
  abandon (the trigger raised) or a lost lock (the worker died) makes it available again;
- a message whose delivery count reached the subscription's max delivery count is moved to
  the dead-letter sub-queue with reason MaxDeliveryCountExceeded instead of being
  delivered again (so it is delivered at most max_delivery_count times).
Not modelled: sessions, scheduled messages, duplicate detection, message TTL.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import azure.functions as func


@dataclass
class _Stored:
    body: bytes
    message_id: str | None
    sequence_number: int
    delivery_count: int = 0
    locked: bool = False
    dead_letter_reason: str | None = None


class _Delivered(func.ServiceBusMessage):
    """What the Functions host hands the trigger: the body plus the broker's properties."""

    def __init__(self, stored: _Stored) -> None:
        super().__init__(body=stored.body, content_type="application/json")
        self._stored = stored
        self._delivery_count = stored.delivery_count

    @property
    def message_id(self) -> str | None:
        return self._stored.message_id

    @property
    def sequence_number(self) -> int:
        return self._stored.sequence_number

    @property
    def delivery_count(self) -> int:
        return self._delivery_count


class FakeSubscription:
    def __init__(self, max_delivery_count: int) -> None:
        self.max_delivery_count = max_delivery_count
        self._messages: list[_Stored] = []
        self.dead_letters: list[_Stored] = []
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, body: str | bytes, message_id: str | None = None) -> int:
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            stored = _Stored(data, message_id, next(self._seq))
            self._messages.append(stored)
            return stored.sequence_number

    def receive(self) -> _Delivered | None:
        with self._lock:
            for stored in list(self._messages):
                if stored.locked:
                    continue
                if stored.delivery_count >= self.max_delivery_count:
                    self._messages.remove(stored)
                    stored.dead_letter_reason = "MaxDeliveryCountExceeded"
                    self.dead_letters.append(stored)
                    continue
                stored.locked = True
                stored.delivery_count += 1
                return _Delivered(stored)
            return None

    def complete(self, msg: _Delivered) -> None:
        with self._lock:
            self._messages.remove(msg._stored)

    def abandon(self, msg: _Delivered) -> None:
        with self._lock:
            msg._stored.locked = False

    def lose_lock(self, msg: _Delivered) -> None:
        """The worker died holding the message: its lock expires, the message comes back."""
        self.abandon(msg)

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._messages)


def pump(subscription: FakeSubscription, trigger, *, max_deliveries: int = 100) -> list[tuple[int, int, str]]:
    """The Functions host: deliver until the subscription is empty; complete on success,
    abandon when the trigger raises. Returns (sequence number, delivery count, outcome)."""
    log = []
    for _ in range(max_deliveries):
        msg = subscription.receive()
        if msg is None:
            return log
        try:
            trigger(msg)
        except Exception:
            subscription.abandon(msg)
            log.append((msg.sequence_number, msg.delivery_count, "abandoned"))
        else:
            subscription.complete(msg)
            log.append((msg.sequence_number, msg.delivery_count, "completed"))
    raise AssertionError(f"the subscription did not drain in {max_deliveries} deliveries")
