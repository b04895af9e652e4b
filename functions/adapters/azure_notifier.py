"""Notifier on Azure: order events to a Service Bus topic (REST, managed identity), email
through Azure Communication Services (azure-communication-email's EmailClient).

Service Bus over REST keeps the publishing functions free of the AMQP SDK at cold start:
one POST per event. The MessageId is derived from the event (order, type, status), the
same id the notifications consumer dedupes on (functions/shop/processed_events.py), so a
publish retried after a timeout is still e-mailed once. (The topic does not enable Service
Bus duplicate detection.)

Push goes through Notification Hubs in functions/adapters/notification_hubs_push.py.
"""

from __future__ import annotations

import json
import logging
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
    ) -> None:
        self._namespace, self._topic, self._credential = namespace, topic, credential
        self._email_endpoint, self._sender, self._email_client = email_endpoint, sender, email_client
        self._transport = transport

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
