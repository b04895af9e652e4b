"""Store on one DynamoDB table (datamodel.SHOP_TABLE), low-level client.

Item shapes (see datamodel.py):
  category     PK=CATEGORY            SK=<categoryId>
  product      PK=PRODUCT#<id>        SK=PRODUCT     GSI1=CATEGORY#<cat> / <name>#<id>
                                                     GSI2=PRODUCTS / <name>#<id>  (all products by name)
                                                     GSI3/GSI4: the same by price, GSI5/GSI6 by newest
  cart line    PK=USER#<uid>          SK=CART#<productId>
  order        PK=USER#<uid>          SK=ORDER#<orderId>   GSI1=ORDER#<id> / ORDER
                                                          GSI2=STATUS#<status> / <orderId>
  idempotency  PK=USER#<uid>          SK=IDEMPOTENCY#<key>  expiresAt (TTL)
  device       PK=DEVICES#<uid>       SK=DEVICE#<sha256 of the token>  token, platform, registeredAt

Round trips: browse = 1 Query; product = 1 GetItem; cart change = 1 Put/Delete; checkout =
cart Query (+ BatchGetItem unless the cart's catalog snapshots hold) + ONE TransactWriteItems;
cancel = 1 TransactWriteItems. The rules are functions/shop/checkout.py's: this store commits
blind and reads only to explain a failed condition.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from functions.shop import datamodel as dm
from functions.shop import push
from functions.shop.checkout import OrderRules
from functions.shop.ports import (
    BROWSE_DEFAULT,
    Address,
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
    OrderLine,
    OrderState,
    Page,
    Product,
    StockTake,
    StoreError,
    TransitionPlan,
    Unavailable,
)

from ._documents import (
    CURSOR_ERROR,
    PRICE_DIGITS,
    decode_cursor,
    encode_cursor,
    newest_key,
    price_bound,
    price_key,
    products_scope,
    text_key,
)

RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
}
SEARCH_MAX_PAGES = 10


def _s(v: str) -> dict:
    return {"S": v}


def _n(v: int) -> dict:
    return {"N": str(int(v))}


def _cursor_out(key: dict | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


@dataclass(frozen=True)
class _Bounds:
    """What a start key of one listing must look like: exactly these key attributes, the
    query's partition value(s), and sort-key prefixes inside its key condition. DynamoDB
    answers a start key outside the query with a ValidationException (a 500) and a
    non-string one with a client-side ParamValidationError (a 503): both are the
    caller's fault, so they are refused here as a 400."""

    keys: tuple[str, ...]
    exact: Mapping[str, str]
    prefix: Mapping[str, str]


def _product_bounds(index: str, pk: str) -> _Bounds:
    return _Bounds(("PK", "SK", f"{index}PK", f"{index}SK"), {f"{index}PK": pk, "SK": "PRODUCT"}, {"PK": "PRODUCT#"})


def _cursor_in(cursor: str | None, bounds: _Bounds) -> dict | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except Exception as exc:  # binascii.Error, UnicodeDecodeError, JSONDecodeError, RecursionError
        raise ValueError(CURSOR_ERROR) from exc
    return _key_in(key, bounds)


def _key_in(key: object, bounds: _Bounds) -> dict:
    if not isinstance(key, dict) or sorted(key) != sorted(bounds.keys):
        raise ValueError(CURSOR_ERROR)
    values = {}
    for name, attr in key.items():
        if not isinstance(attr, dict) or list(attr) != ["S"]:
            raise ValueError(CURSOR_ERROR)
        values[name] = text_key(attr["S"])
    if any(values[k] != v for k, v in bounds.exact.items()):
        raise ValueError(CURSOR_ERROR)
    if any(not values[k].startswith(p) for k, p in bounds.prefix.items()):
        raise ValueError(CURSOR_ERROR)
    return key


# sort -> (index for one category, index for every product, read backwards)
_SORT_INDEXES = {
    "name": ("GSI1", "GSI2", False),
    "price": ("GSI3", "GSI4", False),
    "-price": ("GSI3", "GSI4", True),
    "newest": ("GSI5", "GSI6", True),
}


