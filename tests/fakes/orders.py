"""Small builders of records shared by the Azure/GCP store and runtime tests."""

from __future__ import annotations

from functions.shop.ports import PLACED, Address, Order, OrderLine, Product


def product(pid: str, name: str | None = None, *, stock: int = 5, price: int = 1000, category: str = "c1") -> Product:
    return Product(pid, name or pid.upper(), "desc", category, price, "USD", stock)


def order(
    user: str, oid: str, key: str, lines: list[tuple[str, int]], *, created: str = "2026-11-25T00:00:00Z"
) -> Order:
    order_lines = tuple(OrderLine(p, p.upper(), 1000, q) for p, q in lines)
    return Order(
        order_id=oid,
        user_id=user,
        status=PLACED,
        lines=order_lines,
        total=sum(ln.line_total for ln in order_lines),
        currency="USD",
        created_at=created,
        updated_at=created,
        shipping_address=Address("Ada", "1 Main St", "Paris", "75001", "FR"),
        email="ada@example.com",
        idempotency_key=key,
    )
