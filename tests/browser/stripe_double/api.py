"""A double of Stripe's API servers for the browser tests: just the PaymentIntent calls the
shop makes, and Stripe's webhook deliveries.

- POST /v1/payment_intents (the shop's function, with the secret key): creates an intent with
  a client secret; a repeated Idempotency-Key answers the first response again, as Stripe does.
- POST /v1/payment_intents/{id}/confirm (Stripe.js in the page, with the publishable key and
  the client secret): test card 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined
  with Stripe's error shape (HTTP 402, `card_error` / `card_declined`).
- Each outcome is then POSTed to the shop's webhook as a `payment_intent.succeeded` or
  `payment_intent.payment_failed` event, signed with the `stripe` library's own
  `WebhookSignature.generate_signature_header` (`t=…,v1=HMAC-SHA256(secret, "t.payload")`),
  `deliveries` times in a row (Stripe delivers at least once). `hold()` keeps the
  deliveries back until `release()`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import requests
import stripe

APPROVED = "4242424242424242"
DECLINED = "4000000000000002"
JSON = dict[str, Any]


@dataclass
class Delivery:
    event_type: str
    payment_intent: str
    status: int
    answer: JSON


@dataclass
class FakeStripe:
    secret_key: str
    publishable_key: str
    webhook_secret: str
    webhook_url: str
    deliveries: int = 1
    intents: dict[str, JSON] = field(default_factory=dict)
    delivered: list[Delivery] = field(default_factory=list)
    _idempotent: dict[str, JSON] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._released.set()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        assert self._server is not None, "FakeStripe is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            stripe_double = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def hold(self) -> None:
        """Keep webhook deliveries back (a slow Stripe) until release()."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def deliveries_for(self, intent_id: str, event_type: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.delivered if d.payment_intent == intent_id and d.event_type == event_type]

    def intents_for(self, order_id: str) -> list[JSON]:
        with self._lock:
            return [i for i in self.intents.values() if i["metadata"].get("orderId") == order_id]

    # ------------------------------------------------------------------ the API
    def create_intent(self, auth: str, idempotency_key: str | None, form: dict[str, str]) -> tuple[int, JSON]:
        if auth != f"Bearer {self.secret_key}":
            return 401, _error("invalid_request_error", "Invalid API Key provided.", code="api_key_invalid")
        with self._lock:
            if idempotency_key and idempotency_key in self._idempotent:
                return 200, self._idempotent[idempotency_key]
            intent_id = "pi_" + secrets.token_hex(12)
            intent: JSON = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "status": "requires_payment_method",
                "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
                "metadata": {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")},
                "last_payment_error": None,
                "livemode": False,
                "created": int(time.time()),
            }
            self.intents[intent_id] = intent
            if idempotency_key:
                self._idempotent[idempotency_key] = dict(intent)
            return 200, dict(intent)

    def confirm(self, intent_id: str, form: dict[str, str]) -> tuple[int, JSON]:
        with self._lock:
            intent = self.intents.get(intent_id)
            if form.get("key") != self.publishable_key:
                return 401, _error("invalid_request_error", "Invalid API Key provided.", code="api_key_invalid")
            if intent is None or form.get("client_secret") != intent["client_secret"]:
                return 404, _error("invalid_request_error", "No such payment_intent.", code="resource_missing")
            if intent["status"] == "succeeded":
                return 400, _error("invalid_request_error", "This PaymentIntent has already succeeded.",
                                   code="payment_intent_unexpected_state")  # fmt: skip
            number = form.get("payment_method_data[card][number]", "")
            if number not in (APPROVED, DECLINED):
                return 402, _error("card_error", "Your card number is incorrect.", code="incorrect_number")
            declined = number == DECLINED
            decline = _error(
                "card_error", "Your card was declined.", code="card_declined", decline_code="generic_decline"
            )
            intent["status"] = "requires_payment_method" if declined else "succeeded"
            intent["last_payment_error"] = decline["error"] if declined else None
            snapshot = dict(intent)
        kind = "payment_intent.payment_failed" if declined else "payment_intent.succeeded"
        threading.Thread(target=self._deliver, args=(kind, snapshot), daemon=True).start()
        if declined:
            return 402, {"error": {**decline["error"], "payment_intent": snapshot}}
        return 200, snapshot

    # ------------------------------------------------------------------ webhooks
    def _deliver(self, kind: str, intent: JSON) -> None:
        self._released.wait()
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": intent},
        }
        payload = json.dumps(event)
        for _ in range(self.deliveries):  # the same event, each delivery signed anew as Stripe does
            header = stripe.WebhookSignature.generate_signature_header(payload, self.webhook_secret)
            r = requests.post(
                self.webhook_url,
                data=payload.encode(),
                headers={"content-type": "application/json; charset=utf-8", "stripe-signature": header},
                timeout=30,
            )
            with self._lock:
                self.delivered.append(Delivery(kind, intent["id"], r.status_code, r.json()))


def _error(kind: str, message: str, **more: str) -> JSON:
    return {"error": {"type": kind, "message": message, **more}}


class _Handler(BaseHTTPRequestHandler):
    stripe_double: FakeStripe
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        fake = self.stripe_double
        if parts == ["v1", "payment_intents"]:
            status, body = fake.create_intent(
                self.headers.get("authorization", ""), self.headers.get("idempotency-key"), form
            )
        elif len(parts) == 4 and parts[:2] == ["v1", "payment_intents"] and parts[3] == "confirm":
            status, body = fake.confirm(parts[2], form)
        else:
            status, body = 404, _error("invalid_request_error", f"Unrecognized request URL (POST: {self.path}).")
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("access-control-allow-origin", "*")  # as api.stripe.com answers Stripe.js
        self.end_headers()
        self.wfile.write(data)