def _browse_query(category: str | None, query: str | None, browse: Browse) -> tuple[str, str, bool, dict]:
    """(index, partition value, backwards, Query arguments) of one listing: the sort picks
    the index, a price range under a price sort is a key range, every other filter is a
    FilterExpression over the items the page reads."""
    by_category, everything, backwards = _SORT_INDEXES[browse.sort]
    index, pk = (by_category, f"CATEGORY#{category}") if category else (everything, "PRODUCTS")
    key = f"{index}PK = :pk"
    values: dict[str, dict] = {":pk": _s(pk)}
    filters: list[str] = []
    low, high = browse.min_price, browse.max_price
    if browse.sort in ("price", "-price") and (low is not None or high is not None):
        key += f" AND {index}SK BETWEEN :lo AND :hi"
        values[":lo"] = _s(price_bound(low or 0))
        values[":hi"] = _s(price_bound(high if high is not None else 10**PRICE_DIGITS - 1) + "\x20")
    else:
        if low is not None:
            filters.append("price >= :minp")
            values[":minp"] = _n(low)
        if high is not None:
            filters.append("price <= :maxp")
            values[":maxp"] = _n(high)
    if browse.in_stock:
        filters.append("stock > :zero")
        values[":zero"] = _n(0)
    if query is not None:
        filters.append("contains(nameLower, :q)")
        values[":q"] = _s(query.lower())
    args: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": key, "ExpressionAttributeValues": values}
    if filters:
        args["FilterExpression"] = " AND ".join(filters)
    return index, pk, backwards, args


def _product_item(p: Product) -> dict:
    name = p.name.lower()
    item = {
        "PK": _s(f"PRODUCT#{p.product_id}"),
        "SK": _s("PRODUCT"),
        "kind": _s("product"),
        "productId": _s(p.product_id),
        "name": _s(p.name),
        "nameLower": _s(name),
        "description": _s(p.description),
        "category": _s(p.category),
        "price": _n(p.price),
        "currency": _s(p.currency),
        "stock": _n(p.stock),
        "updatedAt": _s(p.updated_at),
        "GSI1PK": _s(f"CATEGORY#{p.category}"),
        "GSI1SK": _s(f"{name}#{p.product_id}"),
        "GSI2PK": _s("PRODUCTS"),
        "GSI2SK": _s(f"{name}#{p.product_id}"),
        "GSI3PK": _s(f"CATEGORY#{p.category}"),
        "GSI3SK": _s(price_key(p.price, p.name, p.product_id)),
        "GSI4PK": _s("PRODUCTS"),
        "GSI4SK": _s(price_key(p.price, p.name, p.product_id)),
        "GSI5PK": _s(f"CATEGORY#{p.category}"),
        "GSI5SK": _s(newest_key(p.updated_at, p.product_id)),
        "GSI6PK": _s("PRODUCTS"),
        "GSI6SK": _s(newest_key(p.updated_at, p.product_id)),
    }
    if p.image_url:
        item["imageUrl"] = _s(p.image_url)
    return item


def _product_key(product_id: str) -> dict:
    return {"PK": _s(f"PRODUCT#{product_id}"), "SK": _s("PRODUCT")}


def _cart_key(user_id: str, product_id: str) -> dict:
    return {"PK": _s(f"USER#{user_id}"), "SK": _s(f"CART#{product_id}")}


def _order_key(user_id: str, order_id: str) -> dict:
    return {"PK": _s(f"USER#{user_id}"), "SK": _s(f"ORDER#{order_id}")}


def _product(item: dict) -> Product:
    return Product(
        product_id=item["productId"]["S"],
        name=item["name"]["S"],
        description=item.get("description", {}).get("S", ""),
        category=item["category"]["S"],
        price=int(item["price"]["N"]),
        currency=item["currency"]["S"],
        stock=int(item["stock"]["N"]),
        image_url=item.get("imageUrl", {}).get("S"),
        updated_at=item.get("updatedAt", {}).get("S", ""),
    )


def _order_item(o: Order) -> dict:
    doc = {
        "lines": [[li.product_id, li.name, li.unit_price, li.quantity] for li in o.lines],
        "address": o.shipping_address.__dict__,
        "email": o.email,
        "idempotencyKey": o.idempotency_key,
        "createdAt": o.created_at,
    }
    return {
        "PK": _s(f"USER#{o.user_id}"),
        "SK": _s(f"ORDER#{o.order_id}"),
        "kind": _s("order"),
        "orderId": _s(o.order_id),
        "userId": _s(o.user_id),
        "status": _s(o.status),
        "total": _n(o.total),
        "currency": _s(o.currency),
        "updatedAt": _s(o.updated_at),
        "doc": _s(json.dumps(doc, separators=(",", ":"))),
        "GSI1PK": _s(f"ORDER#{o.order_id}"),
        "GSI1SK": _s("ORDER"),
        "GSI2PK": _s(f"STATUS#{o.status}"),
        "GSI2SK": _s(o.order_id),
    }


