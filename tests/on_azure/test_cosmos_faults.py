"""Cosmos DB throttling in the middle of a checkout, through the API (functions.shop.api)
on the Cosmos fake: a 429 with a retry-after at ANY call of the checkout gives either the
order (the failure hit only the cart follow-up) or a retryable 503 with Retry-After and
nothing half-written; the same Idempotency-Key then completes exactly once.

The real azure-cosmos client first retries a 429 itself (honouring x-ms-retry-after-ms, by
default up to 9 times within 30 s); these tests are the case where it gives up. What the
fake cannot show (partitions, RU, consistency) is listed in docs/multicloud-testing.md."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from azure.cosmos import exceptions as cx

from functions.adapters.cosmos_store import LEDGER_PK, CosmosStore
from functions.adapters.memory import MemoryIdentity, MemoryMedia, MemoryNotifier
from functions.shop import ports
from functions.shop.api import handle
from functions.shop.http import Request
from functions.shop.services import Services
from tests.fakes.cosmos import FakeContainer
from tests.fakes.orders import product

ADDRESS = json.dumps(
    {
        "shippingAddress": {
            "name": "A",
            "line1": "1",
            "city": "c",
            "postalCode": "12345",
            "region": "CA",
            "country": "US",
        }
    }
).encode()
WHO = ports.Principal("u1", email="u1@example.com")
RETRY_AFTER_MS = "250"


def throttled(operation: str) -> cx.CosmosHttpResponseError:
    e = cx.CosmosHttpResponseError(status_code=429, message=f"Request rate is large ({operation}, injected)")
    e.headers = {"x-ms-retry-after-ms": RETRY_AFTER_MS, "x-ms-substatus": "3200"}
    return e


@dataclass
class Shop:
    services: Services
    fake: FakeContainer

    def checkout(self, key: str = "k1"):
        request = Request("POST", "/api/orders", body=ADDRESS, principal=WHO, headers={"idempotency-key": key})
        return handle(request, self.services)

    def throttle_call(self, n: int, *, only: str | None = None) -> list[str]:
        """The n-th container call from now (counting only `only` operations, if given)
        answers 429; returns the operations seen, for the failure message."""
        seen: list[str] = []
        real = self.fake._enter

        def enter(name: str) -> None:
            real(name)
            if only is None or name == only:
                seen.append(name)
                if len(seen) == n + 1:
                    raise throttled(name)

        self.fake._enter = enter
        return seen

    def stop_throttling(self) -> None:
        self.fake.__dict__.pop("_enter", None)

    def orders(self) -> list[ports.Order]:
        return self.services.store.list_orders("u1", limit=10, cursor=None).items


def new_shop() -> Shop:
    fake = FakeContainer("/pk")
    store = CosmosStore(fake)
    store.create_product(product("p1", stock=5, price=500))
    store.create_product(product("p2", stock=5, price=300))
    store.set_cart_line("u1", "p1", 2)
    store.set_cart_line("u1", "p2", 1)
    return Shop(Services(store, MemoryNotifier(), MemoryIdentity(), MemoryMedia()), fake)


def checkout_calls() -> int:
    shop = new_shop()
    before = len(shop.fake.calls)
    assert shop.checkout().status == 201
    return len(shop.fake.calls) - before


def assert_nothing_written(shop: Shop, response) -> None:
    store = shop.services.store
    assert response.headers.get("retry-after"), f"a 503 must say when to retry: {response.headers}"
    assert response.body["error"]["code"] == "UNAVAILABLE", response.body
    assert (store.get_product("p1").stock, store.get_product("p2").stock) == (5, 5), "stock moved"
    assert shop.orders() == [], "an order was written by a failed checkout"
    assert store.find_idempotent_order("u1", "k1") is None, "the key was claimed by a failed checkout"
    assert {li.product_id: li.quantity for li in store.get_cart("u1")} == {"p1": 2, "p2": 1}, "cart changed"
    assert shop.services.notifier.events == [], "an event was published for an order that does not exist"


def assert_placed_exactly_once(shop: Shop) -> None:
    store = shop.services.store
    [placed] = shop.orders()
    assert (store.get_product("p1").stock, store.get_product("p2").stock) == (3, 4), "stock not taken exactly once"
    assert [e.order_id for e in shop.services.notifier.events if e.type == "OrderPlaced"] == [placed.order_id]
    replay = shop.checkout()
    assert replay.status == 200 and replay.body["orderId"] == placed.order_id, replay.body
    assert store.get_cart("u1") == [], "the replay should clear what the checkout left in the cart"


def test_a_429_on_the_ledger_batch_is_a_retryable_503_and_the_same_key_then_completes_once():
    shop = new_shop()
    shop.throttle_call(0, only="execute_item_batch")
    first = shop.checkout()
    assert first.status == 503, first.body
    assert_nothing_written(shop, first)
    shop.stop_throttling()
    second = shop.checkout()
    assert second.status == 201, second.body
    assert_placed_exactly_once(shop)


@pytest.mark.parametrize("n", range(checkout_calls()))
def test_a_429_at_any_call_of_the_checkout_never_half_writes(n):
    shop = new_shop()
    seen = shop.throttle_call(n)
    first = shop.checkout()
    shop.stop_throttling()
    where = f"429 at call {n} ({seen[-1] if seen else '?'}; calls {seen})"
    assert first.status in (201, 503), f"{where}: HTTP {first.status} {first.body}"
    if first.status == 503:
        assert_nothing_written(shop, first)
        retry = shop.checkout()
        assert retry.status == 201, f"{where}: the retry answered {retry.status} {retry.body}"
    assert_placed_exactly_once(shop)


def test_the_ledger_batch_is_the_only_write_before_the_order_exists():
    """Why nothing can be half-written: up to the ledger batch, checkout only reads."""
    shop = new_shop()
    before = len(shop.fake.calls)
    batches = []
    real = shop.fake.execute_item_batch
    shop.fake.execute_item_batch = lambda batch_operations, partition_key: (
        batches.append(partition_key) or real(batch_operations=batch_operations, partition_key=partition_key)
    )
    assert shop.checkout().status == 201
    calls = shop.fake.calls[before:]
    first_write = next(i for i, c in enumerate(calls) if c not in ("read_item", "query_items"))
    assert calls[first_write] == "execute_item_batch" and batches[0] == LEDGER_PK, calls
