"""A fake Firestore (native mode) client: the google-cloud-firestore surface the store uses.

It runs the real SDK's `@firestore.transactional` decorator (the fake transaction speaks
its private begin/commit/rollback protocol), so the store's retry path is the real one.
Faithful where the store depends on it:
- documents addressed by slash paths; ids may not contain "/";
- `create` fails with AlreadyExists, `update` and `delete(option=exists)` with NotFound,
  a `last_update_time` precondition that no longer holds with FailedPrecondition, checked
  at commit; a batch or transaction commits all writes or none, at most 500; snapshots
  carry a per-write `update_time`;
- transactions: every read must come before the first write (ReadAfterWriteError, as the
  SDK raises); commit is optimistic: if a document the transaction read changed meanwhile,
  the commit raises Aborted and the real decorator re-runs the function (then ValueError);
- queries: where(filter=FieldFilter(...)) with == < <= > >= in array_contains; order_by
  with direction; start_after({field: value}); limit; documents missing an order_by field
  are left out; ties are ordered by document path; a query that combines filters with an
  order on another field needs a declared composite index (FailedPrecondition otherwise),
  so the store's index list (datamodel.FIRESTORE_INDEXES) is checked by every test;
- `fail_next(exc)` injects a failure (e.g. ServiceUnavailable) into the next call.
"""

from __future__ import annotations

import copy
import itertools
import operator
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud.firestore_v1._helpers import READ_AFTER_WRITE_ERROR, ReadAfterWriteError

MAX_WRITES = 500
_OPS = {
    "==": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "!=": operator.ne,
    "in": lambda a, b: a in b,
    "array_contains": lambda a, b: isinstance(a, list) and b in a,
}


class _Db:
    def __init__(self, indexes: Iterable[Any]) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, int] = {}
        self.clock = itertools.count(1)
        self.lock = threading.RLock()
        self.indexes = list(indexes)
        self.failures: list[Exception] = []
        self.calls: list[str] = []

    def enter(self, name: str) -> None:
        self.calls.append(name)
        if self.failures:
            raise self.failures.pop(0)


def _version_time(version: int) -> datetime:
    # The real service's update_time is unique per document write; the version clock is too.
    return datetime.fromtimestamp(1_700_000_000 + version / 1_000_000, UTC)


class Snapshot:
    def __init__(self, ref: DocumentReference, data: dict[str, Any] | None, version: int = 0) -> None:
        self.reference = ref
        self.id = ref.id
        self._data = data
        self.exists = data is not None
        self.update_time = _version_time(version) if data is not None else None

    def to_dict(self) -> dict[str, Any] | None:
        return copy.deepcopy(self._data)

    def get(self, field: str) -> Any:
        if self._data is None or field not in self._data:
            raise KeyError(field)
        return copy.deepcopy(self._data[field])


def _check_read(transaction: Any) -> None:
    if transaction is not None and transaction._write_pbs:
        raise ReadAfterWriteError(READ_AFTER_WRITE_ERROR)


class DocumentReference:
    def __init__(self, client: FakeFirestoreClient, path: str) -> None:
        self._client = client
        self.path = path
        self.id = path.rsplit("/", 1)[-1]

    def collection(self, name: str) -> CollectionReference:
        return CollectionReference(self._client, f"{self.path}/{name}")

    def get(self, transaction: Any = None, **_: Any) -> Snapshot:
        return next(iter(self._client.get_all([self], transaction=transaction)))

    def _write(self, kind: str, data: Any = None, **kw: Any) -> None:
        batch = self._client.batch()
        getattr(batch, kind)(self, *([data] if data is not None else []), **kw)
        batch.commit()

    def create(self, document_data: dict[str, Any]) -> None:
        self._write("create", document_data)

    def set(self, document_data: dict[str, Any], merge: bool = False) -> None:
        self._write("set", document_data, merge=merge)

    def update(self, field_updates: dict[str, Any], **_: Any) -> None:
        self._write("update", field_updates)

    def delete(self, option: Any = None, **_: Any) -> None:
        self._write("delete", option=option)


