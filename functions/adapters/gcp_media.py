"""Media on GCP: Cloud Storage V4 signed POST policies for product image uploads.

Cloud Functions have no private key file: the policy to sign goes to the IAM Credentials
API (serviceAccounts.signBlob) as the function's own service account, which needs
roles/iam.serviceAccountTokenCreator on itself and object create on the bucket. The
policy allows one upload of exactly `media/<key>`, with exactly the given Content-Type
(stored, and served as-is by the CDN), of 1 to `max_bytes` bytes, for `expires_in`.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.shop import datamodel
from functions.shop.ports import UploadForm

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

    def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> UploadForm:
        now = self._clock()
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        name = datamodel.MEDIA_PREFIX + key.lstrip("/")
        credential = f"{self._signer.email}/{now.strftime('%Y%m%d')}/auto/storage/goog4_request"
        fields = {
            "key": name,
            "Content-Type": content_type,
            "x-goog-algorithm": "GOOG4-RSA-SHA256",
            "x-goog-credential": credential,
            "x-goog-date": stamp,
        }
        policy = {
            "conditions": [
                {"bucket": self._bucket},
                {"key": name},
                ["eq", "$Content-Type", content_type],
                ["content-length-range", 1, max_bytes],
                {"x-goog-algorithm": "GOOG4-RSA-SHA256"},
                {"x-goog-credential": credential},
                {"x-goog-date": stamp},
            ],
            "expiration": (now + timedelta(seconds=min(expires_in, 604800))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        # The signature is over the base64 of the policy document, which is sent as is.
        encoded = base64.b64encode(json.dumps(policy, separators=(",", ":")).encode())
        fields["policy"] = encoded.decode()
        fields["x-goog-signature"] = self._signer.sign(encoded).hex()
        # SHOP_MEDIA_BASE_URL names the media/ prefix already (".../media/"), as on the other clouds.
        public = f"{self._base}/{urllib.parse.quote(key.lstrip('/'), safe='/~')}"
        return UploadForm("POST", f"https://{HOST}/{self._bucket}/", fields, {}, public)
