"""AWS Lambda entrypoint for the notifications queue (SQS, fed by the order-events topic).

Reports partial batch failures: only the failed messages return to the queue, and after
datamodel.NOTIFICATION_MAX_RECEIVES attempts they land in the dead-letter queue. The SQS
message id names the delivery for the consumer's dedupe (it survives redeliveries).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.shop.services import Services

log = logging.getLogger("shop.aws_notifications")


def event_of(body: str) -> dict[str, Any]:
    data = json.loads(body)
    # raw message delivery gives the event itself; without it SNS wraps it in an envelope
    if isinstance(data, dict) and data.get("Type") == "Notification" and "Message" in data:
        data = json.loads(data["Message"])
    if not isinstance(data, dict):
        raise ValueError("order event is not a JSON object")
    return data


def handler(event: dict[str, Any], context: Any = None, services: Services | None = None) -> dict[str, Any]:
    from functions.shop.notifications import handle_order_event

    if services is None:
        from functions.adapters.aws_services import build_services

        services = build_services()
    from functions.adapters.aws_clients import acting_as
    from functions.shop.datamodel import SERVICES

    queue_function = next(s.name for s in SERVICES if s.trigger == "queue")
    failures = []
    for record in event.get("Records", []):
        try:
            with acting_as(queue_function):
                handle_order_event(event_of(record["body"]), services, delivery_id=record.get("messageId"))
        except Exception:
            log.exception("notification failed for message %s", record.get("messageId"))
            failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}
