"""Notifier on GCP: order events to Pub/Sub, email through an HTTP mail API or SMTP.

Pub/Sub: google-cloud-pubsub's PublisherClient, created on first publish (its gRPC
import is the heaviest thing this function loads, so only publishers pay for it). The
publish is awaited: a Cloud Function must not return before its message left.

Email: GCP has no first-party email sending; the notification function uses whichever
relay the stack's secrets configure (Secret Manager values mounted as env vars):
- SHOP_EMAIL_API_KEY (+ SHOP_EMAIL_API_URL, default SendGrid's v3 mail/send): a
  SendGrid-compatible JSON API (SendGrid, and relays that accept its payload);
- SHOP_SMTP_URL: smtp+starttls://user:password@host:587 or smtps://... for any SMTP relay.

Push goes through Firebase Cloud Messaging in functions/adapters/fcm_push.py.
"""

from __future__ import annotations

import smtplib
import ssl
import urllib.parse
from email.message import EmailMessage
from typing import Any

from functions.shop.ports import OrderEvent

from ._http import Transport, call, urllib_transport

SENDGRID_URL = "https://api.sendgrid.com/v3/mail/send"


def _event_json(event: OrderEvent) -> str:
    from functions.shop.notifications import event_to_json

    return event_to_json(event)


class GcpNotifier:
    def __init__(
        self,
        *,
        topic: str,  # projects/<project>/topics/<name>
        sender: str | None,
        email_api_key: str | None = None,
        email_api_url: str | None = None,
        smtp_url: str | None = None,
        publisher: Any = None,
        transport: Transport = urllib_transport,
        smtp_factory: Any = None,
    ) -> None:
        self._topic, self._sender = topic, sender
        self._api_key, self._api_url = email_api_key, email_api_url or SENDGRID_URL
        self._smtp_url, self._publisher, self._transport = smtp_url, publisher, transport
        self._smtp_factory = smtp_factory

    def publish_order_event(self, event: OrderEvent) -> None:
        if self._publisher is None:
            from google.cloud.pubsub_v1 import PublisherClient

            self._publisher = PublisherClient()
        future = self._publisher.publish(
            self._topic, _event_json(event).encode(), type=event.type, orderId=event.order_id
        )
        future.result(timeout=10)

    def send_email(self, to: str, subject: str, text: str) -> None:
        if not self._sender:
            raise RuntimeError("no sender address configured (SHOP_SENDER_EMAIL)")
        if self._api_key:
            self._send_api(to, subject, text)
        elif self._smtp_url:
            self._send_smtp(to, subject, text)
        else:
            raise RuntimeError("no email relay configured (SHOP_EMAIL_API_KEY or SHOP_SMTP_URL)")

    def _send_api(self, to: str, subject: str, text: str) -> None:
        resp = call(
            self._transport,
            "POST",
            self._api_url,
            json_body={
                "personalizations": [{"to": [{"email": to}]}],
                "from": {"email": self._sender},
                "subject": subject,
                "content": [{"type": "text/plain", "value": text}],
            },
            headers={"Authorization": f"Bearer {self._api_key}"},
        )
        if resp.status not in (200, 202):
            raise RuntimeError(f"email API: HTTP {resp.status} {resp.body[:200]!r}")

    def _send_smtp(self, to: str, subject: str, text: str) -> None:
        url = urllib.parse.urlsplit(str(self._smtp_url))
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self._sender, to, subject
        msg.set_content(text)
        implicit_tls = url.scheme == "smtps"
        factory = self._smtp_factory or (smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP)
        port = url.port or (465 if implicit_tls else 587)
        with factory(url.hostname or "", port, timeout=10) as smtp:
            if url.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
            if url.username:
                smtp.login(urllib.parse.unquote(url.username), urllib.parse.unquote(url.password or ""))
            smtp.send_message(msg)
