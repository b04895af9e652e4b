"""The checkout and restock rules, once, over the store primitives of ports.CheckoutStore.

A checkout is decided here and committed by the store in ONE atomic write of its own kind
(a DynamoDB transaction, a Cosmos transactional batch, a Firestore precondition-guarded
batch, a lock in memory):

- an Idempotency-Key already recorded is a replay (same request hash: the order it made)
  or a conflict (another request), whatever else changed since;
- then every product short of stock is named at once (InsufficientStock);
- then a cart line whose version moved, or that was ordered already, is CartChanged;
- then, for stores that verify the catalog in their commit, a moved name, price or
  currency is StaleState;
- otherwise the store commits the plan: its conditions (stock left, key and order new,
  cart versions unchanged) are what makes concurrent checkouts safe; a commit that lost
  a race is explained by a fresh read, or tried again, as the store's CommitPolicy says.

Cancelling is the same shape: the status compare-and-set and the restock of the products
that still exist, together or not at all.

Stdlib only: on the orders and admin functions' cold-start path.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from . import ports
from .clock import now_iso
from .ports import (
    CheckoutPlan,
    CheckoutState,
    CommitPolicy,
    LostRace,
    Order,
    OrderState,
    PlaceOrderResult,
    StockTake,
    TransitionPlan,
    Unavailable,
)

T = TypeVar("T")
log = logging.getLogger("shop.checkout")


def quantities(order: Order) -> dict[str, int]:
    """Total quantity per product (an order may name a product on several lines)."""
    out: dict[str, int] = {}
    for ln in order.lines:
        out[ln.product_id] = out.get(ln.product_id, 0) + ln.quantity
    return out


def plan_checkout(order: Order, request_hash: str) -> CheckoutPlan:
    """One take per product, charged as the product's first line says."""
    first = {ln.product_id: ln for ln in reversed(order.lines)}
    takes = tuple(StockTake(pid, q, first[pid].name, first[pid].unit_price) for pid, q in quantities(order).items())
    return CheckoutPlan(order, request_hash, takes)


def place_order(store: ports.Store, order: Order, *, request_hash: str) -> PlaceOrderResult:
    """See ports.Store.place_order."""
    if not order.idempotency_key:
        raise ValueError("place_order needs order.idempotency_key")
    plan = plan_checkout(order, request_hash)
    policy = store.checkout_policy

    def attempt(race: LostRace | None) -> PlaceOrderResult:
        state = None
        if policy.read_first or race is not None:
            state = store.read_checkout(plan)
            replay = _judge(store, plan, state, race.ordered if race else [])
            if replay is not None:
                return _settled(store, replay)
            if race is not None and not policy.read_first:
                # The read shows nothing that explains the failed condition (it held again
                # by then): say the checkout did not go through rather than guess why.
                raise ports.StaleState("checkout could not be completed; retry")
        store.commit_checkout(plan, state)
        return _settled(store, PlaceOrderResult(order, created=True))

    return _run(policy, attempt)


def _judge(store: ports.Store, plan: CheckoutPlan, state: CheckoutState, ordered: list[str]) -> PlaceOrderResult | None:
    """The replay the state shows, or the error that explains why the plan cannot commit;
    None when nothing stands in its way."""
    order = plan.order
    if state.recorded is not None:
        if state.recorded.request_hash != plan.request_hash:
            raise ports.IdempotencyConflict(state.recorded.order_id)
        existing = store.get_order(order.user_id, state.recorded.order_id)
        if existing is None:  # the key outlived its order (only by manual deletion)
            raise ports.IdempotencyConflict(state.recorded.order_id)
        return PlaceOrderResult(existing, created=False)
    products = state.products
    short = [
        t.product_id for t in plan.takes if t.product_id not in products or products[t.product_id].stock < t.quantity
    ]
    if short:
        raise ports.InsufficientStock(short)
    changed = [pid for pid, version in order.cart_versions if state.cart_versions.get(pid) != version]
    if changed or ordered:
        raise ports.CartChanged(changed or ordered)
    if store.checks_catalog:
        moved = [
            t.product_id
            for t in plan.takes
            if _charged(products[t.product_id]) != (t.name, t.unit_price, order.currency)
        ]
        if moved:
            raise ports.StaleState(f"the catalog changed for {', '.join(moved)}")
    return None


def _charged(p: ports.Product) -> tuple[str, int, str]:
    return p.name, p.price, p.currency


