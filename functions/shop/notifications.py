"""Order events: their wire format, and the consumer that emails the customer.

Publishers (every cloud's notifier) serialise with `event_to_json`; the notifications
function of every cloud hands the decoded JSON to `handle_order_event`. A failure raises,
so the queue redelivers the message and finally dead-letters it: the order itself was
committed long before and is never affected.

Queues deliver at least once, so the consumer e-mails once per event, not per delivery:
it claims the event id in the cloud's database first (functions/shop/processed_events.py),
sends, then marks the event done; a failed send releases the claim for the redelivery.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from .addresses import lines as address_lines
from .ports import Address, OrderEvent, OrderLine
from .processed_events import BUSY, DONE, ProcessedEvents
from .services import Services

log = logging.getLogger("shop.notifications")

SUBJECTS = {
    "OrderPlaced": "Your order {id} was placed",
    "OrderCancelled": "Your order {id} was cancelled",
    "PAID": "Your order {id} is paid",
    "SHIPPED": "Your order {id} has shipped",
    "DELIVERED": "Your order {id} was delivered",
}


def event_to_json(event: OrderEvent) -> str:
    """The wire format every cloud's notifier publishes (camelCase, like the API)."""
    return json.dumps(
        {
            "type": event.type,
            "orderId": event.order_id,
            "userId": event.user_id,
            "status": event.status,
            "total": event.total,
            "currency": event.currency,
            "email": event.email,
            "occurredAt": event.occurred_at,
            "lines": [
                {"productId": li.product_id, "name": li.name, "unitPrice": li.unit_price, "quantity": li.quantity}
                for li in event.lines
            ],
            "shippingAddress": _address_json(event.shipping_address),
        },
        separators=(",", ":"),
    )