class Query:
    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"

    def __init__(self, client: FakeFirestoreClient, parent: str, filters=(), orders=(), after=None, limit=None):
        self._client, self._parent = client, parent
        self._filters, self._orders, self._after, self._limit = tuple(filters), tuple(orders), after, limit

    def _copy(self, **kw: Any) -> Query:
        args = {"filters": self._filters, "orders": self._orders, "after": self._after, "limit": self._limit} | kw
        return Query(self._client, self._parent, **args)

    def where(self, *, filter: Any) -> Query:
        if filter.op_string not in _OPS:
            raise ValueError(f"fake firestore: unsupported operator {filter.op_string!r}")
        return self._copy(filters=(*self._filters, (filter.field_path, filter.op_string, filter.value)))

    def order_by(self, field_path: str, direction: str = ASCENDING) -> Query:
        if direction not in (self.ASCENDING, self.DESCENDING):
            raise ValueError(f"bad direction {direction!r}")
        return self._copy(orders=(*self._orders, (field_path, direction)))

    def start_after(self, document_fields: dict[str, Any]) -> Query:
        if not self._orders:
            raise ValueError("start_after needs order_by first (the fake, like a cursor, follows the order)")
        missing = [f for f, _ in self._orders if f not in document_fields]
        if missing:
            raise ValueError(f"cursor lacks order_by fields {missing}")
        return self._copy(after=tuple(document_fields[f] for f, _ in self._orders))

    def limit(self, count: int) -> Query:
        return self._copy(limit=count)

    def _check_index(self) -> None:
        eq = list(dict.fromkeys(f for f, op, _ in self._filters if op in ("==", "in", "array_contains")))
        ineq = {f for f, op, _ in self._filters if f not in eq}
        if ineq and (not self._orders or self._orders[0][0] not in ineq):
            raise gexc.InvalidArgument("an inequality filter's field must be the first order_by")
        ordered = [f for f, _ in self._orders]
        if not self._orders or (not self._filters and len(self._orders) == 1):
            return  # equality-only (index merging) and single-field orders use automatic indexes
        if all(f in eq for f in ordered):
            return  # ordering by an equality-filtered field is trivial
        wanted = [(f, "ASCENDING") for f in eq if f not in ordered] + list(self._orders)
        if len(wanted) == 1:
            return  # filters and order on one field: its automatic single-field index serves both
        group = self._parent.rsplit("/", 1)[-1]
        for ix in self._client._db.indexes:
            if ix.collection_group == group and [(f.field, f.order) for f in ix.fields] == wanted:
                return
        raise gexc.FailedPrecondition(
            f"The query requires an index on {group}: {wanted} (declare it in FIRESTORE_INDEXES)"
        )

    def stream(self, transaction: Any = None, **_: Any):
        db = self._client._db
        _check_read(transaction)
        with db.lock:
            db.enter("query")
            self._check_index()
            prefix = self._parent + "/"
            rows = [
                (p, d)
                for p, d in db.docs.items()
                if p.startswith(prefix)
                and "/" not in p[len(prefix) :]
                and all(f in d and _OPS[op](d[f], v) for f, op, v in self._filters)
                and all(f in d for f, _ in self._orders)
            ]
            for field, direction in reversed(self._orders or (("__name__", "ASCENDING"),)):
                rows.sort(
                    key=lambda r, f=field: r[0] if f == "__name__" else r[1][f], reverse=direction == "DESCENDING"
                )
            if self._after is not None:
                rows = [r for r in rows if self._is_after(r[1])]
            if self._limit is not None:
                rows = rows[: self._limit]
            if transaction is not None:
                for p, _d in rows:
                    transaction._reads.setdefault(p, db.versions.get(p, 0))
            snaps = [Snapshot(DocumentReference(self._client, p), copy.deepcopy(d)) for p, d in rows]
        return iter(snaps)

    def _is_after(self, doc: dict[str, Any]) -> bool:
        for (field, direction), cursor in zip(self._orders, self._after, strict=True):
            if doc[field] == cursor:
                continue
            return (doc[field] > cursor) if direction == "ASCENDING" else (doc[field] < cursor)
        return False  # equal on every order field: the cursor document itself (or a tie)


class CollectionReference(Query):
    def __init__(self, client: FakeFirestoreClient, path: str) -> None:
        super().__init__(client, path)
        self.id = path.rsplit("/", 1)[-1]

    def document(self, document_id: str) -> DocumentReference:
        if not document_id or "/" in document_id or document_id in (".", ".."):
            raise ValueError(f"invalid document id {document_id!r}")
        return DocumentReference(self._client, f"{self._parent}/{document_id}")


class _ExistsOption:
    def __init__(self, exists: bool) -> None:
        self._exists = exists


class _LastUpdateOption:
    def __init__(self, last_update_time: datetime) -> None:
        self._last_update_time = last_update_time