def _settled(store: ports.Store, result: PlaceOrderResult) -> PlaceOrderResult:
    """A store whose commit cannot hold the cart deletes the ordered lines after it, and
    again on a replay (a crash may have cut the first attempt short). The order stands
    either way: a line left behind is the only effect of a failure here."""
    if not store.cart_in_commit:
        order = result.order
        try:
            store.delete_cart_lines(order.user_id, [ln.product_id for ln in order.lines])
        except Exception:
            log.warning("cart follow-up failed for order %s", order.order_id, exc_info=True)
    return result


def transition_order(store: ports.Store, order: Order, new_status: str, *, restock: bool) -> Order:
    """See ports.Store.transition_order."""
    if order.status not in ports.ORDER_STATUSES or new_status not in ports.ORDER_STATUSES:
        raise ValueError(f"unknown status {order.status!r} -> {new_status!r}")

    plan = TransitionPlan(order, new_status, now_iso(), quantities(order) if restock else {})
    policy = store.transition_policy

    def attempt(race: LostRace | None) -> Order:
        nonlocal plan
        state = None
        if policy.read_first or race is not None:
            state = store.read_order_state(plan)
            judged = _judge_transition(plan, state)
            if race is not None and not policy.read_first and judged == plan:
                raise ports.StaleState(f"order {order.order_id} changed since it was read")
            plan = judged
        store.commit_transition(plan, state)
        return replace(order, status=new_status, updated_at=plan.updated_at)

    return _run(policy, attempt)


def _judge_transition(plan: TransitionPlan, state: OrderState) -> TransitionPlan:
    """The plan the state allows: a product deleted since the order keeps no stock to
    return to, but the status still changes."""
    order = plan.order
    if state.status is None:
        raise ports.NotFound(f"order {order.order_id} not found")
    if state.status != order.status:
        raise ports.StaleState(f"order {order.order_id} changed since it was read")
    kept = {pid: q for pid, q in plan.restock.items() if pid in state.present}
    return plan if kept == plan.restock else replace(plan, restock=kept)


def _run(policy: CommitPolicy, attempt: Callable[[LostRace | None], T]) -> T:
    """attempt(the race the previous try lost, if any) until it returns or raises a
    verdict; lost races and (per the policy) transient failures are tried again."""
    deadline = None if policy.budget_s is None else time.monotonic() + policy.budget_s
    race: LostRace | None = None
    cause: Exception
    for n in itertools.count(1):
        try:
            return attempt(race)
        except LostRace as lost:
            race, cause = lost, lost
        except Unavailable as e:
            if not policy.retry_unavailable:
                raise
            race, cause = None, e
        if race is not None and not policy.read_first:
            continue  # a blind commit's loss is explained at once, by the next attempt's read
        spent = policy.attempts is not None and n >= policy.attempts
        if spent or (deadline is not None and time.monotonic() >= deadline):
            raise Unavailable(policy.gave_up) from cause
        # Jittered, so the losers of one race do not collide again in step.
        time.sleep(random.uniform(0, min(policy.pause_cap_s, policy.pause_s * 2 ** min(n - 1, 10))))
    raise AssertionError("unreachable")


class OrderRules:
    """The order methods of ports.Store, for a store class that implements the primitives
    (ports.CheckoutStore, IdempotencyStore, OrderStore, CartStore)."""

    def place_order(self: ports.Store, order: Order, *, request_hash: str) -> PlaceOrderResult:
        return place_order(self, order, request_hash=request_hash)

    def transition_order(self: ports.Store, order: Order, new_status: str, *, restock: bool) -> Order:
        return transition_order(self, order, new_status, restock=restock)

    def read_checkout(self: ports.Store, plan: CheckoutPlan) -> CheckoutState:
        """From the store's plain reads (a store whose commit needs versions overrides it)."""
        order = plan.order
        recorded = self.idempotency_record(order.user_id, order.idempotency_key or "")
        if recorded is not None:  # the key decides alone
            return CheckoutState(recorded)
        now = {ln.product_id: ln.version for ln in self.get_cart(order.user_id)} if order.cart_versions else {}
        versions = {pid: now.get(pid) for pid, _ in order.cart_versions}
        return CheckoutState(None, self.get_products(plan.ordered), versions)

    def read_order_state(self: ports.Store, plan: TransitionPlan) -> OrderState:
        current = self.get_order(plan.order.user_id, plan.order.order_id)
        present = frozenset(self.get_products(list(plan.restock))) if plan.restock else frozenset()
        return OrderState(None if current is None else current.status, present)

    def find_idempotent_order(self: ports.Store, user_id: str, idempotency_key: str) -> tuple[Order, str] | None:
        record = self.idempotency_record(user_id, idempotency_key)
        if record is None:
            return None
        order = self.get_order(user_id, record.order_id)
        return None if order is None else (order, record.request_hash)
