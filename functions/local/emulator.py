"""The AWS emulator (moto) as its own process: `python -m functions.local.emulator --port N`.

The local stack's gateway, handlers and SDK clients already keep one core busy; moto in
the same process competes with them for the GIL, which capped the load benchmark at about
one core. Run apart, the emulator gets the second core. It carries the same two fixes as
the in-process mode (functions.local.stack): serialized DynamoDB writes (moto has no
write isolation) and no Nagle delay on responses, and one extra route,
``GET /_shop/ses/sent``, the e-mails SES "sent" (what ``LocalStack.outbox`` reads).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from typing import Any

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


def prepare() -> None:
    """What both emulator modes need before serving."""
    from werkzeug.serving import WSGIRequestHandler

    from .stack import serialize_emulator_writes

    # Headers and body are two writes: with Nagle on, each SDK call waits ~40 ms for a delayed ACK.
    WSGIRequestHandler.disable_nagle_algorithm = True
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    serialize_emulator_writes()
    fast_queries()
    fast_user_lookup()


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)
    if args.parent_pid:
        _exit_with_parent(args.parent_pid)
    from werkzeug.serving import make_server

    prepare()
    server = make_server("127.0.0.1", args.port, build_app(), threaded=True)
    # os._exit: request threads stuck on half-closed connections must not keep it alive
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"emulator ready on 127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
