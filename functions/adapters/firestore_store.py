"""Store on Firestore (native mode), through google-cloud-firestore.

Layout (under shops/<SHOP_TABLE.name>/, so several stacks or test runs can share a
database; composite indexes in datamodel.FIRESTORE_INDEXES, TTL in FIRESTORE_TTL_FIELDS):

    categories/<categoryId>
    products/<productId>                 fields + stock + sortKey (lower name, id)
    orders/<orderId>                     userId, status, statusSortKey (createdAt#orderId)
    users/<uid>/cart/<productId>         quantity
    users/<uid>/idempotency/<key>        orderId, requestHash, expiresAt (Timestamp, TTL policy)
    users/<uid>/devices/<sha256 of token>  token, platform, registeredAt (push devices)

(document ids are percent-encoded: user input may contain "/".)

Checkout is ONE atomic batched commit guarded by preconditions (optimistic concurrency):
one read of the key record and every product, then a commit of the stock updates (each
only if the product is still the version read: `last_update_time`), the order (`create`),
the key record (`create`, or replace an expired one at the version read) and the cart
deletes: at most 25 + 1 + 1 + 25 writes, far under Firestore's 500. A commit that lost a
race fails its precondition as a whole and is re-run from a fresh read, with jittered
backoff, for up to RETRY_BUDGET_S; then Unavailable. Cancel works the same way (order
status compare-and-set + restock). Why not a server transaction: Firestore transactions
take locks on what they read, and under a crowd on one product with a slow database the
lock waits and aborts turned buyers away while stock was left (docs/architecture.md,
"Checkout under contention", has the numbers).

Name search: Firestore has no substring query. A search streams the category (or the
catalog) in name order and filters in the function, stopping once a page is full: fine
for a catalog of thousands; beyond that, index n-grams or use a search service.

Cursors are opaque (base64 of the last sort key). Aborted, ServiceUnavailable,
DeadlineExceeded, ResourceExhausted and InternalServerError become Unavailable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.shop import datamodel, push
from functions.shop.checkout import OrderRules
from functions.shop.clock import now_iso
from functions.shop.ports import (
    BROWSE_DEFAULT,
    AlreadyExists,
    Browse,
    CartLine,
    Category,
    CheckoutPlan,
    CheckoutState,
    CommitPolicy,
    IdempotencyRecord,
    LostRace,
    NotFound,
    Order,
    OrderState,
    Page,
    Product,
    TransitionPlan,
    Unavailable,
)

from ._documents import (
    SORT_FIELDS,
    decode_cursor,
    encode_cursor,
    order_fields,
    order_from,
    orders_scope,
    price_bound,
    product_fields,
    product_from,
    products_scope,
    safe_id,
    status_scope,
)

SEARCH_BATCH = 200  # documents per round trip while filtering a name search
# Checkout and order transitions retry lost races for this long, then answer Unavailable
# (503 + Retry-After): well inside the function's and the gateway's timeouts.
RETRY_BUDGET_S = 8.0
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 0.5


@contextmanager
def _translated() -> Iterator[None]:
    from google.api_core import exceptions as gexc

    try:
        yield
    except (
        gexc.Aborted,
        gexc.ServiceUnavailable,
        gexc.DeadlineExceeded,
        gexc.ResourceExhausted,
        gexc.InternalServerError,
    ) as e:
        raise Unavailable(f"firestore: {type(e).__name__}") from e


def _version(snap: Any) -> str | None:
    data = snap.to_dict() if snap.exists else None
    return data.get("version") if data else None


def _snapshots(state: CheckoutState | OrderState | None) -> dict[str, Any]:
    """The snapshots read_checkout / read_order_state took: what the commit's preconditions name."""
    if state is None or not isinstance(state.token, dict):
        raise ValueError("a Firestore commit needs the state it read")
    return state.token


def _eq(field: str, value: Any) -> Any:
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(field, "==", value)


def _cmp(field: str, op: str, value: Any) -> Any:
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(field, op, value)


