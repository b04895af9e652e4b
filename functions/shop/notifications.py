"""Order events: their wire format, and the consumer that emails the customer.

Publishers (every cloud's notifier) serialise with `event_to_json`; the notifications
function of every cloud hands the decoded JSON to `handle_order_event`. A failure raises,
so the queue redelivers the message and finally dead-letters it: the order itself was
committed long before and is never affected.
"""

from __future__ import annotations

import json
import logging

from .ports import OrderEvent, OrderLine

log = logging.getLogger("shop.notifications")

SUBJECTS = {
    "OrderPlaced": "Your order {id} was placed",
    "OrderCancelled": "Your order {id} was cancelled",
    "PAID": "Your order {id} is paid",
    "SHIPPED": "Your order {id} has shipped",
    "DELIVERED": "Your order {id} was delivered",
}


def event_to_json(event: OrderEvent) -> str:
    return json.dumps({
        "type": event.type, "orderId": event.order_id, "userId": event.user_id, "status": event.status,
        "total": event.total, "currency": event.currency, "email": event.email, "occurredAt": event.occurred_at,
        "lines": [{"productId": li.product_id, "name": li.name, "unitPrice": li.unit_price, "quantity": li.quantity}
                  for li in event.lines],
    }, separators=(",", ":"))


def event_from_json(data: str | bytes | dict) -> OrderEvent:
    raw = data if isinstance(data, dict) else json.loads(data)
    try:
        return OrderEvent(
            type=str(raw["type"]), order_id=str(raw["orderId"]), user_id=str(raw["userId"]),
            status=str(raw["status"]), total=int(raw["total"]), currency=str(raw["currency"]),
            lines=tuple(OrderLine(str(li["productId"]), str(li["name"]), int(li["unitPrice"]), int(li["quantity"]))
                        for li in raw.get("lines") or ()),
            email=raw.get("email") or None, occurred_at=str(raw.get("occurredAt") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed order event: {exc}") from exc


def money(cents: int, currency: str) -> str:
    return f"{cents // 100:,}.{cents % 100:02d} {currency}"


def compose(event: OrderEvent) -> tuple[str, str]:
    template = SUBJECTS.get(event.type) or SUBJECTS.get(event.status) or "Your order {id} is now {status}"
    subject = template.format(id=event.order_id, status=event.status)
    rows = [f"  {li.quantity} x {li.name} @ {money(li.unit_price, event.currency)}"
            f" = {money(li.unit_price * li.quantity, event.currency)}" for li in event.lines]
    text = "\n".join([
        "Hello,", "", f"{subject}.", f"Order: {event.order_id}", f"Status: {event.status}", "", *rows, "",
        f"Total: {money(event.total, event.currency)}", "", "Thank you for shopping with us.",
    ])
    return subject, text


def handle_order_event(event: dict | str | bytes | OrderEvent, services) -> None:
    ev = event if isinstance(event, OrderEvent) else event_from_json(event)
    to = ev.email or services.identity.lookup_email(ev.user_id)
    if not to:
        log.warning("order %s: no email address for user %s; nothing sent", ev.order_id, ev.user_id)
        return
    subject, text = compose(ev)
    services.notifier.send_email(to, subject, text)
