"""Cloud Functions (2nd gen) consumer of order events: Pub/Sub message -> the notification
handler.

The stack delivers the order-events topic through its own push subscription (OIDC-
authenticated, retry backoff, dead-letter policy: providers/gcp/functions.py); functions-
framework turns the raw push body into a `google.cloud.pubsub.topic.v1.messagePublished`
CloudEvent (data.message.data is base64 JSON), the same shape an Eventarc trigger sends.
Raising fails the delivery (5xx): Pub/Sub redelivers with backoff until the subscription's
max delivery attempts (datamodel.NOTIFICATION_MAX_RECEIVES), then publishes the message to
the dead-letter topic. The Pub/Sub message id (kept across redeliveries) names the
delivery for the consumer's dedupe.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import functions_framework

from ._common import ServicesFactory
from .gcp_http import services

log = logging.getLogger(__name__)


def decode(data: dict[str, Any] | None) -> dict[str, Any]:
    message = (data or {}).get("message") or {}
    raw = message.get("data")
    if not raw:
        raise ValueError(f"Pub/Sub message {message.get('messageId', '?')} has no data")
    try:
        event = json.loads(base64.b64decode(raw))
    except ValueError as e:
        raise ValueError(f"Pub/Sub message {message.get('messageId', '?')} is not base64 JSON") from e
    if not isinstance(event, dict):
        raise ValueError(f"Pub/Sub message {message.get('messageId', '?')} is not a JSON object")
    return event


def process(data: dict[str, Any] | None, services_factory: ServicesFactory | None = None) -> None:
    from functions.shop.notifications import handle_order_event

    event = decode(data)
    message_id = ((data or {}).get("message") or {}).get("messageId") or None
    log.info("order event %s %s (message %s)", event.get("type"), event.get("orderId"), message_id)
    handle_order_event(event, (services_factory or services)(), delivery_id=message_id)


@functions_framework.cloud_event
def on_order_event(cloud_event: Any) -> None:
    process(cloud_event.data)