def _str(raw: dict, key: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _int(raw: dict, key: str) -> int:
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a non-negative integer")
    return value


_ADDRESS_FIELDS = {
    "name": "name",
    "line1": "line1",
    "line2": "line2",
    "city": "city",
    "region": "region",
    "postalCode": "postal_code",
    "country": "country",
    "phone": "phone",
}


def _address_json(a: Address | None) -> dict | None:
    return None if a is None else {wire: getattr(a, attr) for wire, attr in _ADDRESS_FIELDS.items()}


def _address_from(raw: object) -> Address | None:
    """The shipping address of an event; absent in events published before it was added."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("shippingAddress must be an object")
    values = {attr: raw.get(wire) for wire, attr in _ADDRESS_FIELDS.items()}
    if not all(isinstance(v, str) and v for k, v in values.items() if k in ("name", "line1", "city", "country")):
        raise ValueError("shippingAddress needs name, line1, city and country")
    text: dict[str, str | None] = {}
    for attr, value in values.items():
        if value is not None and not isinstance(value, str):
            raise ValueError("shippingAddress fields must be strings")
        text[attr] = value

    def required(attr: str) -> str:
        return text[attr] or ""  # the four checked above are non-empty; a postal code may be absent

    return Address(
        name=required("name"),
        line1=required("line1"),
        city=required("city"),
        postal_code=required("postal_code"),
        country=required("country"),
        line2=text["line2"],
        region=text["region"],
        phone=text["phone"],
    )


def event_from_json(data: str | bytes | dict) -> OrderEvent:
    """Parse a published event; ValueError names what is wrong (the message then goes to
    the dead-letter queue after its retries, where an operator can read why)."""
    try:
        raw = data if isinstance(data, dict) else json.loads(data)
        if not isinstance(raw, dict):
            raise ValueError("an order event is a JSON object")
        lines = raw.get("lines") or []
        if not isinstance(lines, list) or not all(isinstance(li, dict) for li in lines):
            raise ValueError("lines must be a list of objects")
        email = raw.get("email")
        return OrderEvent(
            type=_str(raw, "type"),
            order_id=_str(raw, "orderId"),
            user_id=_str(raw, "userId"),
            status=_str(raw, "status"),
            total=_int(raw, "total"),
            currency=_str(raw, "currency"),
            lines=tuple(
                OrderLine(_str(li, "productId"), _str(li, "name"), _int(li, "unitPrice"), _int(li, "quantity"))
                for li in lines
            ),
            email=email if isinstance(email, str) and email else None,
            occurred_at=str(raw.get("occurredAt") or ""),
            shipping_address=_address_from(raw.get("shippingAddress")),
        )
    except KeyError as exc:
        raise ValueError(f"malformed order event: missing {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"malformed order event: {exc}") from exc


# ISO 4217 currencies without minor units; every other one has two (three-digit ones
# such as BHD are not sold here).
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)


def money(cents: int, currency: str) -> str:
    """12345, "USD" -> "123.45 USD"; amounts are integer minor units, never floats."""
    if currency in ZERO_DECIMAL:
        return f"{cents:,} {currency}"
    return f"{cents // 100:,}.{cents % 100:02d} {currency}"


def compose(event: OrderEvent) -> tuple[str, str]:
    template = SUBJECTS.get(event.type) or SUBJECTS.get(event.status) or "Your order {id} is now {status}"
    subject = template.format(id=event.order_id, status=event.status)
    rows = [
        f"  {li.quantity} x {li.name} @ {money(li.unit_price, event.currency)}"
        f" = {money(li.unit_price * li.quantity, event.currency)}"
        for li in event.lines
    ]
    text = "\n".join(
        [
            "Hello,",
            "",
            f"{subject}.",
            f"Order: {event.order_id}",
            f"Status: {event.status}",
            "",
            *rows,
            "",
            f"Total: {money(event.total, event.currency)}",
            "",
            *_ship_to(event.shipping_address),
            "Thank you for shopping with us.",
        ]
    )
    return subject, text


def _ship_to(a: Address | None) -> list[str]:
    return [] if a is None else ["Ship to:", *(f"  {line}" for line in address_lines(a)), ""]


def event_id(event: OrderEvent) -> str:
    """One id per business event, the same for every copy of it (a retried publish, a
    redelivery): an order is placed once and enters each status at most once."""
    return f"{event.order_id}:{event.type}:{event.status}"


class EventBusy(RuntimeError):
    """Another delivery of this event is in progress and this one cannot tell whether it
    is a copy of the same message: raise, so the queue brings it back later."""


def handle_order_event(
    event: dict[str, Any] | str | bytes | OrderEvent, services: Services, *, delivery_id: str | None = None
) -> None:
    """E-mail the customer about `event`, once per event id.

    `delivery_id`: the queue's id of the message (stable across its redeliveries, unique
    per message). When another delivery holds the claim, a message with an id is
    acknowledged, because the holder's own message stays on the queue until the e-mail is
    out (and a redelivery of it takes the claim back); without an id it is retried."""
    ev = event if isinstance(event, OrderEvent) else event_from_json(event)
    processed = services.processed_events
    if processed is None:
        _deliver(ev, services)
        return
    key, holder = event_id(ev), delivery_id or f"anonymous-{uuid.uuid4().hex}"
    outcome = processed.claim(key, holder)
    if outcome == DONE:
        log.info("order event %s already processed; delivery %s acknowledged", key, holder)
        return
    if outcome == BUSY:
        if delivery_id is None:
            raise EventBusy(f"order event {key} is being processed by another delivery")
        log.info("order event %s is being processed by another delivery; %s acknowledged", key, holder)
        return
    try:
        _deliver(ev, services)
    except BaseException:
        _release(processed, key, holder)
        raise
    try:
        processed.done(key, holder)
    except Exception:
        # The e-mail is out: failing the delivery now would send it again. The claim
        # stays until its lease runs out, which keeps concurrent copies away meanwhile.
        log.warning("order event %s sent but not recorded as processed", key, exc_info=True)


def _release(processed: ProcessedEvents, key: str, holder: str) -> None:
    try:
        processed.release(key, holder)
    except Exception:
        # The redelivery of this message (same holder) takes the claim back anyway.
        log.warning("order event %s: could not release the claim of %s", key, holder, exc_info=True)


def _deliver(ev: OrderEvent, services: Services) -> None:
    to = ev.email or services.identity.lookup_email(ev.user_id)
    if not to:
        log.warning("order %s: no email address for user %s; nothing sent", ev.order_id, ev.user_id)
    else:
        subject, text = compose(ev)
        services.notifier.send_email(to, subject, text)
    _push(services, ev)


def push_message(ev: OrderEvent) -> tuple[str, str, dict[str, str]]:
    """(title, body, data) of the push for `ev`: the e-mail's subject, one line, and the ids a
    client opens the order with (userId: a device shared by two accounts shows only the
    signed-in one's)."""
    subject, _ = compose(ev)
    data = {"type": ev.type, "orderId": ev.order_id, "status": ev.status, "userId": ev.user_id}
    return subject, f"Order {ev.order_id}: {ev.status.lower()}", data


def _push(services: Services, ev: OrderEvent) -> None:
    """Best effort, after the e-mail: failing the delivery here would make the retry send the
    e-mail twice, so a push failure is logged, never raised."""
    sender = services.push
    if sender is None:
        return
    try:
        devices = services.store.list_devices(ev.user_id)
        if not devices:
            return
        outcome = sender.push(devices, *push_message(ev))
        for token in outcome.invalid_tokens:
            services.store.delete_device(ev.user_id, token)
        log.info(
            "order %s: pushed to %d of %d devices of user %s; %d invalid tokens removed",
            ev.order_id,
            outcome.delivered,
            len(devices),
            ev.user_id,
            len(outcome.invalid_tokens),
        )
    except Exception as e:  # any channel failure is only a missed push
        log.warning("order %s: push to user %s failed: %s", ev.order_id, ev.user_id, e)
