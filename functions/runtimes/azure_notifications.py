"""Azure Functions trigger for order events: Service Bus topic subscription -> the
notification handler.

The orders and admin functions publish to the Service Bus topic (datamodel
ORDER_EVENTS_TOPIC); this function reads the NOTIFICATIONS_QUEUE subscription, one
message per invocation. Raising abandons the message: Service Bus redelivers it until
the subscription's max delivery count (datamodel.NOTIFICATION_MAX_RECEIVES), then moves it
to the subscription's dead-letter queue. So a failing email is retried and never lost,
and it never touched the order, which was committed before the event was published.
The message's sequence number (assigned by the broker, kept across redeliveries) names the
delivery for the consumer's dedupe; the MessageId cannot: the publisher derives it from the
event, so two copies of one event share it.

App settings the binding reads: SHOP_SERVICEBUS__fullyQualifiedNamespace (managed
identity connection), SHOP_TOPIC_ARN (the topic name), SHOP_SUBSCRIPTION_NAME.
"""

from __future__ import annotations

import json
import logging

import azure.functions as func

from ._common import ServicesFactory
from .azure_http import services

log = logging.getLogger(__name__)
bp = func.Blueprint()


def process_message(
    body: bytes,
    services_factory: ServicesFactory | None = None,
    *,
    message_id: str = "",
    delivery_count: int = 1,
    sequence_number: int | None = None,
) -> None:
    """Decode one order event and hand it to the domain. Raises to ask for redelivery."""
    from functions.shop.notifications import handle_order_event

    try:
        event = json.loads(body)
    except ValueError as e:
        # Redelivery cannot fix a malformed body; raising still routes it to the DLQ after
        # the retries, where an operator can look at it.
        raise ValueError(f"order event {message_id or '?'} is not JSON: {body[:80]!r}") from e
    if not isinstance(event, dict):
        raise ValueError(f"order event {message_id or '?'} is not a JSON object")
    log.info("order event %s %s (delivery %d)", event.get("type"), event.get("orderId"), delivery_count)
    delivery_id = f"servicebus-{sequence_number}" if sequence_number is not None else None
    handle_order_event(event, (services_factory or services)(), delivery_id=delivery_id)


@bp.service_bus_topic_trigger(
    arg_name="msg",
    topic_name="%SHOP_TOPIC_ARN%",
    subscription_name="%SHOP_SUBSCRIPTION_NAME%",
    connection="SHOP_SERVICEBUS",
)
def order_events(msg: func.ServiceBusMessage) -> None:
    process_message(
        msg.get_body(),
        message_id=msg.message_id or "",
        delivery_count=msg.delivery_count or 1,
        sequence_number=msg.sequence_number,
    )
