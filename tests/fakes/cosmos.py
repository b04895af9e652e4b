"""A fake Azure Cosmos DB (NoSQL API) container: the `ContainerProxy` surface the store uses.

Faithful where the store depends on it:
- items are addressed by (partition key value, id); ids may not contain / \\ ? #;
- every write gets a new `_etag`; `replace_item`/`delete_item`/`patch_item` honour
  `etag` + `match_condition=MatchConditions.IfNotModified` (412 on mismatch);
- `patch_item` supports set/replace/add/remove/incr and a `filter_predicate`
  ("FROM c WHERE ..."), 412 when it does not hold;
- `execute_item_batch`: at most 100 operations, every operation in the batch's one
  logical partition (a create whose body names another partition is a 400), all or
  nothing; a failure raises `CosmosBatchOperationError` whose `error_index` points at the
  failing operation (its own status code) and the others answer 424;
- `query_items`: a small SQL subset (SELECT [TOP n] * FROM c [WHERE a AND b ...]
  [ORDER BY c.f [ASC|DESC]]) with =, !=, <, <=, >, >=, CONTAINS, ARRAY_CONTAINS and
  STARTSWITH; undefined properties never match and are left out of ORDER BY, as in Cosmos;
  a query without a partition key needs `enable_cross_partition_query=True`;
- per-item `ttl` with the container's `default_ttl` (expired items are invisible);
- `fail_next(status)` injects throttling (429) or unavailability (503) for the next call.
"""

from __future__ import annotations

import copy
import itertools
import operator
import re
import threading
import time
from typing import Any

from azure.core import MatchConditions
from azure.cosmos import exceptions

_BAD_ID = re.compile(r"[/\\?#]")
MAX_BATCH_OPERATIONS = 100
_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _error(status: int, message: str) -> exceptions.CosmosHttpResponseError:
    if status == 404:
        return exceptions.CosmosResourceNotFoundError(status_code=404, message=message)
    if status == 409:
        return exceptions.CosmosResourceExistsError(status_code=409, message=message)
    if status == 412:
        return exceptions.CosmosAccessConditionFailedError(status_code=412, message=message)
    return exceptions.CosmosHttpResponseError(status_code=status, message=message)


