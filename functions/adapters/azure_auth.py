"""Managed-identity access tokens for the Azure adapters, without azure-identity.

In Azure Functions the platform serves tokens at IDENTITY_ENDPOINT (header
X-IDENTITY-HEADER). `ManagedIdentityCredential` implements azure-core's TokenCredential
(get_token / get_token_info), so azure-cosmos and azure-communication-email accept it,
and `token(scope)` serves the REST calls. AZURE_CLIENT_ID selects a user-assigned
identity. Tokens are cached until five minutes before they expire.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from typing import Any

from ._http import Transport, call, urllib_transport

_MARGIN = 300


class ManagedIdentityCredential:
    def __init__(self, transport: Transport = urllib_transport, client_id: str | None = None) -> None:
        self._transport = transport
        self._client_id = client_id or os.environ.get("AZURE_CLIENT_ID")
        self._cache: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def token(self, scope: str) -> str:
        return self._fetch(scope)[0]

    def _fetch(self, scope: str) -> tuple[str, int]:
        with self._lock:
            hit = self._cache.get(scope)
            if hit and hit[1] - _MARGIN > time.time():
                return hit
        endpoint, secret = os.environ.get("IDENTITY_ENDPOINT"), os.environ.get("IDENTITY_HEADER")
        if not endpoint or not secret:
            raise RuntimeError("no managed identity here (IDENTITY_ENDPOINT/IDENTITY_HEADER unset)")
        resource = scope.removesuffix("/.default")
        query = {"resource": resource, "api-version": "2019-08-01"}
        if self._client_id:
            query["client_id"] = self._client_id
        resp = call(
            self._transport, "GET", f"{endpoint}?{urllib.parse.urlencode(query)}", headers={"X-IDENTITY-HEADER": secret}
        )
        body = resp.json() or {}
        if resp.status != 200 or "access_token" not in body:
            raise RuntimeError(f"managed identity token for {resource}: HTTP {resp.status}")
        value = (body["access_token"], int(body.get("expires_on", time.time() + 3600)))
        with self._lock:
            self._cache[scope] = value
        return value

    # azure-core TokenCredential / SupportsTokenInfo
    def get_token(self, *scopes: str, **_: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(*self._fetch(scopes[0]))

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(*self._fetch(scopes[0]))
