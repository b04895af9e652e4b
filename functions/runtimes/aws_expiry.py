"""AWS Lambda entrypoint of the expiry schedule (EventBridge Scheduler, providers/aws/functions.py):
cancels the unpaid orders older than SHOP_ORDER_EXPIRY_HOURS (functions/shop/expiry.py).

The schedule's event carries nothing the run needs. Raising fails the invocation (the
scheduler's retry policy and the function's error alarm see it); the next run picks up
whatever this one left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.shop.services import Services

FUNCTION = "expiry"  # datamodel.SERVICES: whose grants the calls are checked against locally


def handler(event: Any = None, context: Any = None, services: Services | None = None) -> dict[str, int | bool]:
    from functions.adapters.aws_clients import acting_as
    from functions.shop.expiry import run_expiry

    if services is None:
        from functions.adapters.aws_services import build_services

        services = build_services()
    with acting_as(FUNCTION):
        return run_expiry(services).summary()