def _order(item: dict) -> Order:
    doc = json.loads(item["doc"]["S"])
    return Order(
        order_id=item["orderId"]["S"],
        user_id=item["userId"]["S"],
        status=item["status"]["S"],
        lines=tuple(OrderLine(p, n, int(u), int(q)) for p, n, u, q in doc["lines"]),
        total=int(item["total"]["N"]),
        currency=item["currency"]["S"],
        created_at=doc["createdAt"],
        updated_at=item["updatedAt"]["S"],
        shipping_address=Address(**doc["address"]),
        email=doc.get("email"),
        idempotency_key=doc.get("idempotencyKey"),
    )


def translated_call(client: Any, op: str, **kwargs: Any) -> dict:
    """One DynamoDB call; throttling, transient errors and an unreachable endpoint become
    Unavailable (safe to retry), anything else is the caller's to handle."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client, op)(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in RETRYABLE:
            raise Unavailable(f"database busy ({exc.response['Error']['Code']}); retry") from exc
        raise
    except BotoCoreError as exc:
        raise Unavailable(f"database unreachable: {type(exc).__name__}") from exc


class DynamoDBTable:
    """The shop's table through a botocore client made on first use (cold starts that
    never touch the table do not pay for it)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from .aws_clients import client

            self._client = client("dynamodb")
        return self._client

    def _call(self, op: str, **kwargs: Any) -> dict:
        return translated_call(self.client, op, **kwargs)