class FirestoreStore(OrderRules):
    checks_catalog = False  # checkout re-reads the catalog before the commit
    cart_in_commit = True

    def __init__(self, client: Any, root: str | None = None) -> None:
        """`client`: a google.cloud.firestore.Client (or the test fake); `root`: the shop's
        document id under FIRESTORE_ROOT_COLLECTION (default SHOP_TABLE.name)."""
        self._db = client
        self.retry_budget_s = RETRY_BUDGET_S
        base = client.collection(datamodel.FIRESTORE_ROOT_COLLECTION).document(root or datamodel.SHOP_TABLE.name)
        self._categories = base.collection("categories")
        self._products = base.collection("products")
        self._orders = base.collection("orders")
        self._users = base.collection("users")

    def _policy(self, what: str) -> CommitPolicy:
        budget = self.retry_budget_s
        return CommitPolicy(
            read_first=True,
            gave_up=f"firestore: {what} did not get through in {budget:g} s; retry",
            budget_s=budget,
            pause_s=BACKOFF_BASE_S,
            pause_cap_s=BACKOFF_CAP_S,
            retry_unavailable=True,  # aborted, throttled or timed out: transient too
        )

    @property
    def checkout_policy(self) -> CommitPolicy:
        return self._policy("checkout")

    @property
    def transition_policy(self) -> CommitPolicy:
        return self._policy("order transition")

    def _product_ref(self, product_id: str) -> Any:
        return self._products.document(safe_id(product_id))

    def _cart(self, user_id: str) -> Any:
        return self._users.document(safe_id(user_id)).collection("cart")

    def _key_ref(self, user_id: str, key: str) -> Any:
        return self._users.document(safe_id(user_id)).collection("idempotency").document(safe_id(key))

    @staticmethod
    def _desc() -> str:
        from google.cloud.firestore_v1.base_query import BaseQuery

        return BaseQuery.DESCENDING

    # -- catalog ---------------------------------------------------------------------
    def list_categories(self) -> list[Category]:
        with _translated():
            snaps = list(self._categories.order_by("categoryId").stream())
        return [Category(s.get("categoryId"), s.get("name")) for s in snaps]

    def put_category(self, category: Category) -> None:
        with _translated():
            self._categories.document(safe_id(category.category_id)).set(
                {"categoryId": category.category_id, "name": category.name}
            )

    def list_products(
        self,
        *,
        category: str | None,
        query: str | None,
        limit: int,
        cursor: str | None,
        browse: Browse = BROWSE_DEFAULT,
    ) -> Page[Product]:
        """One query per page (name search: several, see the module's docstring). The sort
        picks the ordered key field; the category is an equality and a price range under a
        price sort a range on that same key (datamodel.FIRESTORE_INDEXES); the other filters
        are applied to the documents the page's query read, so a page may be short."""
        scope = products_scope(category, query, browse)
        after = decode_cursor(cursor, scope)
        field, backwards = SORT_FIELDS[browse.sort]
        base = self._products
        if category is not None:
            base = base.where(filter=_eq("category", category))
        keyed_range = field == "priceKey" and (browse.min_price is not None or browse.max_price is not None)
        if keyed_range:
            if browse.min_price is not None:
                base = base.where(filter=_cmp("priceKey", ">=", price_bound(browse.min_price)))
            if browse.max_price is not None:
                base = base.where(filter=_cmp("priceKey", "<", price_bound(browse.max_price + 1)))
        base = base.order_by(field, direction=self._desc()) if backwards else base.order_by(field)
        needle = query.lower() if query else None

        def wanted(d: dict[str, Any]) -> bool:
            return (needle is None or needle in d["nameLower"]) and browse.matches(product_from(d))

        found: list[dict[str, Any]] = []
        with _translated():
            if needle is None:
                q = base.start_after({field: after}) if after is not None else base
                read = [s.to_dict() for s in q.limit(limit + 1).stream()]
                page = read[:limit]
                found = [d for d in page if wanted(d)]
                nxt = encode_cursor(page[-1][field], scope) if len(read) > limit else None
                return Page([product_from(d) for d in found], nxt)
            while True:
                q = base.start_after({field: after}) if after is not None else base
                batch = [s.to_dict() for s in q.limit(SEARCH_BATCH).stream()]
                found += [d for d in batch if wanted(d)]
                if len(found) > limit or len(batch) < SEARCH_BATCH:
                    break
                after = batch[-1][field]
        nxt = encode_cursor(found[limit - 1][field], scope) if len(found) > limit else None
        return Page([product_from(d) for d in found[:limit]], nxt)

    def get_product(self, product_id: str) -> Product | None:
        with _translated():
            snap = self._product_ref(product_id).get()
        return product_from(snap.to_dict()) if snap.exists else None

    def get_products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        if not product_ids:
            return {}
        with _translated():
            snaps = list(self._db.get_all([self._product_ref(p) for p in dict.fromkeys(product_ids)]))
        return {s.get("productId"): product_from(s.to_dict()) for s in snaps if s.exists}

    def create_product(self, product: Product) -> None:
        from google.api_core.exceptions import AlreadyExists as Exists

        with _translated():
            try:
                self._product_ref(product.product_id).create({**product_fields(product), "stock": product.stock})
            except Exists as e:
                raise AlreadyExists(product.product_id) from e

    def _update(self, product_id: str, fields: dict[str, Any]) -> Product:
        from google.api_core.exceptions import NotFound as Missing

        ref = self._product_ref(product_id)
        with _translated():
            try:
                ref.update(fields)  # fails on a missing document; never touches fields not named
            except Missing as e:
                raise NotFound(product_id) from e
            snap = ref.get()
        if not snap.exists:  # deleted between the two calls
            raise NotFound(product_id)
        return product_from(snap.to_dict())

    def update_product(self, product: Product) -> Product:
        return self._update(product.product_id, product_fields(product))

    def delete_product(self, product_id: str) -> None:
        from google.api_core.exceptions import NotFound as Missing

        with _translated():
            try:
                self._product_ref(product_id).delete(option=self._db.write_option(exists=True))
            except Missing as e:
                raise NotFound(product_id) from e

    def set_stock(self, product_id: str, stock: int) -> Product:
        return self._update(product_id, {"stock": stock, "updatedAt": now_iso()})

    # -- cart ----------------------------------------------------------------------------
    def get_cart(self, user_id: str) -> list[CartLine]:
        with _translated():
            snaps = list(self._cart(user_id).order_by("productId").stream())
        return [CartLine(s.get("productId"), int(s.get("quantity")), version=_version(s)) for s in snaps]

    def set_cart_line(self, user_id: str, product_id: str, quantity: int, product: Product | None = None) -> None:
        # `product` is for stores that check the catalog in place_order; this one re-reads it there.
        ref = self._cart(user_id).document(safe_id(product_id))
        with _translated():
            if quantity <= 0:
                ref.delete()
            else:
                ref.set(
                    {"productId": product_id, "quantity": quantity, "updatedAt": now_iso(), "version": uuid.uuid4().hex}
                )

    def clear_cart(self, user_id: str) -> None:
        with _translated():
            refs = [s.reference for s in self._cart(user_id).stream()]
        self._delete_all(refs)

    def delete_cart_lines(self, user_id: str, product_ids: Sequence[str]) -> None:
        cart = self._cart(user_id)
        self._delete_all([cart.document(safe_id(pid)) for pid in product_ids])

    def _delete_all(self, refs: list[Any]) -> None:
        with _translated():
            for start in range(0, len(refs), 500):
                batch = self._db.batch()
                for ref in refs[start : start + 500]:
                    batch.delete(ref)
                batch.commit()

    # -- push devices ---------------------------------------------------------------------
    def _devices(self, user_id: str) -> Any:
        return self._users.document(safe_id(user_id)).collection("devices")

    def put_device(self, user_id: str, device: push.Device) -> None:
        doc = {"token": device.token, "platform": device.platform, "registeredAt": device.registered_at}
        with _translated():
            self._devices(user_id).document(push.token_id(device.token)).set(doc)
        for old in push.beyond_limit(self.list_devices(user_id)):
            self.delete_device(user_id, old.token)

    def delete_device(self, user_id: str, token: str) -> None:
        with _translated():
            self._devices(user_id).document(push.token_id(token)).delete()

    def list_devices(self, user_id: str) -> list[push.Device]:
        with _translated():
            snaps = list(self._devices(user_id).stream())
        return push.newest_first([push.Device(s.get("token"), s.get("platform"), s.get("registeredAt")) for s in snaps])

    # -- idempotency ----------------------------------------------------------------------
    @staticmethod
    def _live_key(snap: Any) -> IdempotencyRecord | None:
        # TTL deletion runs up to a day late: an expired record must already count as gone.
        if not snap.exists:
            return None
        data = snap.to_dict()
        return (
            IdempotencyRecord(data["orderId"], data["requestHash"]) if data["expiresAt"] > datetime.now(UTC) else None
        )

    def idempotency_record(self, user_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        with _translated():
            return self._live_key(self._key_ref(user_id, idempotency_key).get())

    # -- checkout and restock: one read, then one commit guarded by "still as read" -----------
    def read_checkout(self, plan: CheckoutPlan) -> CheckoutState:
        order = plan.order
        key_ref = self._key_ref(order.user_id, order.idempotency_key or "")
        products = {t.product_id: self._product_ref(t.product_id) for t in plan.takes}
        lines = {pid: self._cart(order.user_id).document(safe_id(pid)) for pid, _ in order.cart_versions}
        with _translated():
            read = self._read_all([key_ref, *products.values(), *lines.values()])
        return CheckoutState(
            self._live_key(read[key_ref.path]),
            {pid: product_from(read[ref.path].to_dict()) for pid, ref in products.items() if read[ref.path].exists},
            {pid: _version(read[ref.path]) for pid, ref in lines.items()},
            token=read,
        )

    def commit_checkout(self, plan: CheckoutPlan, state: CheckoutState | None) -> None:
        order, read = plan.order, _snapshots(state)
        now = now_iso()
        batch = self._db.batch()
        for t in plan.takes:
            snap = read[self._product_ref(t.product_id).path]
            fields = {"stock": snap.get("stock") - t.quantity, "updatedAt": now}
            batch.update(snap.reference, fields, option=self._as_read(snap))
        batch.create(self._orders.document(safe_id(order.order_id)), order_fields(order))
        key_ref = self._key_ref(order.user_id, order.idempotency_key or "")
        key_fields = {
            "orderId": order.order_id,
            "requestHash": plan.request_hash,
            "userId": order.user_id,
            "expiresAt": datetime.now(UTC) + timedelta(seconds=datamodel.IDEMPOTENCY_TTL_SECONDS),
        }
        key_snap = read[key_ref.path]
        if key_snap.exists:  # expired but not yet removed by the TTL policy
            batch.update(key_ref, key_fields, option=self._as_read(key_snap))
        else:
            batch.create(key_ref, key_fields)
        for pid in plan.ordered:
            ref = self._cart(order.user_id).document(safe_id(pid))
            line = read.get(ref.path)  # each line version ordered once
            batch.delete(ref, option=self._as_read(line) if line is not None else None)
        self._commit(batch)

    def read_order_state(self, plan: TransitionPlan) -> OrderState:
        order_ref = self._orders.document(safe_id(plan.order.order_id))
        refs = [self._product_ref(pid) for pid in plan.restock]
        with _translated():
            read = self._read_all([order_ref, *refs])
        snap = read[order_ref.path]
        present = frozenset(read[ref.path].get("productId") for ref in refs if read[ref.path].exists)
        return OrderState(snap.get("status") if snap.exists else None, present, token=read)

    def commit_transition(self, plan: TransitionPlan, state: OrderState | None) -> None:
        read = _snapshots(state)
        batch = self._db.batch()
        for pid, q in plan.restock.items():
            p = read[self._product_ref(pid).path]
            batch.update(
                p.reference, {"stock": p.get("stock") + q, "updatedAt": plan.updated_at}, option=self._as_read(p)
            )
        order_ref = self._orders.document(safe_id(plan.order.order_id))
        fields = {"status": plan.new_status, "updatedAt": plan.updated_at}
        batch.update(order_ref, fields, option=self._as_read(read[order_ref.path]))
        self._commit(batch)

    @staticmethod
    def _commit(batch: Any) -> None:
        """A commit whose precondition failed lost a race: nothing was written."""
        from google.api_core import exceptions as gexc

        try:
            with _translated():
                batch.commit()
        except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.NotFound) as e:
            raise LostRace() from e

    def _read_all(self, refs: list[Any]) -> dict[str, Any]:
        """One round trip; get_all answers in any order, so key the snapshots by path."""
        return {s.reference.path: s for s in self._db.get_all(refs)}

    def _as_read(self, snap: Any) -> Any:
        """A precondition: the document is still the version `snap` saw."""
        return self._db.write_option(last_update_time=snap.update_time)

    # -- orders ---------------------------------------------------------------------------
    def get_order(self, user_id: str, order_id: str) -> Order | None:
        order = self.find_order(order_id)
        return order if order and order.user_id == user_id else None

    def find_order(self, order_id: str) -> Order | None:
        with _translated():
            snap = self._orders.document(safe_id(order_id)).get()
        return order_from(snap.to_dict()) if snap.exists else None

    def _list(self, field: str, value: str, sort: str, limit: int, cursor: str | None, scope: str) -> Page[Order]:
        after = decode_cursor(cursor, scope)
        q = self._orders.where(filter=_eq(field, value)).order_by(sort, direction=self._desc())
        if after is not None:
            q = q.start_after({sort: after})
        with _translated():
            docs = [s.to_dict() for s in q.limit(limit + 1).stream()]
        nxt = encode_cursor(docs[limit - 1][sort], scope) if len(docs) > limit else None
        return Page([order_from(d) for d in docs[:limit]], nxt)

    def list_orders(self, user_id: str, *, limit: int, cursor: str | None) -> Page[Order]:
        return self._list("userId", user_id, "orderId", limit, cursor, orders_scope(user_id))

    def list_orders_by_status(self, status: str, *, limit: int, cursor: str | None) -> Page[Order]:
        return self._list("status", status, "statusSortKey", limit, cursor, status_scope(status))
