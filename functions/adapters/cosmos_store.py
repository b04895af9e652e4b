"""Store on Azure Cosmos DB for NoSQL (serverless), through azure-cosmos.

Layout: one container (datamodel.COSMOS_CONTAINER: SHOP_TABLE.name, partition key
path /pk), three kinds of logical partition:

    pk="CATEGORY"        id=<categoryId>                          categories
    pk="LEDGER"          id=PRODUCT:<productId>                    products, with their stock
                         id=ORDER:<orderId>                        orders
                         id=IDEMPOTENCY:<userId>:<key>             checkout keys (per-item ttl)
    pk="USER:<userId>"   id=CART:<productId>                       cart lines
                         id=DEVICE:<sha256 of the token>           push devices

(id parts are percent-encoded: Cosmos ids may not contain / \\ ? #.)

Why a LEDGER partition. Cosmos transactions (transactional batch, stored procedures)
never span logical partitions. Checkout must decrement the stock of every line, create
the order and claim the idempotency key as one unit, and cancelling must flip the status
and restock as one unit; so stock, orders and keys share one logical partition and each
of those steps is ONE transactional batch:
    checkout = [create IDEMPOTENCY, create ORDER, patch PRODUCT stock -= q if stock >= q, ...]
    cancel   = [patch ORDER status if status == <as read>, patch PRODUCT stock += q, ...]
Optimistic concurrency without a read-modify-write: every conditional write is a patch with
a `filter_predicate` (stock >= q; status == the status as read), which the server checks
atomically like an If-Match etag but on the one property that matters, so two checkouts of
different products never conflict and no etag retry loop is needed. Product edits patch
every field but /stock, so an edit can neither lose nor block a concurrent decrement. No
code path replaces a whole document another writer may change (which is when an etag
If-Match would be needed).

The cart lives in the customer's own partition, so clearing it is a follow-up batch after
the checkout batch commits. It is idempotent (deleting the ordered lines) and recoverable:
if it fails, the order still stands, and a replay of the same Idempotency-Key returns the
order and clears the cart again. A cart line surviving a crash is the only visible effect.

Trade-offs (the price of single-partition atomicity): every checkout, cancel, order read
and catalog read lands on the LEDGER partition, which is bounded by one physical
partition: 20 GB of data and 10,000 RU/s (serverless containers are capped lower). For
a shop of this scale that is ample (an order document is ~1-2 KB: millions of orders).
Beyond it: archive delivered orders out of the LEDGER (change feed), move catalog reads to
a cached read model, or shard the ledger by warehouse and require a cart to come from one
shard. A batch holds at most 100 operations: datamodel.MAX_CART_LINES (25) keeps checkout at
52 (key, order, a stock patch and a cart-line claim per line) and a cancel at 26.

Errors: 429 (throttled), 408, 449, 503 and client timeouts become Unavailable (safe to retry).
Imports of azure.cosmos are lazy: the container client is passed in (tests use
tests/fakes/cosmos.py) or built from settings by functions.adapters.azure_services.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
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
    StoreError,
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
    product_fields,
    product_from,
    products_scope,
    safe_id,
    status_scope,
)

CATEGORY_PK = "CATEGORY"
LEDGER_PK = "LEDGER"
TRANSIENT_STATUSES = {408, 429, 449, 503}
_ATTEMPTS = 3  # retries of a checkout/cancel batch that lost a race with another writer


def user_pk(user_id: str) -> str:
    return f"USER:{safe_id(user_id)}"


def product_id_(product_id: str) -> str:
    return f"PRODUCT:{safe_id(product_id)}"


def order_id_(order_id: str) -> str:
    return f"ORDER:{safe_id(order_id)}"


def idempotency_id(user_id: str, key: str) -> str:
    return f"IDEMPOTENCY:{safe_id(user_id)}:{safe_id(key)}"


def cart_id(product_id: str) -> str:
    return f"CART:{safe_id(product_id)}"


def cart_claim_id(user_id: str, product_id: str, version: str) -> str:
    return f"CARTLINE:{safe_id(user_id)}:{safe_id(product_id)}:{safe_id(version)}"


@contextmanager
def _translated() -> Iterator[None]:
    """Map transient Cosmos failures to Unavailable; let the caller handle the rest."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError
    from azure.cosmos import exceptions as cx

    try:
        yield
    except cx.CosmosHttpResponseError as e:
        if e.status_code in TRANSIENT_STATUSES:
            raise Unavailable(f"cosmos: {e.status_code}") from e
        raise
    except cx.CosmosBatchOperationError as e:
        if e.status_code in TRANSIENT_STATUSES:
            raise Unavailable(f"cosmos batch: {e.status_code}") from e
        raise
    except (cx.CosmosClientTimeoutError, ServiceRequestError, ServiceResponseError) as e:
        raise Unavailable(f"cosmos: {type(e).__name__}") from e