class DynamoDBStore(DynamoDBTable, OrderRules):
    # The checkout commit verifies each line's name, price and currency against the catalog,
    # so checkout may build the order from the cart's snapshots (2 round trips).
    checks_catalog = True
    cart_in_commit = True
    checkout_policy = CommitPolicy(
        read_first=False,
        gave_up="checkout contention; retry with the same Idempotency-Key",
        attempts=4,
        pause_s=0.05,
        retry_unavailable=True,
    )
    transition_policy = CommitPolicy(
        read_first=False, gave_up="order transition contention; retry", attempts=4, pause_s=0.05, retry_unavailable=True
    )

    def _query(
        self,
        limit: int,
        cursor: str | None,
        bounds: _Bounds,
        reverse: bool = False,
        index: str | None = None,
        **kw: Any,
    ) -> tuple[list[dict], str | None]:
        """One Query of limit+1 items: the extra item tells whether a next page exists."""
        args: dict[str, Any] = {"TableName": self.table, "Limit": limit + 1, "ScanIndexForward": not reverse, **kw}
        if index:
            args["IndexName"] = index
        start = _cursor_in(cursor, bounds)
        if start:
            args["ExclusiveStartKey"] = start
        items = self._call("query", **args)["Items"]
        if len(items) <= limit:
            return items, None
        items = items[:limit]
        keys = ["PK", "SK"] + ([f"{index}PK", f"{index}SK"] if index else [])
        return items, _cursor_out({k: items[-1][k] for k in keys})

    # ----------------------------------------------------------------- catalog
    def list_categories(self) -> list[Category]:
        items = self._call(
            "query",
            TableName=self.table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": _s("CATEGORY")},
        )["Items"]
        return sorted((Category(i["SK"]["S"], i["name"]["S"]) for i in items), key=lambda c: c.name.lower())

    def put_category(self, category: Category) -> None:
        self._call(
            "put_item",
            TableName=self.table,
            Item={"PK": _s("CATEGORY"), "SK": _s(category.category_id), "name": _s(category.name)},
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
        """One Query per page (name search: up to SEARCH_MAX_PAGES). Cursors are scoped to
        the listing (category, search, filters, sort), so another listing's is a 400."""
        index, pk, backwards, args = _browse_query(category, query, browse)
        scope = products_scope(category, query, browse)
        start = self._product_start(cursor, scope, index, pk, args)
        keys = ["PK", "SK", f"{index}PK", f"{index}SK"]
        base = {"TableName": self.table, "ScanIndexForward": not backwards, **args}
        if query is None:
            # limit+1 items read: all of them matching means a next page exists; fewer (a
            # filter dropped some) and DynamoDB's LastEvaluatedKey says where to go on.
            resp = self._call("query", Limit=limit + 1, **base, **({"ExclusiveStartKey": start} if start else {}))
            found, last_key = resp["Items"], resp.get("LastEvaluatedKey")
        else:
            # Name search: a filter over the index, read page by page (bounded).
            found, last_key = [], None
            for _ in range(SEARCH_MAX_PAGES):
                resp = self._call("query", Limit=100, **base, **({"ExclusiveStartKey": start} if start else {}))
                found.extend(resp["Items"])
                start = last_key = resp.get("LastEvaluatedKey")
                if len(found) > limit or not start:
                    break
        if len(found) > limit:
            found = found[:limit]
            last_key = {k: found[-1][k] for k in keys}
        nxt = encode_cursor(json.dumps(last_key, separators=(",", ":")), scope) if last_key else None
        return Page([_product(i) for i in found], nxt)

    @staticmethod
    def _product_start(cursor: str | None, scope: str, index: str, pk: str, args: dict) -> dict | None:
        """The start key a cursor of this very listing names, inside the listing's key range
        (DynamoDB answers a start key outside it with a ValidationException)."""
        raw = decode_cursor(cursor, scope)
        if raw is None:
            return None
        try:
            key = json.loads(raw)
        except ValueError as exc:
            raise ValueError(CURSOR_ERROR) from exc
        start = _key_in(key, _product_bounds(index, pk))
        values = args["ExpressionAttributeValues"]
        if ":lo" in values and not values[":lo"]["S"] <= start[f"{index}SK"]["S"] <= values[":hi"]["S"]:
            raise ValueError(CURSOR_ERROR)
        return start

    def get_product(self, product_id: str) -> Product | None:
        item = self._call("get_item", TableName=self.table, Key=_product_key(product_id)).get("Item")
        return _product(item) if item else None

    def get_products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        ids = list(dict.fromkeys(product_ids))
        out: dict[str, Product] = {}
        for i in range(0, len(ids), 100):
            keys = [{"PK": _s(f"PRODUCT#{p}"), "SK": _s("PRODUCT")} for p in ids[i : i + 100]]
            request = {self.table: {"Keys": keys}}
            for attempt in range(5):
                resp = self._call("batch_get_item", RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    p = _product(item)
                    out[p.product_id] = p
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.02 * 2**attempt)
            if request:
                raise Unavailable("database busy (unprocessed keys); retry")
        return out

    def _conditional(self, op: str, failed: StoreError, **kwargs: Any) -> dict:
        """One conditional write; `failed` is what a false condition means to the caller."""
        from botocore.exceptions import ClientError

        try:
            return self._call(op, TableName=self.table, **kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise failed from exc
            raise

    def create_product(self, product: Product) -> None:
        exists = AlreadyExists(f"product {product.product_id} already exists")
        self._conditional(
            "put_item", exists, Item=_product_item(product), ConditionExpression="attribute_not_exists(PK)"
        )

    def update_product(self, product: Product) -> Product:
        item = _product_item(product)
        item.pop("stock")
        names = {f"#a{i}": k for i, k in enumerate(k for k in item if k not in ("PK", "SK"))}
        values = {f":v{i}": item[k] for i, k in enumerate(names.values())}
        set_expr = ", ".join(f"{n} = :v{i}" for i, n in enumerate(names))
        remove = "" if product.image_url else " REMOVE imageUrl"
        resp = self._conditional(
            "update_item",
            NotFound(f"product {product.product_id} not found"),
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression=f"SET {set_expr}{remove}",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return _product(resp["Attributes"])

    def delete_product(self, product_id: str) -> None:
        missing = NotFound(f"product {product_id} not found")
        self._conditional(
            "delete_item", missing, Key=_product_key(product_id), ConditionExpression="attribute_exists(PK)"
        )

    def set_stock(self, product_id: str, stock: int) -> Product:
        resp = self._conditional(
            "update_item",
            NotFound(f"product {product_id} not found"),
            Key=_product_key(product_id),
            UpdateExpression="SET stock = :s",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":s": _n(stock)},
            ReturnValues="ALL_NEW",
        )
        return _product(resp["Attributes"])

    # -------------------------------------------------------------------- cart
    def get_cart(self, user_id: str) -> list[CartLine]:
        items = self._call(
            "query",
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :c)",
            ExpressionAttributeValues={":pk": _s(f"USER#{user_id}"), ":c": _s("CART#")},
        )["Items"]
        return [
            CartLine(
                i["SK"]["S"][5:],
                int(i["quantity"]["N"]),
                name=i.get("name", {}).get("S"),
                unit_price=int(i["unitPrice"]["N"]) if "unitPrice" in i else None,
                currency=i.get("currency", {}).get("S"),
                version=i.get("version", {}).get("S"),
            )
            for i in items
        ]

    def set_cart_line(self, user_id: str, product_id: str, quantity: int, product: Product | None = None) -> None:
        key = _cart_key(user_id, product_id)
        if quantity <= 0:
            self._call("delete_item", TableName=self.table, Key=key)
            return
        item = {**key, "quantity": _n(quantity), "version": _s(uuid.uuid4().hex)}
        if product is not None:  # the catalog entry checkout will re-verify in its transaction
            item.update(name=_s(product.name), unitPrice=_n(product.price), currency=_s(product.currency))
        self._call("put_item", TableName=self.table, Item=item)

    def clear_cart(self, user_id: str) -> None:
        self.delete_cart_lines(user_id, [li.product_id for li in self.get_cart(user_id)])

    def delete_cart_lines(self, user_id: str, product_ids: Sequence[str]) -> None:
        for i in range(0, len(product_ids), 25):
            self._call(
                "batch_write_item",
                RequestItems={
                    self.table: [{"DeleteRequest": {"Key": _cart_key(user_id, pid)}} for pid in product_ids[i : i + 25]]
                },
            )

    # ------------------------------------------------------------ push devices
    def _device_key(self, user_id: str, token: str) -> dict:
        return {"PK": _s(f"{dm.DEVICE_KEY_PREFIX}{user_id}"), "SK": _s(f"DEVICE#{push.token_id(token)}")}

    def put_device(self, user_id: str, device: push.Device) -> None:
        item = {
            **self._device_key(user_id, device.token),
            "token": _s(device.token),
            "platform": _s(device.platform),
            "registeredAt": _s(device.registered_at),
        }
        self._call("put_item", TableName=self.table, Item=item)
        for old in push.beyond_limit(self.list_devices(user_id)):
            self.delete_device(user_id, old.token)

    def delete_device(self, user_id: str, token: str) -> None:
        self._call("delete_item", TableName=self.table, Key=self._device_key(user_id, token))

    def list_devices(self, user_id: str) -> list[push.Device]:
        items = self._call(
            "query",
            TableName=self.table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": _s(f"{dm.DEVICE_KEY_PREFIX}{user_id}")},
        )["Items"]
        return push.newest_first(
            [push.Device(i["token"]["S"], i["platform"]["S"], i["registeredAt"]["S"]) for i in items]
        )

    # ------------------------------------------------------------- idempotency
    def _idem_key(self, user_id: str, key: str) -> dict:
        return {"PK": _s(f"USER#{user_id}"), "SK": _s(f"IDEMPOTENCY#{key}")}

    def idempotency_record(self, user_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        item = self._call(
            "get_item", TableName=self.table, Key=self._idem_key(user_id, idempotency_key), ConsistentRead=True
        ).get("Item")
        return IdempotencyRecord(item["orderId"]["S"], item["requestHash"]["S"]) if item else None

    # ------------------------------------------------- checkout and restock
    # Both commit blind (one TransactWriteItems, conditions on the values) and read (the
    # plain reads of OrderRules) only to explain a failed condition: checkout stays 1 read
    # + 1 transaction.
    def commit_checkout(self, plan: CheckoutPlan, state: CheckoutState | None) -> None:
        order = plan.order
        idem = {
            **self._idem_key(order.user_id, order.idempotency_key or ""),
            "orderId": _s(order.order_id),
            "requestHash": _s(plan.request_hash),
            "expiresAt": _n(int(time.time()) + dm.IDEMPOTENCY_TTL_SECONDS),
        }
        new = "attribute_not_exists(PK)"
        items: list[dict] = [
            {"Put": {"TableName": self.table, "Item": idem, "ConditionExpression": new}},
            {"Put": {"TableName": self.table, "Item": _order_item(order), "ConditionExpression": new}},
        ]
        items += [{"Update": self._take(t, order.currency)} for t in plan.takes]
        versions = dict(order.cart_versions)
        for pid in plan.ordered:
            delete: dict = {"TableName": self.table, "Key": _cart_key(order.user_id, pid)}
            if pid in versions:  # the line as read, ordered once
                delete["ConditionExpression"] = "version = :v"
                delete["ExpressionAttributeValues"] = {":v": _s(versions[pid])}
            items.append({"Delete": delete})
        self._transact(items, cart=plan.ordered, cart_at=2 + len(plan.takes))

    def _take(self, t: StockTake, currency: str) -> dict:
        """Enough stock, and the catalog still says what the customer is charged."""
        return {
            "TableName": self.table,
            "Key": _product_key(t.product_id),
            "UpdateExpression": "SET stock = stock - :q",
            "ConditionExpression": "attribute_exists(PK) AND stock >= :q AND price = :p AND currency = :c "
            "AND #name = :n",
            "ExpressionAttributeNames": {"#name": "name"},
            "ExpressionAttributeValues": {
                ":q": _n(t.quantity),
                ":p": _n(t.unit_price),
                ":c": _s(currency),
                ":n": _s(t.name),
            },
        }

    def commit_transition(self, plan: TransitionPlan, state: OrderState | None) -> None:
        order = plan.order
        status = {
            "TableName": self.table,
            "Key": _order_key(order.user_id, order.order_id),
            "UpdateExpression": "SET #s = :new, GSI2PK = :g, updatedAt = :u",
            "ConditionExpression": "#s = :old",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":new": _s(plan.new_status),
                ":old": _s(order.status),
                ":g": _s(f"STATUS#{plan.new_status}"),
                ":u": _s(plan.updated_at),
            },
        }
        restock = [
            {
                "TableName": self.table,
                "Key": _product_key(pid),
                "UpdateExpression": "SET stock = stock + :q",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeValues": {":q": _n(q)},
            }
            for pid, q in plan.restock.items()
        ]
        self._transact([{"Update": u} for u in (status, *restock)])

    def _transact(self, items: list[dict], cart: Sequence[str] = (), cart_at: int = 0) -> None:
        """One TransactWriteItems. A failed condition is LostRace, naming the cart lines
        (items from `cart_at` on) whose version check failed; contention is Unavailable."""
        from botocore.exceptions import ClientError

        try:
            self._call("transact_write_items", TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            if reasons and "ConditionalCheckFailed" not in reasons:  # e.g. TransactionConflict
                raise Unavailable(f"database busy ({', '.join(sorted(set(reasons) - {'None'}))}); retry") from exc
            failed = [pid for pid, r in zip(cart, reasons[cart_at:], strict=False) if r == "ConditionalCheckFailed"]
            raise LostRace(failed) from exc

    # ------------------------------------------------------------------ orders
    def get_order(self, user_id: str, order_id: str) -> Order | None:
        item = self._call("get_item", TableName=self.table, Key=_order_key(user_id, order_id)).get("Item")
        return _order(item) if item else None

    def find_order(self, order_id: str) -> Order | None:
        items = self._call(
            "query",
            TableName=self.table,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": _s(f"ORDER#{order_id}")},
        )["Items"]
        if not items:
            return None
        # GSIs are eventually consistent: read the item itself for the current status
        return self.get_order(items[0]["userId"]["S"], order_id)

    def list_orders(self, user_id: str, *, limit: int, cursor: str | None) -> Page[Order]:
        items, nxt = self._query(
            limit,
            cursor,
            _Bounds(("PK", "SK"), {"PK": f"USER#{user_id}"}, {"SK": "ORDER#"}),
            reverse=True,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :o)",
            ExpressionAttributeValues={":pk": _s(f"USER#{user_id}"), ":o": _s("ORDER#")},
        )
        return Page([_order(i) for i in items], nxt)

    def list_orders_by_status(self, status: str, *, limit: int, cursor: str | None) -> Page[Order]:
        items, nxt = self._query(
            limit,
            cursor,
            _Bounds(("PK", "SK", "GSI2PK", "GSI2SK"), {"GSI2PK": f"STATUS#{status}"}, {"PK": "USER#", "SK": "ORDER#"}),
            reverse=True,
            index="GSI2",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": _s(f"STATUS#{status}")},
        )
        return Page([_order(i) for i in items], nxt)
