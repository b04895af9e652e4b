"""Push notifications: what the domain needs to reach a customer's devices.

A customer registers a device token (Firebase Cloud Messaging registration token: Android, iOS
through FCM, or web push through FCM) with ``/api/me/devices``; the store keeps the tokens per
customer. When an order changes status, the notifications function lists the customer's devices
and hands them to the cloud's ``PushSender`` (SNS mobile push, Notification Hubs, FCM HTTP v1).
Tokens the push service reports as no longer valid are removed from the store. A push failure
never blocks the e-mail.

Stdlib only: this module is on the notifications function's cold-start path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

PLATFORMS = ("android", "ios", "web")
MAX_DEVICES = 10  # per customer: the oldest registration goes when an eleventh arrives
# An FCM registration token: URL-safe characters (so it can name itself in a path), bounded.
MAX_TOKEN_LENGTH = 4096
TOKEN_PATTERN = r"^[A-Za-z0-9_:.\-]+$"


@dataclass(frozen=True)
class Device:
    token: str  # the FCM registration token, opaque
    platform: str  # one of PLATFORMS
    registered_at: str  # clock.now_iso() of the latest registration


@dataclass(frozen=True)
class PushOutcome:
    delivered: int  # devices the push service accepted the message for
    invalid_tokens: tuple[str, ...] = ()  # tokens the service says are gone: remove them


class DeviceStore(Protocol):
    def put_device(self, user_id: str, device: Device) -> None:
        """Register (or refresh) one device; idempotent per (user, token)."""
        ...

    def delete_device(self, user_id: str, token: str) -> None:
        """Forget one device; no error when it is not registered."""
        ...

    def list_devices(self, user_id: str) -> list[Device]:
        """The customer's devices, newest registration first."""
        ...


class PushSender(Protocol):
    def push(self, devices: Sequence[Device], title: str, body: str, data: Mapping[str, str]) -> PushOutcome:
        """Send one notification to each device. Raises only when the push service itself is
        unreachable; per-device refusals come back in the outcome."""
        ...


def newest_first(devices: Sequence[Device]) -> list[Device]:
    """The order list_devices answers in (ties by token, so every store agrees)."""
    return sorted(devices, key=lambda d: (d.registered_at, d.token), reverse=True)


def beyond_limit(devices: Sequence[Device]) -> list[Device]:
    """The registrations a store drops after a put: all but the MAX_DEVICES newest."""
    return newest_first(devices)[MAX_DEVICES:]


def token_id(token: str) -> str:
    """A fixed-length key for a token (stores bound key lengths below MAX_TOKEN_LENGTH)."""
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()