class CosmosStore(OrderRules):
    checks_catalog = False  # checkout re-reads the catalog before the commit
    cart_in_commit = False  # the cart is in the customer's partition, outside the ledger batch
    checkout_policy = CommitPolicy(
        read_first=True, gave_up="checkout lost to concurrent writers; retry", attempts=_ATTEMPTS
    )
    transition_policy = CommitPolicy(
        read_first=True, gave_up="order transition lost to concurrent writers; retry", attempts=_ATTEMPTS
    )

    def __init__(self, container: Any) -> None:
        """`container`: an azure.cosmos ContainerProxy (or the test fake) for COSMOS_CONTAINER."""
        self._c = container

    # -- small helpers ----------------------------------------------------------
    def _read(self, item_id: str, pk: str) -> dict[str, Any] | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with _translated():
            try:
                return self._c.read_item(item=item_id, partition_key=pk)
            except CosmosResourceNotFoundError:
                return None

    def _query(self, sql: str, params: dict[str, Any], pk: str) -> list[dict[str, Any]]:
        with _translated():
            return list(
                self._c.query_items(
                    query=sql, parameters=[{"name": k, "value": v} for k, v in params.items()], partition_key=pk
                )
            )

    def _page(
        self, docs: list[dict[str, Any]], limit: int, key: str, scope: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        # Queries ask for limit+1 documents: the extra one only says whether a next page exists.
        if len(docs) > limit:
            docs = docs[:limit]
            return docs, encode_cursor(docs[-1][key], scope)
        return docs, None

    # -- catalog ------------------------------------------------------------------
    def list_categories(self) -> list[Category]:
        docs = self._query("SELECT * FROM c WHERE c.type = 'category' ORDER BY c.categoryId", {}, CATEGORY_PK)
        return [Category(d["categoryId"], d["name"]) for d in docs]

    def put_category(self, category: Category) -> None:
        with _translated():
            self._c.upsert_item(
                {
                    "id": safe_id(category.category_id),
                    "pk": CATEGORY_PK,
                    "type": "category",
                    "categoryId": category.category_id,
                    "name": category.name,
                }
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
        """One query per page: every filter in its WHERE, one ORDER BY on the sort's key
        field (the container's default range indexes serve it)."""
        scope = products_scope(category, query, browse)
        after = decode_cursor(cursor, scope)
        field, backwards = SORT_FIELDS[browse.sort]
        where = ["c.type = 'product'"]
        params: dict[str, Any] = {"@n": limit + 1}
        if category is not None:
            where.append("c.category = @category")
            params["@category"] = category
        if query:
            where.append("CONTAINS(c.nameLower, @q)")
            params["@q"] = query.lower()
        if browse.min_price is not None:
            where.append("c.price >= @minp")
            params["@minp"] = browse.min_price
        if browse.max_price is not None:
            where.append("c.price <= @maxp")
            params["@maxp"] = browse.max_price
        if browse.in_stock:
            where.append("c.stock > 0")
        if after is not None:
            where.append(f"c.{field} {'<' if backwards else '>'} @after")
            params["@after"] = after
        order = "DESC" if backwards else "ASC"
        sql = f"SELECT TOP @n * FROM c WHERE {' AND '.join(where)} ORDER BY c.{field} {order}"
        docs, nxt = self._page(self._query(sql, params, LEDGER_PK), limit, field, scope)
        return Page([product_from(d) for d in docs], nxt)

    def get_product(self, product_id: str) -> Product | None:
        doc = self._read(product_id_(product_id), LEDGER_PK)
        return product_from(doc) if doc else None

    def get_products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        if not product_ids:
            return {}
        docs = self._query(
            "SELECT * FROM c WHERE c.type = 'product' AND ARRAY_CONTAINS(@ids, c.productId)",
            {"@ids": list(dict.fromkeys(product_ids))},
            LEDGER_PK,
        )
        return {d["productId"]: product_from(d) for d in docs}

    def create_product(self, product: Product) -> None:
        from azure.cosmos.exceptions import CosmosResourceExistsError

        doc = {
            "id": product_id_(product.product_id),
            "pk": LEDGER_PK,
            "type": "product",
            **product_fields(product),
            "stock": product.stock,
        }
        with _translated():
            try:
                self._c.create_item(body=doc)
            except CosmosResourceExistsError as e:
                raise AlreadyExists(product.product_id) from e

    def _patch(self, item_id: str, ops: list[dict[str, Any]], missing: str) -> dict[str, Any]:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with _translated():
            try:
                return self._c.patch_item(item=item_id, partition_key=LEDGER_PK, patch_operations=ops)
            except CosmosResourceNotFoundError as e:
                raise NotFound(missing) from e

    def update_product(self, product: Product) -> Product:
        # A patch of every field but /stock: atomic, and a concurrent checkout's stock
        # decrement can neither be lost nor make this fail.
        fields = product_fields(product)
        ops = [{"op": "set", "path": f"/{k}", "value": v} for k, v in fields.items()]
        return product_from(self._patch(product_id_(product.product_id), ops, product.product_id))

    def delete_product(self, product_id: str) -> None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with _translated():
            try:
                self._c.delete_item(item=product_id_(product_id), partition_key=LEDGER_PK)
            except CosmosResourceNotFoundError as e:
                raise NotFound(product_id) from e

    def set_stock(self, product_id: str, stock: int) -> Product:
        ops: list[dict[str, Any]] = [
            {"op": "set", "path": "/stock", "value": stock},
            {"op": "set", "path": "/updatedAt", "value": now_iso()},
        ]
        return product_from(self._patch(product_id_(product_id), ops, product_id))

    # -- cart -----------------------------------------------------------------------
    def get_cart(self, user_id: str) -> list[CartLine]:
        docs = self._query("SELECT * FROM c WHERE c.type = 'cart' ORDER BY c.productId", {}, user_pk(user_id))
        return [CartLine(d["productId"], int(d["quantity"]), version=d.get("version")) for d in docs]

    def set_cart_line(self, user_id: str, product_id: str, quantity: int, product: Product | None = None) -> None:
        # `product` is for stores that check the catalog in place_order; this one re-reads it there.
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with _translated():
            if quantity <= 0:
                with suppress(CosmosResourceNotFoundError):
                    self._c.delete_item(item=cart_id(product_id), partition_key=user_pk(user_id))
                return
            self._c.upsert_item(
                {
                    "id": cart_id(product_id),
                    "pk": user_pk(user_id),
                    "type": "cart",
                    "productId": product_id,
                    "quantity": quantity,
                    "updatedAt": now_iso(),
                    "version": uuid.uuid4().hex,
                }
            )

    def _delete_cart_lines(self, user_id: str, product_ids: Sequence[str] | None) -> None:
        """One batch in the user's partition deleting the lines present (all, or those named)."""
        lines = self.get_cart(user_id)
        wanted = None if product_ids is None else set(product_ids)
        ops = [("delete", (cart_id(ln.product_id),)) for ln in lines if wanted is None or ln.product_id in wanted]
        for start in range(0, len(ops), 100):
            with _translated():
                self._c.execute_item_batch(batch_operations=ops[start : start + 100], partition_key=user_pk(user_id))

    def clear_cart(self, user_id: str) -> None:
        from azure.cosmos.exceptions import CosmosBatchOperationError

        try:
            self._delete_cart_lines(user_id, None)
        except CosmosBatchOperationError as e:  # a line vanished between the read and the batch
            if e.status_code != 404:
                raise
            self._delete_cart_lines(user_id, None)

    def delete_cart_lines(self, user_id: str, product_ids: Sequence[str]) -> None:
        self._delete_cart_lines(user_id, product_ids)

    # -- push devices -----------------------------------------------------------------
    def put_device(self, user_id: str, device: push.Device) -> None:
        doc = {
            "id": f"DEVICE:{push.token_id(device.token)}",
            "pk": user_pk(user_id),
            "type": "device",
            "token": device.token,
            "platform": device.platform,
            "registeredAt": device.registered_at,
        }
        with _translated():
            self._c.upsert_item(doc)
        for old in push.beyond_limit(self.list_devices(user_id)):
            self.delete_device(user_id, old.token)

    def delete_device(self, user_id: str, token: str) -> None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with _translated(), suppress(CosmosResourceNotFoundError):
            self._c.delete_item(item=f"DEVICE:{push.token_id(token)}", partition_key=user_pk(user_id))

    def list_devices(self, user_id: str) -> list[push.Device]:
        docs = self._query("SELECT * FROM c WHERE c.type = 'device'", {}, user_pk(user_id))
        return push.newest_first([push.Device(d["token"], d["platform"], d["registeredAt"]) for d in docs])

    # -- idempotency ------------------------------------------------------------------
    def idempotency_record(self, user_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        rec = self._read(idempotency_id(user_id, idempotency_key), LEDGER_PK)
        return IdempotencyRecord(rec["orderId"], rec["requestHash"]) if rec else None

    # -- checkout and restock: read (OrderRules' plain reads: a batch stops at its first
    # -- failure, so only a read names every short product), then one ledger batch -----
    def commit_checkout(self, plan: CheckoutPlan, state: CheckoutState | None) -> None:
        from azure.cosmos.exceptions import CosmosBatchOperationError

        order = plan.order
        if len(plan.takes) + 2 + len(order.cart_versions) > 100:
            raise ValueError("too many lines for one transactional batch")
        try:
            with _translated():
                self._c.execute_item_batch(batch_operations=self._checkout_ops(plan), partition_key=LEDGER_PK)
        except CosmosBatchOperationError as e:
            claims_at = 2 + len(plan.takes)
            at = -1 if e.error_index is None else e.error_index
            if at == 0 and e.status_code == 409:  # the same key won a race
                raise LostRace() from e
            if at >= claims_at and e.status_code == 409:  # that cart line version was ordered already
                raise LostRace([order.cart_versions[at - claims_at][0]]) from e
            if at >= 2 and e.status_code in (404, 412):  # stock moved since the read
                raise LostRace() from e
            raise StoreError(f"checkout batch failed at operation {e.error_index}: {e.status_code}") from e

    def _checkout_ops(self, plan: CheckoutPlan) -> list[tuple]:
        """[create key, create order, stock patch if enough is left..., create cart claim...].
        Built afresh for every attempt: the SDK pops the kwargs (filter_predicate) out of
        the tuples it formats, so a reused list would retry WITHOUT its conditions."""
        order = plan.order
        key_doc = {
            "id": idempotency_id(order.user_id, order.idempotency_key or ""),
            "pk": LEDGER_PK,
            "type": "idempotency",
            "userId": order.user_id,
            "orderId": order.order_id,
            "requestHash": plan.request_hash,
            "ttl": datamodel.IDEMPOTENCY_TTL_SECONDS,
        }
        order_doc = {"id": order_id_(order.order_id), "pk": LEDGER_PK, "type": "order", **order_fields(order)}
        ops: list[tuple] = [("create", (key_doc,)), ("create", (order_doc,))]
        for t in plan.takes:
            patch = [{"op": "incr", "path": "/stock", "value": -t.quantity}]
            ops.append(
                (
                    "patch",
                    (product_id_(t.product_id), patch),
                    {"filter_predicate": f"FROM c WHERE c.stock >= {int(t.quantity)}"},
                )
            )
        # The cart lives in another partition: a claim per cart line version, created in
        # the ledger's batch, is what lets each version become at most one order.
        for pid, version in order.cart_versions:
            claim = {"id": cart_claim_id(order.user_id, pid, version), "pk": LEDGER_PK, "type": "cartClaim",
                     "orderId": order.order_id, "ttl": datamodel.IDEMPOTENCY_TTL_SECONDS}  # fmt: skip
            ops.append(("create", (claim,)))
        return ops

    def commit_transition(self, plan: TransitionPlan, state: OrderState | None) -> None:
        from azure.cosmos.exceptions import CosmosBatchOperationError

        order = plan.order
        fields = [
            {"op": "set", "path": "/status", "value": plan.new_status},
            {"op": "set", "path": "/updatedAt", "value": plan.updated_at},
        ]
        # the status as the caller read it (a known status: checkout.transition_order checks)
        ops: list[tuple] = [
            (
                "patch",
                (order_id_(order.order_id), fields),
                {"filter_predicate": f"FROM c WHERE c.status = '{order.status}'"},
            )
        ]
        ops += [
            ("patch", (product_id_(pid), [{"op": "incr", "path": "/stock", "value": q}]))
            for pid, q in plan.restock.items()
        ]
        try:
            with _translated():
                self._c.execute_item_batch(batch_operations=ops, partition_key=LEDGER_PK)
        except CosmosBatchOperationError as e:
            if e.status_code in (404, 412):  # the status moved, or a product was deleted meanwhile
                raise LostRace() from e
            raise StoreError(f"status batch failed at operation {e.error_index}: {e.status_code}") from e

    # -- orders -----------------------------------------------------------------------
    def get_order(self, user_id: str, order_id: str) -> Order | None:
        order = self.find_order(order_id)
        return order if order and order.user_id == user_id else None

    def find_order(self, order_id: str) -> Order | None:
        doc = self._read(order_id_(order_id), LEDGER_PK)
        return order_from(doc) if doc and doc.get("type") == "order" else None

    def list_orders(self, user_id: str, *, limit: int, cursor: str | None) -> Page[Order]:
        return self._orders_where("userId", user_id, "orderId", limit, cursor, orders_scope(user_id))

    def list_orders_by_status(self, status: str, *, limit: int, cursor: str | None) -> Page[Order]:
        return self._orders_where("status", status, "statusSortKey", limit, cursor, status_scope(status))

    def _orders_where(
        self, field: str, value: str, sort: str, limit: int, cursor: str | None, scope: str
    ) -> Page[Order]:
        """Orders whose `field` is `value`, newest first by `sort`."""
        after = decode_cursor(cursor, scope)
        where = ["c.type = 'order'", f"c.{field} = @v"]
        params: dict[str, Any] = {"@n": limit + 1, "@v": value}
        if after is not None:
            where.append(f"c.{sort} < @after")
            params["@after"] = after
        sql = f"SELECT TOP @n * FROM c WHERE {' AND '.join(where)} ORDER BY c.{sort} DESC"
        docs, nxt = self._page(self._query(sql, params, LEDGER_PK), limit, sort, scope)
        return Page([order_from(d) for d in docs], nxt)
