"""Access tokens and identity of the function's service account, from the GCE/Cloud Run
metadata server (what Cloud Functions 2nd gen runs on). Stdlib only; cached until five
minutes before expiry."""

from __future__ import annotations

import threading
import time

from ._http import Transport, call, urllib_transport

METADATA = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default"


class MetadataCredentials:
    def __init__(self, transport: Transport = urllib_transport) -> None:
        self._transport = transport
        self._token: tuple[str, float] | None = None
        self._email: str | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token and self._token[1] - 300 > time.time():
                return self._token[0]
        resp = call(self._transport, "GET", f"{METADATA}/token", headers={"Metadata-Flavor": "Google"})
        body = resp.json() or {}
        if resp.status != 200 or "access_token" not in body:
            raise RuntimeError(f"metadata token: HTTP {resp.status}")
        with self._lock:
            self._token = (body["access_token"], time.time() + int(body.get("expires_in", 3600)))
            return self._token[0]

    def service_account_email(self) -> str:
        if self._email is None:
            resp = call(self._transport, "GET", f"{METADATA}/email", headers={"Metadata-Flavor": "Google"})
            if resp.status != 200:
                raise RuntimeError(f"metadata email: HTTP {resp.status}")
            self._email = resp.body.decode().strip()
        return self._email