class WriteBatch:
    def __init__(self, client: FakeFirestoreClient) -> None:
        self._client = client
        self._write_pbs: list[tuple[str, str, Any, Any]] = []

    def create(self, ref: DocumentReference, data: dict[str, Any]) -> None:
        self._write_pbs.append(("create", ref.path, copy.deepcopy(data), None))

    def set(self, ref: DocumentReference, data: dict[str, Any], merge: bool = False) -> None:
        self._write_pbs.append(("merge" if merge else "set", ref.path, copy.deepcopy(data), None))

    def update(self, ref: DocumentReference, data: dict[str, Any], option: Any = None) -> None:
        self._write_pbs.append(("update", ref.path, copy.deepcopy(data), option))

    def delete(self, ref: DocumentReference, option: Any = None) -> None:
        self._write_pbs.append(("delete", ref.path, None, option))

    def _apply(self, reads: dict[str, int] | None = None) -> None:
        db = self._client._db
        if len(self._write_pbs) > MAX_WRITES:
            raise gexc.InvalidArgument(f"maximum {MAX_WRITES} writes allowed per request")
        with db.lock:
            db.enter("commit")
            for path, version in (reads or {}).items():
                if db.versions.get(path, 0) != version:
                    raise gexc.Aborted(f"transaction lost a race on {path}")
            docs = dict(db.docs)
            for kind, path, data, option in self._write_pbs:
                if isinstance(option, _LastUpdateOption) and (
                    path not in docs or _version_time(db.versions.get(path, 0)) != option._last_update_time
                ):
                    raise gexc.FailedPrecondition(f"the stored version and the required version do not match: {path}")
                if kind == "create" and path in docs:
                    raise gexc.AlreadyExists(f"Document already exists: {path}")
                if kind == "update" and path not in docs:
                    raise gexc.NotFound(f"No document to update: {path}")
                if kind == "delete" and isinstance(option, _ExistsOption) and option._exists and path not in docs:
                    raise gexc.NotFound(f"No document to delete: {path}")
                if kind == "delete":
                    docs.pop(path, None)
                elif kind in ("update", "merge"):
                    docs[path] = {**docs.get(path, {}), **data}
                else:
                    docs[path] = data
            touched = {p for _, p, _, _ in self._write_pbs}
            db.docs = docs
            for p in touched:
                db.versions[p] = next(db.clock)

    def commit(self) -> list[Any]:
        self._apply()
        n = len(self._write_pbs)
        self._write_pbs = []
        return [None] * n


class FakeTransaction(WriteBatch):
    """Speaks the private protocol of google.cloud.firestore_v1.transaction._Transactional."""

    _ids = itertools.count(1)

    def __init__(self, client: FakeFirestoreClient, max_attempts: int = 5) -> None:
        super().__init__(client)
        self._max_attempts = max_attempts
        self._read_only = False
        self._id: bytes | None = None
        self._reads: dict[str, int] = {}

    def _clean_up(self) -> None:
        self._write_pbs, self._id, self._reads = [], None, {}

    def _begin(self, retry_id: bytes | None = None) -> None:
        if self._id is not None:
            raise ValueError("transaction already in progress")
        self._id = str(next(self._ids)).encode()

    def _rollback(self) -> None:
        self._clean_up()

    def _commit(self) -> list[Any]:
        if self._id is None:
            raise ValueError("transaction not in progress")
        try:
            self._apply(self._reads)
        finally:
            n = len(self._write_pbs)
            self._clean_up()
        return [None] * n

    @property
    def in_progress(self) -> bool:
        return self._id is not None


class FakeFirestoreClient:
    def __init__(self, indexes: Iterable[Any] = ()) -> None:
        self._db = _Db(indexes)

    def fail_next(self, exc: Exception, times: int = 1) -> None:
        self._db.failures.extend([exc] * times)

    @property
    def calls(self) -> list[str]:
        return self._db.calls

    def collection(self, name: str) -> CollectionReference:
        return CollectionReference(self, name)

    def document(self, path: str) -> DocumentReference:
        return DocumentReference(self, path)

    def batch(self) -> WriteBatch:
        return WriteBatch(self)

    def transaction(self, max_attempts: int = 5, read_only: bool = False) -> FakeTransaction:
        return FakeTransaction(self, max_attempts)

    def write_option(self, exists: bool | None = None, last_update_time: datetime | None = None) -> Any:
        if last_update_time is not None:
            return _LastUpdateOption(last_update_time)
        return _ExistsOption(bool(exists))

    def get_all(self, references: Iterable[DocumentReference], transaction: Any = None, **_: Any):
        _check_read(transaction)
        db = self._db
        with db.lock:
            db.enter("get_all")
            out = []
            for ref in references:
                if transaction is not None:
                    transaction._reads.setdefault(ref.path, db.versions.get(ref.path, 0))
                data = db.docs.get(ref.path)
                out.append(Snapshot(ref, copy.deepcopy(data), db.versions.get(ref.path, 0)))
        return iter(out)
