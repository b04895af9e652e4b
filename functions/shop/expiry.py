"""Expiry of unpaid orders: a PLACED order older than the configured time is cancelled and
its stock released, by the scheduled function of each cloud (functions/runtimes/*_expiry).

Each cancellation is checkout.transition_order's compare-and-set from PLACED: an order
paid (or cancelled) since it was listed is left alone, and two runs at once cancel and
restock each order once. A run is bounded (pages read, orders cancelled); what it leaves
is the next run's work.

Stdlib only: on the scheduled function's cold-start path.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from . import checkout, ports
from .orders import publish
from .services import Services

log = logging.getLogger("shop.expiry")

# The function setting (hours, a positive number) each provider sets from
# `shop:orderExpiryHours`; absent means DEFAULT_EXPIRY_HOURS.
EXPIRY_HOURS_SETTING = "SHOP_ORDER_EXPIRY_HOURS"
DEFAULT_EXPIRY_HOURS = 24
# One run's bounds: at most MAX_PAGES pages of PAGE_SIZE PLACED orders read (newest
# first, so the recent ones come before the expired), at most MAX_CANCELLED cancelled.
PAGE_SIZE = 100
MAX_PAGES = 20
MAX_CANCELLED = 200


@dataclass(frozen=True)
class ExpiryRun:
    """What one run did: the orders it cancelled, those found paid or changed meanwhile
    (left alone), and whether a bound stopped it before the end of the PLACED orders."""

    cancelled: tuple[str, ...]
    left_alone: tuple[str, ...]
    more: bool

    def summary(self) -> dict[str, int | bool]:
        """What the scheduled functions return and log."""
        return {"cancelled": len(self.cancelled), "leftAlone": len(self.left_alone), "more": self.more}


def expiry_age(env: Mapping[str, str] | None = None) -> timedelta:
    """The configured age after which an unpaid order expires; ValueError names the setting
    when its value is not a positive number of hours."""
    raw = (os.environ if env is None else env).get(EXPIRY_HOURS_SETTING, "").strip()
    if not raw:
        return timedelta(hours=DEFAULT_EXPIRY_HOURS)
    try:
        hours = float(raw)
    except ValueError:
        hours = 0.0
    if not (math.isfinite(hours) and hours > 0):
        raise ValueError(f"{EXPIRY_HOURS_SETTING} must be a positive number of hours, got {raw!r}")
    return timedelta(hours=hours)


def _iso(moment: datetime) -> str:
    """clock.now_iso's format, so it compares with the stored timestamps as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expired_orders(
    store: ports.Store, cutoff: str, *, limit: int, page_size: int, max_pages: int
) -> tuple[list[ports.Order], bool]:
    """PLACED orders created before `cutoff` (at most `limit`), and whether more may remain.
    All are listed before any is cancelled, so no cursor outlives a change of its listing."""
    found: list[ports.Order] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = store.list_orders_by_status(ports.PLACED, limit=page_size, cursor=cursor)
        for order in page.items:
            if order.created_at < cutoff:
                found.append(order)
                if len(found) >= limit:
                    return found, True
        cursor = page.next_cursor
        if cursor is None:
            return found, False
    return found, True


def expire_unpaid_orders(
    services: Services,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    limit: int = MAX_CANCELLED,
    page_size: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES,
) -> ExpiryRun:
    """Cancel (restocking) every PLACED order created more than `older_than` before `now`,
    within the run's bounds, publishing OrderCancelled for each one this run cancelled."""
    cutoff = _iso((now or datetime.now(UTC)) - older_than)
    orders, more = expired_orders(services.store, cutoff, limit=limit, page_size=page_size, max_pages=max_pages)
    cancelled: list[str] = []
    left: list[str] = []
    for order in orders:
        try:
            updated = checkout.transition_order(services.store, order, ports.CANCELLED, restock=True)
        except (ports.StaleState, ports.NotFound):
            # Paid, cancelled or deleted since it was listed: not this run's to cancel.
            left.append(order.order_id)
            continue
        cancelled.append(order.order_id)
        publish(services, "OrderCancelled", updated)
    log.info("expiry before %s: %d cancelled, %d left alone, more=%s", cutoff, len(cancelled), len(left), more)
    return ExpiryRun(tuple(cancelled), tuple(left), more)


def run_expiry(services: Services, env: Mapping[str, str] | None = None) -> ExpiryRun:
    """The scheduled functions' one call: expire with the configured age."""
    return expire_unpaid_orders(services, older_than=expiry_age(env))
