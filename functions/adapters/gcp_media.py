"""Media on GCP: Cloud Storage V4 signed URLs for product image uploads.

Cloud Functions have no private key file: the string to sign goes to the IAM Credentials
API (serviceAccounts.signBlob) as the function's own service account, which needs
roles/iam.serviceAccountTokenCreator on itself and object create on the bucket. The URL
allows one PUT of exactly `media/<key>` with the given content type, for `expires_in`.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from functions.shop import datamodel

from ._http import Transport, call, urllib_transport

HOST = "storage.googleapis.com"


class IamSigner:
    """signBlob through the IAM Credentials API with the metadata server's token."""

    def __init__(self, credentials: Any, transport: Transport = urllib_transport) -> None:
        self._credentials, self._transport = credentials, transport

    @property
    def email(self) -> str:
        return self._credentials.service_account_email()

    def sign(self, payload: bytes) -> bytes:
        url = f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{self.email}:signBlob"
        resp = call(
            self._transport,
            "POST",
            url,
            json_body={"payload": base64.b64encode(payload).decode()},
            headers={"Authorization": f"Bearer {self._credentials.token()}"},
        )
        body = resp.json() or {}
        if resp.status != 200 or "signedBlob" not in body:
            raise RuntimeError(f"signBlob: HTTP {resp.status}")
        return base64.b64decode(body["signedBlob"])


class GcsSignedUrlMedia:
    def __init__(self, *, bucket: str, public_base_url: str, signer: Any, clock=lambda: datetime.now(UTC)) -> None:
        self._bucket, self._base, self._signer, self._clock = bucket, public_base_url.rstrip("/"), signer, clock

    def presign_upload(self, key: str, content_type: str, expires_in: int = 900) -> tuple[str, str]:
        now = self._clock()
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        obj = urllib.parse.quote(datamodel.MEDIA_PREFIX + key.lstrip("/"), safe="/~")
        path = f"/{self._bucket}/{obj}"
        scope = f"{day}/auto/storage/goog4_request"
        params = {
            "X-Goog-Algorithm": "GOOG4-RSA-SHA256",
            "X-Goog-Credential": f"{self._signer.email}/{scope}",
            "X-Goog-Date": stamp,
            "X-Goog-Expires": str(min(expires_in, 604800)),
            "X-Goog-SignedHeaders": "content-type;host",
        }
        query = "&".join(
            f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}" for k, v in sorted(params.items())
        )
        canonical = "\n".join(
            [
                "PUT",
                path,
                query,
                f"content-type:{content_type}",
                f"host:{HOST}",
                "",
                "content-type;host",
                "UNSIGNED-PAYLOAD",
            ]
        )
        to_sign = "\n".join(["GOOG4-RSA-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signature = self._signer.sign(to_sign.encode()).hex()
        return (f"https://{HOST}{path}?{query}&X-Goog-Signature={signature}", f"{self._base}/{obj}")
