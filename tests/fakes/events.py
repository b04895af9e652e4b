"""Order events as the publishers put them on the topic (the domain's own JSON)."""

from __future__ import annotations

from functions.shop.ports import OrderEvent, OrderLine


def placed_event_json(email: str = "ada@example.com") -> str:
    from functions.shop.notifications import event_to_json

    return event_to_json(
        OrderEvent(
            type="OrderPlaced",
            order_id="01J0000000000000000000ORDR",
            user_id="u-1",
            status="PLACED",
            total=9000,
            currency="USD",
            lines=(OrderLine("b-1", "Algorithms", 4500, 2),),
            email=email,
            occurred_at="2026-11-25T00:00:00Z",
        )
    )
