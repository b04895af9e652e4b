"""PushSender on Azure: Notification Hubs direct send, to FCM v1, one request per device token.

The shop keeps the device tokens itself (functions/shop/push.py), so the hub is a pass-through
to FCM: no registrations or installations, no tags. Each token goes in the
`ServiceBusNotification-DeviceHandle` header of
`POST https://<ns>.servicebus.windows.net/<hub>/messages/?direct&api-version=2020-06`, format
`fcmV1`, body an FCM v1 message without its token. The hub holds the FCM v1 credentials
(providers/azure/notifications.py). Notification Hubs has no Entra data-plane auth: the request
is signed with the hub's Send-only SAS rule (key from Key Vault).

Answers, per token:
- 201 (200): accepted by the hub;
- 400 or 410 whose error Detail is about the device handle: the token is refused, the caller
  prunes it;
- 429 or 5xx: one retry after a pause, then not delivered;
- anything else (401 bad key, 403 quota, 404 no such hub, 413): not delivered, logged.
A transport error (hub unreachable) raises. FCM's own verdict on a token the hub accepted comes
later, as PNS feedback in the hub's telemetry (Standard tier); this sender does not read it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from functions.shop.push import Device, PushOutcome

from ._http import HttpResponse, Transport, urllib_transport
from ._push_delivery import Verdict, fcm_v1_message, log_failure, push_each

API_VERSION = "2020-06"
SAS_LIFETIME_SECONDS = 300
_DETAIL = re.compile(r"<Detail>(.*?)</Detail>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class HubConnection:
    namespace: str  # fully qualified: <ns>.servicebus.windows.net
    hub: str
    key_name: str  # the SAS rule (Send rights)
    key: str

    @property
    def resource(self) -> str:
        return f"https://{self.namespace}/{self.hub}"

    @classmethod
    def from_settings(cls, hub_ref: str, key_ref: str) -> HubConnection:
        """From the app settings: "<ns>.servicebus.windows.net/<hub>" and "<keyName>:<key>"."""
        namespace, _, hub = hub_ref.partition("/")
        key_name, _, key = key_ref.partition(":")
        if not (namespace and hub and key_name and key):
            raise ValueError("a Notification Hub is <namespace>/<hub> with a <keyName>:<key> SAS key")
        return cls(namespace, hub, key_name, key)


def sas_token(resource: str, key_name: str, key: str, expiry: int) -> str:
    """Shared access signature over the URL-encoded, lower-case resource URI and the expiry
    (seconds since the epoch), HMAC-SHA256 with the key's UTF-8 bytes."""
    target = urllib.parse.quote(resource.lower(), safe="")
    digest = hmac.new(key.encode(), f"{target}\n{expiry}".encode(), hashlib.sha256).digest()
    signature = urllib.parse.quote(base64.b64encode(digest).decode(), safe="")
    return f"SharedAccessSignature sr={target}&sig={signature}&se={expiry}&skn={key_name}"


def verdict(device: Device, resp: HttpResponse) -> Verdict:
    if resp.status in (200, 201):
        return Verdict.DELIVERED
    found = _DETAIL.search(resp.body.decode("utf-8", "replace"))
    if resp.status in (400, 410) and found and "handle" in found.group(1).lower():
        return Verdict.INVALID
    return log_failure("Notification Hubs", device, resp)


class NotificationHubsPushSender:
    def __init__(
        self,
        connection: HubConnection,
        *,
        transport: Transport = urllib_transport,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._hub, self._transport, self._sleep, self._clock = connection, transport, sleep, clock
        self._url = f"{connection.resource}/messages/?direct&api-version={API_VERSION}"

    def push(self, devices: Sequence[Device], title: str, body: str, data: Mapping[str, str]) -> PushOutcome:
        if not devices:
            return PushOutcome(delivered=0)
        hub = self._hub
        expiry = int(self._clock()) + SAS_LIFETIME_SECONDS
        authorization = sas_token(hub.resource, hub.key_name, hub.key, expiry)
        message = fcm_v1_message(title, body, data)  # the hub adds the token

        def request(device: Device) -> tuple[Mapping[str, str], dict[str, Any]]:
            return {
                "Authorization": authorization,
                "Content-Type": "application/json;charset=utf-8",
                "ServiceBusNotification-Format": "fcmV1",
                "ServiceBusNotification-DeviceHandle": device.token,
            }, message

        return push_each(
            devices, url=self._url, request=request, verdict=verdict, transport=self._transport, sleep=self._sleep
        )
