"""Notifier on Azure: order events to a Service Bus topic (REST, managed identity), email
through Azure Communication Services (azure-communication-email's EmailClient).

Service Bus over REST keeps the publishing functions free of the AMQP SDK at cold start:
one POST per event. The MessageId is derived from the event (order, type, status), the
same id the notifications consumer dedupes on (functions/shop/processed_events.py), so a
publish retried after a timeout is still e-mailed once. (The topic does not enable Service
Bus duplicate detection.)

Push through Notification Hubs is optional (`send_push`): when a hub's SAS connection is
configured, a template notification goes to the tag `user:<userId>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
from typing import Any

from functions.shop.ports import OrderEvent

from ._http import Transport, call, urllib_transport

log = logging.getLogger(__name__)
SERVICE_BUS_SCOPE = "https://servicebus.azure.net/.default"


def _event_json(event: OrderEvent) -> str:
    from functions.shop.notifications import event_to_json

    return event_to_json(event)


class AzureNotifier:
    def __init__(
        self,
        *,
        namespace: str,  # fully qualified: <ns>.servicebus.windows.net
        topic: str,
        credential: Any,  # ManagedIdentityCredential (token(scope))
        email_endpoint: str | None = None,  # https://<acs>.communication.azure.com
        sender: str | None = None,
        email_client: Any = None,
        transport: Transport = urllib_transport,
        notification_hub: tuple[str, str, str, str] | None = None,  # (namespace fqdn, hub, key name, key)
    ) -> None:
        self._namespace, self._topic, self._credential = namespace, topic, credential
        self._email_endpoint, self._sender, self._email_client = email_endpoint, sender, email_client
        self._transport, self._hub = transport, notification_hub

    def publish_order_event(self, event: OrderEvent) -> None:
        body = _event_json(event)
        props = {"MessageId": f"{event.order_id}:{event.type}:{event.status}", "Label": event.type}
        resp = call(
            self._transport,
            "POST",
            f"https://{self._namespace}/{urllib.parse.quote(self._topic)}/messages",
            data=body.encode(),
            headers={
                "Authorization": f"Bearer {self._credential.token(SERVICE_BUS_SCOPE)}",
                "Content-Type": "application/json",
                "BrokerProperties": json.dumps(props),
            },
        )
        if resp.status not in (200, 201):
            raise RuntimeError(f"Service Bus publish to {self._topic}: HTTP {resp.status} {resp.body[:200]!r}")

    def _emails(self) -> Any:
        if self._email_client is None:
            if not self._email_endpoint:
                raise RuntimeError("no Communication Services endpoint configured")
            from azure.communication.email import EmailClient

            self._email_client = EmailClient(self._email_endpoint, self._credential)
        return self._email_client

    def send_email(self, to: str, subject: str, text: str) -> None:
        message = {
            "senderAddress": self._sender,
            "recipients": {"to": [{"address": to}]},
            "content": {"subject": subject, "plainText": text},
        }
        result = self._emails().begin_send(message).result()
        status = (result or {}).get("status")
        if status not in ("Succeeded", None):  # ACS answers Succeeded, or Failed with an error
            raise RuntimeError(f"email to {to} not sent: {status} {(result or {}).get('error')}")

    def send_push(self, user_id: str, title: str, body: str) -> bool:
        """Template notification to the user's devices; False when no hub is configured."""
        if self._hub is None:
            return False
        namespace, hub, key_name, key = self._hub
        resource = f"https://{namespace}/{hub}"
        url = f"{resource}/messages/?api-version=2015-01"
        expiry = str(int(time.time()) + 300)
        # SAS over the hub's resource URI (lower case, URL-encoded), signed with the key's UTF-8 bytes.
        target = urllib.parse.quote(resource.lower(), safe="")
        sig = base64.b64encode(hmac.new(key.encode(), f"{target}\n{expiry}".encode(), hashlib.sha256).digest())
        token = (
            f"SharedAccessSignature sr={target}&sig={urllib.parse.quote(sig.decode(), safe='')}"
            f"&se={expiry}&skn={key_name}"
        )
        resp = call(
            self._transport,
            "POST",
            url,
            json_body={"title": title, "body": body},
            headers={
                "Authorization": token,
                "ServiceBusNotification-Format": "template",
                "ServiceBusNotification-Tags": f"user:{user_id}",
            },
        )
        if resp.status not in (200, 201):
            raise RuntimeError(f"Notification Hubs send: HTTP {resp.status}")
        return True
