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
import signal
import sys
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


def prepare() -> None:
    """What both emulator modes need before serving."""
    from werkzeug.serving import WSGIRequestHandler

    from .stack import serialize_emulator_writes

    # Headers and body are two writes: with Nagle on, each SDK call waits ~40 ms for a delayed ACK.
    WSGIRequestHandler.disable_nagle_algorithm = True
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    serialize_emulator_writes()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    from werkzeug.serving import make_server

    prepare()
    server = make_server("127.0.0.1", args.port, build_app(), threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"emulator ready on 127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