class _Query:
    """Parses and evaluates the SQL subset. Raises a 400 on anything else, so a query the
    fake does not understand fails loudly instead of matching silently."""

    _SELECT = re.compile(
        r"^\s*SELECT\s+(?:TOP\s+(?P<top>\d+|@\w+)\s+)?\*\s+FROM\s+c"
        r"(?:\s+WHERE\s+(?P<where>.+?))?"
        r"(?:\s+ORDER\s+BY\s+c\.(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?\s*$",
        re.IGNORECASE | re.DOTALL,
    )
    _TERM = re.compile(
        r"^(?:c\.(?P<f>\w+)\s*(?P<op>=|!=|<=|>=|<|>)\s*(?P<v>.+)"
        r"|(?P<fn>CONTAINS|STARTSWITH)\(\s*c\.(?P<ff>\w+)\s*,\s*(?P<fv>[^)]+)\)"
        r"|ARRAY_CONTAINS\(\s*(?P<av>[^,]+)\s*,\s*c\.(?P<af>\w+)\s*\))$",
        re.IGNORECASE,
    )

    def __init__(self, text: str, parameters: list[dict[str, Any]] | None) -> None:
        self.params = {p["name"]: p["value"] for p in parameters or []}
        m = self._SELECT.match(text)
        if not m:
            raise _error(400, f"fake cosmos: unsupported query {text!r}")
        self.top = None if m["top"] is None else int(self._value(m["top"]))
        self.order = m["order"]
        self.descending = (m["dir"] or "ASC").upper() == "DESC"
        self.terms = []
        if m["where"]:
            for raw in re.split(r"\s+AND\s+", m["where"].strip(), flags=re.IGNORECASE):
                t = self._TERM.match(raw.strip())
                if not t:
                    raise _error(400, f"fake cosmos: unsupported condition {raw!r}")
                self.terms.append(t)

    def _value(self, token: str) -> Any:
        token = token.strip()
        if token.startswith("@"):
            if token not in self.params:
                raise _error(400, f"query parameter {token} not supplied")
            return self.params[token]
        if token.startswith("'") and token.endswith("'"):
            return token[1:-1]
        if token.lower() in ("true", "false"):
            return token.lower() == "true"
        try:
            return int(token)
        except ValueError as e:
            raise _error(400, f"fake cosmos: unsupported literal {token!r}") from e

    @staticmethod
    def _comparable(a: Any, b: Any) -> bool:
        # Cosmos compares only values of the same JSON type; otherwise the result is undefined.
        if isinstance(a, bool) or isinstance(b, bool):
            return isinstance(a, bool) and isinstance(b, bool)
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))) or type(a) is type(b)

    def matches(self, doc: dict[str, Any]) -> bool:
        for t in self.terms:
            if t["f"]:
                if t["f"] not in doc:
                    return False
                a, b = doc[t["f"]], self._value(t["v"])
                if not self._comparable(a, b):
                    return False
                if not _OPS[t["op"]](a, b):
                    return False
            elif t["fn"]:
                a, b = doc.get(t["ff"]), self._value(t["fv"])
                if not (isinstance(a, str) and isinstance(b, str)):
                    return False
                if not (b in a if t["fn"].upper() == "CONTAINS" else a.startswith(b)):
                    return False
            else:
                arr = self._value(t["av"])
                if not isinstance(arr, list) or t["af"] not in doc or doc[t["af"]] not in arr:
                    return False
        return True

    def run(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [d for d in docs if self.matches(d)]
        if self.order:
            out = [d for d in out if d.get(self.order) is not None]
            out.sort(key=lambda d: d[self.order], reverse=self.descending)
        if self.top is not None:
            out = out[: self.top]
        return out


class FakeContainer:
    def __init__(self, partition_key_path: str = "/pk", *, default_ttl: int | None = -1) -> None:
        if not partition_key_path.startswith("/") or "/" in partition_key_path[1:]:
            raise ValueError("the fake supports one top-level partition key path like /pk")
        self.pk_field = partition_key_path[1:]
        self.default_ttl = default_ttl  # None: TTL off; -1: on, items expire only with their own ttl
        self._items: dict[tuple[Any, str], dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._etags = itertools.count(1)
        self._failures: list[int] = []
        self.calls: list[str] = []  # operation names, in order (tests assert round trips)

    # -- test hooks --------------------------------------------------------
    def fail_next(self, status: int, times: int = 1) -> None:
        self._failures.extend([status] * times)

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if self._failures:
            raise _error(self._failures.pop(0), f"injected failure on {name}")

    # -- helpers ------------------------------------------------------------
    def _alive(self, doc: dict[str, Any]) -> bool:
        if self.default_ttl is None:
            return True
        ttl = doc.get("ttl", self.default_ttl)
        return ttl is None or ttl == -1 or doc["_ts"] + ttl > time.time()

    def _get(self, pk: Any, item_id: str) -> dict[str, Any] | None:
        doc = self._items.get((pk, item_id))
        return doc if doc is not None and self._alive(doc) else None

    def _stamp(self, body: dict[str, Any]) -> dict[str, Any]:
        item_id = body.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise _error(400, "an item needs a non-empty string id")
        if _BAD_ID.search(item_id):
            raise _error(400, f"id {item_id!r} contains one of / \\ ? #")
        if self.pk_field not in body:
            raise _error(400, f"item {item_id!r} lacks the partition key /{self.pk_field}")
        doc = copy.deepcopy({k: v for k, v in body.items() if not k.startswith("_")})
        doc["_etag"] = f'"{next(self._etags):08x}"'
        doc["_ts"] = int(time.time())
        return doc

    def _check_etag(self, doc: dict[str, Any], etag: str | None, match_condition: Any) -> None:
        if match_condition == MatchConditions.IfNotModified and doc["_etag"] != etag:
            raise _error(412, "the etag does not match (the item changed)")

    def _apply_patch(self, doc: dict[str, Any], ops: list[dict[str, Any]], predicate: str | None) -> dict[str, Any]:
        if predicate is not None:
            text = predicate.strip()
            if not text.upper().startswith("FROM C"):
                raise _error(400, f"filter predicate must start with FROM c: {predicate!r}")
            if not _Query("SELECT * " + text, None).matches(doc):
                raise _error(412, "the filter predicate did not match")
        new = copy.deepcopy(doc)
        for op in ops:
            path = op["path"]
            if path.count("/") != 1:
                raise _error(400, "the fake patches top-level properties only")
            name = path[1:]
            if name in ("id", self.pk_field):
                raise _error(400, f"cannot patch {path}")
            kind = op["op"]
            if kind in ("set", "add"):
                new[name] = op["value"]
            elif kind == "replace":
                if name not in new:
                    raise _error(400, f"replace of missing property {path}")
                new[name] = op["value"]
            elif kind == "remove":
                if name not in new:
                    raise _error(400, f"remove of missing property {path}")
                del new[name]
            elif kind == "incr":
                if not isinstance(new.get(name, 0), (int, float)):
                    raise _error(400, f"incr of non-number {path}")
                new[name] = new.get(name, 0) + op["value"]
            else:
                raise _error(400, f"unknown patch op {kind!r}")
        return new

    # -- ContainerProxy surface ------------------------------------------------
    def read_item(self, item: str, partition_key: Any, **_: Any) -> dict[str, Any]:
        with self._lock:
            self._enter("read_item")
            doc = self._get(partition_key, item)
            if doc is None:
                raise _error(404, f"item {item!r} not found in partition {partition_key!r}")
            return copy.deepcopy(doc)

    def create_item(self, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        with self._lock:
            self._enter("create_item")
            doc = self._stamp(body)
            key = (doc[self.pk_field], doc["id"])
            if self._get(*key) is not None:
                raise _error(409, f"item {doc['id']!r} already exists")
            self._items[key] = doc
            return copy.deepcopy(doc)

    def upsert_item(self, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        with self._lock:
            self._enter("upsert_item")
            doc = self._stamp(body)
            self._items[(doc[self.pk_field], doc["id"])] = doc
            return copy.deepcopy(doc)

    def replace_item(
        self, item: str, body: dict[str, Any], *, etag: str | None = None, match_condition: Any = None, **_: Any
    ) -> dict[str, Any]:
        with self._lock:
            self._enter("replace_item")
            doc = self._stamp(body)
            old = self._get(doc[self.pk_field], item)
            if old is None:
                raise _error(404, f"item {item!r} not found")
            self._check_etag(old, etag, match_condition)
            self._items[(doc[self.pk_field], item)] = doc
            return copy.deepcopy(doc)

    def delete_item(
        self, item: str, partition_key: Any, *, etag: str | None = None, match_condition: Any = None, **_: Any
    ) -> None:
        with self._lock:
            self._enter("delete_item")
            old = self._get(partition_key, item)
            if old is None:
                raise _error(404, f"item {item!r} not found")
            self._check_etag(old, etag, match_condition)
            del self._items[(partition_key, item)]

    def patch_item(
        self,
        item: str,
        partition_key: Any,
        patch_operations: list[dict[str, Any]],
        *,
        filter_predicate: str | None = None,
        etag: str | None = None,
        match_condition: Any = None,
        **_: Any,
    ) -> dict[str, Any]:
        with self._lock:
            self._enter("patch_item")
            old = self._get(partition_key, item)
            if old is None:
                raise _error(404, f"item {item!r} not found")
            self._check_etag(old, etag, match_condition)
            new = self._stamp(self._apply_patch(old, patch_operations, filter_predicate))
            self._items[(partition_key, item)] = new
            return copy.deepcopy(new)

    def query_items(
        self,
        query: str,
        parameters: list[dict[str, Any]] | None = None,
        *,
        partition_key: Any = None,
        enable_cross_partition_query: bool | None = None,
        **_: Any,
    ) -> list[dict[str, Any]]:
        with self._lock:
            self._enter("query_items")
            q = _Query(query, parameters)
            if partition_key is None and not enable_cross_partition_query:
                raise _error(400, "cross-partition query without enable_cross_partition_query=True")
            docs = [
                d
                for (pk, _id), d in self._items.items()
                if (partition_key is None or pk == partition_key) and self._alive(d)
            ]
            return [copy.deepcopy(d) for d in q.run(docs)]

    def execute_item_batch(self, batch_operations: list[tuple], partition_key: Any, **_: Any) -> list[dict[str, Any]]:
        with self._lock:
            self._enter("execute_item_batch")
            if not batch_operations:
                raise _error(400, "a batch needs at least one operation")
            if len(batch_operations) > MAX_BATCH_OPERATIONS:
                raise _error(400, f"a batch takes at most {MAX_BATCH_OPERATIONS} operations")
            staged = dict(self._items)  # copy-on-write: nothing lands unless every operation succeeds
            results: list[dict[str, Any]] = []
            for index, op in enumerate(batch_operations):
                kind, args = op[0].lower(), op[1]
                kwargs = op[2] if len(op) > 2 else {}
                # Like the SDK's _format_batch_operations: the options are popped out of the
                # caller's dict, so a batch list reused for a retry has lost its conditions.
                kwargs = {
                    k: kwargs.pop(k) for k in ("filter_predicate", "if_match_etag", "if_none_match_etag") if k in kwargs
                }
                try:
                    results.append(self._batch_op(staged, partition_key, kind, args, kwargs))
                except exceptions.CosmosHttpResponseError as e:
                    responses = [{"statusCode": 424} for _ in batch_operations]
                    responses[index] = {"statusCode": e.status_code}
                    raise exceptions.CosmosBatchOperationError(
                        error_index=index,
                        headers={},
                        status_code=e.status_code,
                        message=f"operation {index} ({kind}) failed: {e.http_error_message}",
                        operation_responses=responses,
                    ) from None
            self._items = staged
            return results

    def _batch_op(self, staged: dict, pk: Any, kind: str, args: tuple, kwargs: dict) -> dict[str, Any]:
        def current(item_id: str) -> dict[str, Any] | None:
            doc = staged.get((pk, item_id))
            return doc if doc is not None and self._alive(doc) else None

        def check_if_match(doc: dict[str, Any]) -> None:
            if kwargs.get("if_match_etag") is not None and doc["_etag"] != kwargs["if_match_etag"]:
                raise _error(412, "if_match_etag does not match")

        if kind in ("create", "upsert", "replace"):
            body = args[-1]
            if body.get(self.pk_field) != pk:
                raise _error(400, "every operation of a batch must target the batch's partition key")
            doc = self._stamp(body)
            old = current(doc["id"])
            if kind == "create" and old is not None:
                raise _error(409, f"item {doc['id']!r} already exists")
            if kind == "replace":
                if old is None:
                    raise _error(404, f"item {args[0]!r} not found")
                check_if_match(old)
            staged[(pk, doc["id"])] = doc
            return {"statusCode": 201 if kind == "create" else 200, "resourceBody": copy.deepcopy(doc)}
        old = current(args[0])
        if old is None:
            raise _error(404, f"item {args[0]!r} not found")
        check_if_match(old)
        if kind == "read":
            return {"statusCode": 200, "resourceBody": copy.deepcopy(old)}
        if kind == "delete":
            del staged[(pk, args[0])]
            return {"statusCode": 204}
        if kind == "patch":
            doc = self._stamp(self._apply_patch(old, args[1], kwargs.get("filter_predicate")))
            staged[(pk, args[0])] = doc
            return {"statusCode": 200, "resourceBody": copy.deepcopy(doc)}
        raise _error(400, f"unknown batch operation {kind!r}")
