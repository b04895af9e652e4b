"""The AWS emulator (moto) as its own process: `python -m functions.local.emulator --port N`.

The local stack's gateway, handlers and SDK clients already keep one core busy; moto in
the same process competes with them for the GIL, which capped the load benchmark at about
one core. Run apart, the emulator gets the second core. It serves keep-alive connections
from one event-loop thread (``_EmulatorServer``), keeps the in-process mode's fixes
(serialized DynamoDB writes: moto has no write isolation; no Nagle delay), removes moto's
costs that grow with the data (``fast_queries``, ``fast_transactions``,
``fast_user_lookup``, ``fast_dispatch``: same answers, tests/unit/test_local_emulator.py),
signs identity tokens with a key of its own (``fresh_signing_key``), and adds one route, ``GET /_shop/ses/sent``, the e-mails SES "sent" (what
``LocalStack.outbox`` reads).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import queue
import selectors
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from .loopback import is_loopback_host

REGION = "us-east-1"
SENT_PATH = "/_shop/ses/sent"


def sent_emails() -> list[dict[str, Any]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [
        {"source": getattr(m, "source", None), "to": to, "subject": m.subject, "text": m.body}
        for m in list(backend.sent_messages)
        for to in m.destinations.get("ToAddresses", [])
    ]


def build_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ, start_response):
        if environ.get("PATH_INFO") == SENT_PATH:
            body = json.dumps(sent_emails()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return moto_app(environ, start_response)

    return app


_query_scope = threading.local()


def fast_queries() -> None:
    """Make moto's Query cost what it returns, as DynamoDB's does, instead of the whole table.

    moto (5.1) answers every Query by sorting *every item of the table* (``Table.all_items``)
    and then keeping the partition asked for. Under load the table fills with carts, orders
    and idempotency records, so each cart read, browse and checkout got slower as the run
    went on (~35 ms per Query at 5,000 items: the load benchmark's limit). A Query only needs
    its candidates, in any order (moto sorts the matches itself): the partition for a table
    Query (a dict lookup), every item unsorted for an index Query. Scans keep moto's sorted
    walk (their pagination relies on the order). Results are unchanged.
    """
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_shop_fast", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def candidates(table, hash_key, index_name) -> list:
        if index_name is None and hash_key is not None:
            partition = table.items.get(hash_key)  # .get: the items dict is a defaultdict
            if partition is None:
                return []
            return list(partition.values()) if table.range_key_attr else [partition]
        if table.range_key_attr:
            return [item for hash_set in list(table.items.values()) for item in list(hash_set.values())]
        return list(table.items.values())

    def all_items(self):
        scope = getattr(_query_scope, "table", None)
        if scope is not None and scope[0] is self:
            return scope[1]
        return original_all_items(self)

    def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
              projection_expressions, index_name=None, *args, **kwargs):  # fmt: skip
        _query_scope.table = (self, candidates(self, hash_key, index_name))
        try:
            return original_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                  scan_index_forward, projection_expressions, index_name, *args, **kwargs)  # fmt: skip
        finally:
            _query_scope.table = None

    query._shop_fast = True
    Table.query, Table.all_items = query, all_items


def fast_user_lookup() -> None:
    """moto's Cognito finds a user by e-mail (the pool's username attribute) by flattening the
    attributes of every user in the pool, several times per sign-in (tokens, groups, claims),
    so each sign-in cost grew with the number of users. Remember where each e-mail was found;
    a remembered user is returned only while still in the pool with that e-mail (anything
    else takes moto's own scan), so answers are unchanged."""
    from moto.cognitoidp.models import CognitoIdpUserPool

    original = CognitoIdpUserPool._get_user
    if getattr(original, "_shop_fast", False):
        return

    def matches(pool, user, username: str) -> bool:
        types = pool.extended_config.get("UsernameAttributes") or ()
        return pool.users.get(user.username) is user and any(user.attribute_lookup.get(t) == username for t in types)

    def _get_user(self, username: str):
        if not self.extended_config.get("UsernameAttributes"):
            return original(self, username)
        aliases = self.__dict__.setdefault("_shop_aliases", {})
        user = aliases.get(username)
        if user is not None and matches(self, user, username):
            return user
        user = original(self, username)
        if user is not None and matches(self, user, username):
            aliases[username] = user
        return user

    _get_user._shop_fast = True
    CognitoIdpUserPool._get_user = _get_user


_txn_scope = threading.local()


def fast_transactions() -> None:
    """moto backs up *every table a transaction names* (``copy.deepcopy`` of the whole table)
    before each TransactWriteItems, to restore on failure: each checkout cost grew with the
    table, and under the load benchmark these copies were half the emulator's CPU. Back up
    only the items the transaction touches instead, and restore those when it fails; the
    transaction runs exactly as before (under the write lock, so nothing interleaves)."""
    import copy as real_copy
    import types

    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    from .stack import _write_lock

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_shop_fast", False):
        return

    def deepcopy(x, memo=None):
        if isinstance(x, Table) and getattr(_txn_scope, "items_backed_up", False):
            return x  # "backup" = the live table; the touched items are restored below
        return real_copy.deepcopy(x, memo)

    ddb_models.copy = types.SimpleNamespace(**{**vars(real_copy), "deepcopy": deepcopy})

    def touched(self, transact_items) -> list[tuple[Any, Any, Any, Any]]:
        """(table, hash key, range key, copy of the item or None) for every item named."""
        out = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables[op["TableName"]]
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            partition = table.items.get(hash_key)
            item = None if partition is None else partition.get(range_key) if range_key is not None else partition
            out.append((table, hash_key, range_key, real_copy.deepcopy(item)))
        return out

    def restore(saved) -> None:
        for table, hash_key, range_key, item in reversed(saved):
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
                continue
            partition = table.items.get(hash_key)
            if item is not None:
                table.items[hash_key][range_key] = item
            elif partition is not None:
                partition.pop(range_key, None)
                if not partition:
                    table.items.pop(hash_key, None)

    def transact_write_items(self, transact_items, *args, **kwargs):
        with _write_lock:  # the backup and the transaction as one step (re-entrant: see serialize_emulator_writes)
            try:
                saved = touched(self, transact_items)
            except Exception:  # malformed or unknown table: moto's own path reports it
                return original(self, transact_items, *args, **kwargs)
            _txn_scope.items_backed_up = True
            try:
                return original(self, transact_items, *args, **kwargs)
            except BaseException:
                restore(saved)
                raise
            finally:
                _txn_scope.items_backed_up = False

    transact_write_items._shop_fast = True
    DynamoDBBackend.transact_write_items = transact_write_items


def fast_dispatch() -> None:
    """moto's server picks the backend for each request by listing its own package directory
    (``os.listdir`` + an ``isdir`` per entry, ~190 system calls), inside a process-wide lock.
    The list does not change while the process runs: list it once."""
    from moto import backends

    if getattr(backends.list_of_moto_modules, "_shop_cached", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules():
        return iter(modules)

    list_of_moto_modules._shop_cached = True
    backends.list_of_moto_modules = list_of_moto_modules


def fresh_signing_key() -> str:
    """Sign Cognito's tokens with an RSA key made for this run; return its key id.

    moto signs every token with one key whose private half ships inside the moto package
    (kid ``dummy``), so anyone could mint a token the local gateway accepts, admin group
    included. Here every user pool signs with a key generated when the emulator starts,
    under a random key id, and the pool's JWKS serves only that key's public half.
    """
    import secrets
    import types

    from joserfc import jwk
    from joserfc import jwt as joserfc_jwt
    from moto.cognitoidp import models
    from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

    current = getattr(models.CognitoIdpUserPool.__init__, "_shop_kid", None)
    if current:
        return current
    kid = "local-" + secrets.token_hex(8)
    key = jwk.RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"}, private=True)
    original_init = models.CognitoIdpUserPool.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.json_web_key = key

    def encode(header: dict, claims: dict, signing_key, *args, **kwargs) -> str:
        # moto's create_jwt names its packaged key ("dummy") whatever key it signs with
        return joserfc_jwt.encode({**header, "kid": signing_key.kid}, claims, signing_key, *args, **kwargs)

    __init__._shop_kid = kid
    models.CognitoIdpUserPool.__init__ = __init__
    models.jwt = types.SimpleNamespace(**{**vars(joserfc_jwt), "encode": encode})
    CognitoIdpJsonWebKeyResponse.json_web_key = json.dumps({"keys": [key.as_dict(private=False)]}).encode()
    return kid


def prepare() -> None:
    """What both emulator modes need before serving."""
    from werkzeug.serving import WSGIRequestHandler

    from .stack import serialize_emulator_writes

    # Headers and body are two writes: with Nagle on, each SDK call waits ~40 ms for a delayed ACK.
    WSGIRequestHandler.disable_nagle_algorithm = True
    # One request per connection. After each response werkzeug's dev server drains what is
    # left on the socket until EOF, assuming the connection closes; on a kept-alive one a
    # fast client's next request is swallowed and both sides wait forever (found when the
    # Nagle delay above stopped hiding the race).
    WSGIRequestHandler.protocol_version = "HTTP/1.0"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    fast_transactions()
    serialize_emulator_writes()
    fast_queries()
    fast_user_lookup()
    fast_dispatch()
    fresh_signing_key()


def _exit_with_parent(pid: int) -> None:
    """A killed local stack (SIGKILL, a crashed test run) cannot stop its emulator: it stops itself."""
    import threading
    import time

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


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """A WSGI request handler that keeps connections open (HTTP/1.1 keep-alive).

    werkzeug's development server answers every request with ``Connection: close`` (it
    cannot find the next request line when an application leaves a body unread), so every
    SDK call opened a TCP connection and the emulator started a thread for it: 7,500
    threads in 40 s of the load benchmark. Here the body is read in full before the
    application runs and the response is sent with its length, so the connection always
    stands at the next request and SDK clients reuse their pooled connections.
    """

    protocol_version = "HTTP/1.1"
    server_version = "shop-emulator"
    # Headers and body are two writes: with Nagle on, each SDK call waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # moto's per-request access log: not wanted
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537).strip():  # trailers, up to the blank line
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # the CRLF after each chunk
        length = self.headers.get("content-length", "0").strip() or "0"
        if not length.isdigit():
            raise ValueError("invalid Content-Length")
        return self.rfile.read(int(length)) if int(length) else b""

    def _environ(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        environ = {
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "SERVER_SOFTWARE": self.server_version, "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "", "PATH_INFO": unquote(path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": query, "REQUEST_URI": self.path, "RAW_URI": self.path,
            "REMOTE_ADDR": self.client_address[0], "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": self.server.server_address[0], "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version, "CONTENT_LENGTH": str(len(body)),
        }  # fmt: skip
        for key, value in self.headers.items():
            if "_" in key:  # as werkzeug: X_Foo would be indistinguishable from X-Foo
                continue
            key = key.upper().replace("-", "_")
            if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue  # the body is de-chunked and its length is CONTENT_LENGTH
            if key != "CONTENT_TYPE":
                key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ and key.startswith("HTTP_") else value
        return environ

    def _handle(self) -> None:
        hosts = self.headers.get_all("host") or []
        if len(hosts) != 1 or not is_loopback_host(hosts[0], self.server.server_address[1]):
            # a web page reaching this port through DNS rebinding would drive every emulated service
            self.close_connection = True
            self.send_error(421, "this emulator answers only on 127.0.0.1, localhost or [::1]")
            return
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self.send_error(400, "Bad request body")
            return
        environ = self._environ(body)
        if self.server.waits(environ):  # a long poll: answered by a thread, the loop moves on
            self.deferred = True
            threading.Thread(target=self._answer_then_hand_back, args=(environ,), daemon=True).start()
            return
        self._answer(environ)

    def _answer_then_hand_back(self, environ: dict) -> None:
        try:
            self._answer(environ)
            self.wfile.flush()
        except Exception:
            self.close_connection = True
        finally:
            self.server.hand_back(self)  # the loop clears `deferred` when it takes the connection back

    def _answer(self, environ: dict) -> None:
        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable: moto does not use it

        result = self.server.app(environ, start_response)
        try:
            payload = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        # headers and body in one write (one system call, one segment for small answers)
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()

    def do_GET(self):
        self._handle()

    def __getattr__(self, name: str):
        if name.startswith("do_"):  # every method goes to the application
            return self._handle
        raise AttributeError(name)


class _EmulatorServer:
    """One thread answers every connection in turn: an event loop over keep-alive connections.

    moto's state has no isolation of its own, and a thread per connection made the
    emulator's threads fight over the GIL (each answer waited for the GIL after its socket
    write: half of the emulator's samples under load). Here one thread reads a request,
    runs moto and writes the answer, then takes the next ready connection; writes are
    serialized by construction (the write lock stays, for the in-process mode). SQS long
    polls (ReceiveMessage, which waits for messages) are the exception: a thread answers
    each, so a waiting poll never holds up the loop.
    """

    def __init__(self, address: tuple[str, int], app) -> None:
        self.app = app
        self.socket = socket.create_server(address, backlog=1024)
        self.server_address = self.socket.getsockname()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._handed_back: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        sel = self._selector
        sel.register(self.socket, selectors.EVENT_READ, "accept")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.5):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._wake_r.recv(4096)
                        while not self._handed_back.empty():
                            handler = self._handed_back.get()
                            handler.deferred = False
                            self._resume(handler)
                    else:
                        self._serve(key.data)
        finally:
            self._stopped.set()

    def _accept(self) -> None:
        try:
            conn, addr = self.socket.accept()
        except OSError:
            return
        conn.settimeout(30)  # a client that stalls mid-request cannot hold the loop for longer
        handler = _KeepAliveHandler.__new__(_KeepAliveHandler)
        handler.request, handler.client_address, handler.server = conn, addr, self
        handler.deferred = False
        handler.setup()  # buffered reader/writer, TCP_NODELAY
        self._selector.register(conn, selectors.EVENT_READ, handler)

    def _serve(self, handler) -> None:
        self._selector.unregister(handler.connection)
        try:
            handler.handle_one_request()
        except Exception:
            handler.close_connection = True
        if not handler.deferred:
            self._resume(handler)

    def _resume(self, handler) -> None:
        if handler.close_connection or self._stop.is_set():
            with contextlib.suppress(OSError):
                handler.finish()
            handler.connection.close()
            return
        self._selector.register(handler.connection, selectors.EVENT_READ, handler)

    def hand_back(self, handler) -> None:
        """From a long-poll thread: the connection is ready for its next request."""
        self._handed_back.put(handler)
        self._wake_w.send(b"x")

    @staticmethod
    def waits(environ: dict) -> bool:
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".ReceiveMessage"):
            return True
        return environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded") and (
            b"Action=ReceiveMessage" in environ["wsgi.input"].getvalue()
        )

    def shutdown(self) -> None:
        self._stop.set()
        self._wake_w.send(b"x")
        self._stopped.wait(5)

    def server_close(self) -> None:
        for key in list(self._selector.get_map().values()):
            if isinstance(key.data, _KeepAliveHandler):
                key.data.connection.close()
        self._selector.close()
        self.socket.close()
        self._wake_r.close()
        self._wake_w.close()


def make_server(port: int, app) -> _EmulatorServer:
    return _EmulatorServer(("127.0.0.1", port), app)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
