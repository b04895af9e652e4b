"""The AWS emulator: moto, made to behave like the services it stands for, as its own
process (`python -m functions.local.emulator --port N`) or inside the stack's process.

Run apart (the default), moto gets a core of its own instead of competing for one GIL with
the gateway, the handlers and their SDK clients. Either way `prepare()` patches moto where
it differs from AWS in ways the shop would notice:

- isolation: DynamoDB applies each conditional write and transaction atomically; moto
  does not (``serialize_writes``);
- cost: moto's Query, TransactWriteItems, Cognito user lookup and request dispatch cost
  grows with the data or the package; the real services' does not (``fast_queries``,
  ``fast_transactions``, ``fast_user_lookup``, ``fast_dispatch``; same answers,
  tests/unit/test_local_emulator.py);
- secrecy: moto signs identity tokens with a key that ships in its package
  (``fresh_signing_key``).

The process also answers ``GET /_shop/ses/sent``: the e-mails SES "sent", which is what
the stack's outbox shows.

moto is imported inside the functions that use it: the stack's own process imports this
module too (for its constants, and to run moto in-process with SHOP_LOCAL_EMULATOR=thread),
and in the default mode it never needs moto at all.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import secrets
import signal
import threading
import time
import types
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .emulator_server import Environ, StartResponse, WsgiApp, make_server

if TYPE_CHECKING:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import Table

REGION = "us-east-1"
SENT_PATH = "/_shop/ses/sent"
# DynamoDB's write isolation, which moto lacks: one lock around every moto write. Re-entrant:
# a patched transaction holds it around moto's own (also locked) transact_write_items.
WRITE_LOCK = threading.RLock()
_WRITES = ("transact_write_items", "update_item", "put_item", "delete_item", "batch_write_item")
# Marks on patched functions, one per kind of patch (a transaction is both sped up and
# serialized, in either order): patching twice keeps the first patch.
_FAST, _SERIALIZED = "_shop_fast", "_shop_serialized"
F = TypeVar("F", bound=Callable[..., Any])


def _is_patched(function: object, mark: str = _FAST) -> bool:
    return bool(getattr(function, mark, False))


def _patch(owner: object, name: str, function: F, mark: str = _FAST) -> F:
    """Replace owner.name with `function`, marked with `mark` and every mark of the one it wraps."""
    for earlier in (_FAST, _SERIALIZED):
        if _is_patched(getattr(owner, name, None), earlier):
            setattr(function, earlier, True)
    setattr(function, mark, True)
    setattr(owner, name, function)
    return function


def sent_emails() -> list[dict[str, Any]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [
        {"source": getattr(m, "source", None), "to": to, "subject": m.subject, "text": m.body}
        for m in list(backend.sent_messages)
        for to in m.destinations.get("ToAddresses", [])
    ]


def build_app() -> WsgiApp:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SENT_PATH:
            body = json.dumps(sent_emails()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return moto_app(environ, start_response)

    return app


def serialize_writes() -> None:
    """Give moto's DynamoDB the isolation the real service has.

    DynamoDB applies each conditional write and each transaction atomically; moto checks
    conditions and then writes without a lock, so two threads can both pass `stock >= 1`.
    One lock around its write operations restores the real semantics locally.
    """
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name, None)
        if original is None or _is_patched(original, _SERIALIZED):
            continue

        def locked(self: DynamoDBBackend, *args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with WRITE_LOCK:
                return __original(self, *args, **kwargs)

        _patch(DynamoDBBackend, name, locked, _SERIALIZED)


_query_scope = threading.local()
# moto annotates Table.items as a dict of partitions, but a table without a sort key maps
# each hash key straight to its Item: read through this alias.
_TableItems = dict["DynamoType", Any]


def _items(table: Table) -> _TableItems:
    return table.items


def _query_candidates(table: Table, hash_key: DynamoType | None, index_name: str | None) -> list[Item]:
    """The items a Query can match, in no order: its partition for a table Query, all for an index."""
    items = _items(table)
    if index_name is None and hash_key is not None:
        partition = items.get(hash_key)  # .get: the items dict is a defaultdict
        if partition is None:
            return []
        return list(partition.values()) if table.range_key_attr else [partition]
    if table.range_key_attr:
        return [item for hash_set in list(items.values()) for item in list(hash_set.values())]
    return list(items.values())


def fast_queries() -> None:
    """Make moto's Query cost what it returns, as DynamoDB's does, instead of the whole table.

    moto answers every Query by sorting *every item of the table* (``Table.all_items``) and
    then keeping the partition asked for, so with carts, orders and idempotency records
    piling up every read gets slower. A Query only needs its candidates, in any order (moto
    sorts the matches itself). Scans keep moto's sorted walk (their pagination relies on
    the order). Results are unchanged.
    """
    from moto.dynamodb.models.table import Table

    if _is_patched(Table.query):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def all_items(self: Table) -> Any:
        scope = getattr(_query_scope, "table", None)
        if scope is not None and scope[0] is self:
            return scope[1]
        return original_all_items(self)

    def query(self: Table, hash_key: DynamoType | None, range_comparison: str | None, range_objs: list[DynamoType],
              limit: int, exclusive_start_key: dict[str, Any], scan_index_forward: bool,
              projection_expressions: list[list[str]] | None, index_name: str | None = None,
              *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        _query_scope.table = (self, _query_candidates(self, hash_key, index_name))
        try:
            return original_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                  scan_index_forward, projection_expressions, index_name, *args, **kwargs)  # fmt: skip
        finally:
            _query_scope.table = None

    setattr(Table, "all_items", all_items)  # noqa: B010 - mypy refuses assigning to a method
    _patch(Table, "query", query)


def fast_user_lookup() -> None:
    """moto's Cognito finds a user by e-mail (the pool's username attribute) by flattening the
    attributes of every user in the pool, several times per sign-in (tokens, groups, claims),
    so each sign-in costs more with every user. Remember where each e-mail was found; a
    remembered user is returned only while still in the pool with that e-mail (anything
    else takes moto's own scan), so answers are unchanged."""
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

    original = CognitoIdpUserPool._get_user
    if _is_patched(original):
        return

    def matches(pool: CognitoIdpUserPool, user: CognitoIdpUser, username: str) -> bool:
        types = pool.extended_config.get("UsernameAttributes") or ()
        return pool.users.get(user.username) is user and any(user.attribute_lookup.get(t) == username for t in types)

    def _get_user(self: CognitoIdpUserPool, username: str) -> CognitoIdpUser:
        if not self.extended_config.get("UsernameAttributes"):
            return original(self, username)
        aliases: dict[str, CognitoIdpUser] = self.__dict__.setdefault("_shop_aliases", {})
        user = aliases.get(username)
        if user is not None and matches(self, user, username):
            return user
        user = original(self, username)
        if user is not None and matches(self, user, username):
            aliases[username] = user
        return user

    _patch(CognitoIdpUserPool, "_get_user", _get_user)


# (table, hash key, range key, a copy of the item or None): one item a transaction touches
_Backup = tuple["Table", "DynamoType", "DynamoType | None", "Item | dict[DynamoType, Item] | None"]
_txn_scope = threading.local()


def _backups(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Backup]:
    """A copy of every item the transaction names, as it is before the transaction."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    out: list[_Backup] = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables[op["TableName"]]
        key = op["Item"] if op_type == "Put" else op["Key"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        partition = _items(table).get(hash_key)
        item = None if partition is None else partition.get(range_key) if range_key is not None else partition
        out.append((table, hash_key, range_key, copy.deepcopy(item)))
    return out


def _restore(backups: list[_Backup]) -> None:
    for table, hash_key, range_key, item in reversed(backups):
        items = _items(table)
        if range_key is None:
            if item is None:
                items.pop(hash_key, None)
            else:
                items[hash_key] = item
            continue
        partition = items.get(hash_key)
        if item is not None:
            items[hash_key][range_key] = item
        elif partition is not None:
            partition.pop(range_key, None)
            if not partition:
                items.pop(hash_key, None)


def _deepcopy_except_tables(value: object, memo: dict[int, Any] | None = None) -> object:
    """moto's `copy.deepcopy`, except that during a patched transaction a table's "backup"
    is the live table itself: `_backups` saved the items that matter."""
    from moto.dynamodb.models.table import Table

    if isinstance(value, Table) and getattr(_txn_scope, "items_backed_up", False):
        return value
    return copy.deepcopy(value, memo)


def fast_transactions() -> None:
    """moto backs up *every table a transaction names* (``copy.deepcopy`` of the whole table)
    before each TransactWriteItems, to restore it on failure, so every checkout costs more as
    the table grows. Back up only the items the transaction touches instead, and restore
    those when it fails; the transaction runs exactly as before, and the backup and the
    transaction hold the write lock together, so nothing interleaves."""
    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if _is_patched(original):
        return
    # moto's module reads `copy.deepcopy` at call time: give it one that skips tables
    setattr(ddb_models, "copy", types.SimpleNamespace(**{**vars(copy), "deepcopy": _deepcopy_except_tables}))  # noqa: B010

    def transact_write_items(
        self: DynamoDBBackend, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        with WRITE_LOCK:
            try:
                backups = _backups(self, transact_items)
            except Exception:  # malformed or unknown table: moto's own path reports it
                return original(self, transact_items, *args, **kwargs)
            _txn_scope.items_backed_up = True
            try:
                return original(self, transact_items, *args, **kwargs)
            except BaseException:
                _restore(backups)
                raise
            finally:
                _txn_scope.items_backed_up = False

    _patch(DynamoDBBackend, "transact_write_items", transact_write_items)


def fast_dispatch() -> None:
    """moto's server picks the backend for each request by listing its own package directory
    (a system call per entry) inside a process-wide lock. The list does not change while
    the process runs: list it once."""
    from moto import backends

    if _is_patched(backends.list_of_moto_modules):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> Iterable[str]:
        return iter(modules)

    _patch(backends, "list_of_moto_modules", list_of_moto_modules)


def fresh_signing_key() -> str:
    """Sign Cognito's tokens with an RSA key made for this run; return its key id.

    moto signs every token with one key whose private half ships inside the moto package
    (kid ``dummy``), so anyone could mint a token the local gateway accepts, admin group
    included. Here every user pool signs with a key generated when the emulator starts,
    under a random key id, and the pool's JWKS serves only that key's public half.
    """
    from joserfc import jwk
    from joserfc import jwt as joserfc_jwt
    from moto.cognitoidp import models
    from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

    current: str | None = getattr(models.CognitoIdpUserPool.__init__, "_shop_kid", None)
    if current:
        return current
    kid = "local-" + secrets.token_hex(8)
    key = jwk.RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"}, private=True)
    original_init = models.CognitoIdpUserPool.__init__

    def __init__(self: models.CognitoIdpUserPool, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.json_web_key = key

    def encode(
        header: dict[str, Any], claims: dict[str, Any], signing_key: jwk.RSAKey, *args: Any, **kwargs: Any
    ) -> str:
        # moto's create_jwt names its packaged key ("dummy") whatever key it signs with
        return joserfc_jwt.encode({**header, "kid": signing_key.kid}, claims, signing_key, *args, **kwargs)

    setattr(__init__, "_shop_kid", kid)  # noqa: B010
    _patch(models.CognitoIdpUserPool, "__init__", __init__)
    setattr(models, "jwt", types.SimpleNamespace(**{**vars(joserfc_jwt), "encode": encode}))  # noqa: B010
    CognitoIdpJsonWebKeyResponse.json_web_key = json.dumps({"keys": [key.as_dict(private=False)]}).encode()
    return kid


def prepare() -> None:
    """What both emulator modes need before serving."""
    from werkzeug.serving import WSGIRequestHandler

    # Headers and body are two writes: with Nagle on, each SDK call waits for a delayed ACK.
    WSGIRequestHandler.disable_nagle_algorithm = True
    # One request per connection (moto's own server, in-process mode). After each response
    # werkzeug's development server drains the socket until EOF, assuming the connection
    # closes; on a kept-alive one a fast client's next request is swallowed and both sides
    # wait forever.
    WSGIRequestHandler.protocol_version = "HTTP/1.0"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    fast_transactions()
    serialize_writes()
    fast_queries()
    fast_user_lookup()
    fast_dispatch()
    fresh_signing_key()


def _exit_with_parent(pid: int) -> None:
    """A killed local stack (SIGKILL, a crashed test run) cannot stop its emulator: it stops itself."""

    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            if os.getppid() != pid:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)
    if args.parent_pid:
        _exit_with_parent(args.parent_pid)
    prepare()
    server = make_server(args.port, build_app())
    # os._exit: request threads stuck on half-closed connections must not keep it alive
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"emulator ready on 127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
