"""A scripted HTTP transport for the REST adapters: answers by (method, URL prefix) and
records every request so tests can check what was sent."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from functions.adapters._http import HttpResponse


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl((self.body or b"").decode()))


class FakeTransport:
    def __init__(self) -> None:
        self.routes: list[tuple[str, str, Any]] = []
        self.sent: list[Sent] = []

    def on(self, method: str, url_prefix: str, status: int = 200, body: Any = None) -> FakeTransport:
        """`body`: JSON-able, bytes, or a callable(Sent) -> (status, body)."""
        self.routes.insert(0, (method, url_prefix, (status, body)))
        return self

    def __call__(self, method, url, headers, body, timeout) -> HttpResponse:
        sent = Sent(method, url, dict(headers), body)
        self.sent.append(sent)
        for m, prefix, answer in self.routes:
            if m == method and url.startswith(prefix):
                status, payload = answer
                if callable(payload):
                    status, payload = payload(sent)
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                return HttpResponse(status, raw)
        raise AssertionError(f"unexpected request {method} {url}")

    def last(self, url_part: str) -> Sent:
        for s in reversed(self.sent):
            if url_part in s.url:
                return s
        raise AssertionError(f"no request to {url_part}; sent: {[s.url for s in self.sent]}")
