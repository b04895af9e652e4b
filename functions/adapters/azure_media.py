"""Media on Azure: Blob Storage user-delegation SAS for product image uploads.

The function's managed identity (role: Storage Blob Delegator on the uploads account plus
Storage Blob Data Contributor on its $web container, writes only under media/; it has no
role on the site account, providers/azure/static_site.py) asks for a user delegation key once
an hour, then signs per-upload SAS URLs locally with HMAC-SHA256: no account key exists
anywhere. Clients PUT the file with the headers of UploadForm.headers.

The URL is on the shop's own origin, never the storage host: Front Door's uploads route
(providers/azure/cdn.py) takes ``UPLOAD_PATH<key>`` and forwards it to the uploads account's
blob endpoint as ``/$web/media/<key>`` (``upload_origin_path``), the exact blob the SAS is
signed for (a SAS signs /blob/<account>/<container>/<blob>, not the host). So the upload
passes the WAF, and in prod the account refuses the internet (Private Link only).

What a SAS can and cannot hold (unlike the S3 and Cloud Storage POST policies): it is
scoped to exactly one blob name under MEDIA_PREFIX, HTTPS only, create-only (`sp=c`: it
cannot overwrite an existing blob, so it is single-use), and valid for `expires_in`
seconds. It cannot cap the size or pin the stored Content-Type: Front Door's WAF does
(providers/azure/firewall.py: PUT only, Content-Length at most MAX_IMAGE_BYTES,
`x-ms-blob-content-type` one of IMAGE_TYPES); see README (security).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.shop import datamodel
from functions.shop.ports import UploadForm

from ._http import Transport, call, urllib_transport

STORAGE_SCOPE = "https://storage.azure.com/.default"
# The shop-origin path browsers PUT to; Front Door maps it onto the media/ prefix of $web.
UPLOAD_PATH = "/media-uploads/"
WEB_CONTAINER = "$web"
SAS_VERSION = "2022-11-02"  # string-to-sign layout of 2020-12-06 and later
_KEY_LIFETIME = timedelta(hours=2)


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def upload_origin_path(container: str = WEB_CONTAINER) -> str:
    """Where Front Door's uploads route sends UPLOAD_PATH: a route with an origin path
    replaces the matched prefix with it, so UPLOAD_PATH + key reaches <container>/media/<key>."""
    return f"/{container}/{datamodel.MEDIA_PREFIX.rstrip('/')}"


def shop_origin(media_base_url: str) -> str:
    """The shop's origin from SHOP_MEDIA_BASE_URL (https://<domain>/media/, or /media/ when
    the domain is not known up front): "https://<domain>", or "" for same-origin paths."""
    parts = urllib.parse.urlsplit(media_base_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _string_to_sign(fields: dict[str, str], resource: str) -> str:
    """The user-delegation SAS string-to-sign (version 2020-12-06 and later) of `fields`, for
    the canonicalized resource /blob/<account>/<container>/<blob>."""
    return "\n".join(
        [
            fields["sp"],
            fields["st"],
            fields["se"],
            resource,
            fields["skoid"],
            fields["sktid"],
            fields["skt"],
            fields["ske"],
            fields["sks"],
            fields["skv"],
            "",
            "",
            "",  # saoid, suoid, scid
            "",  # signed IP
            fields["spr"],
            fields["sv"],
            fields["sr"],
            "",
            "",  # snapshot time, encryption scope
            "",
            "",
            "",
            "",
            fields["rsct"],  # rscc, rscd, rsce, rscl, rsct
        ]
    )


class AzureBlobMedia:
    def __init__(
        self,
        *,
        account: str,
        container: str,
        public_base_url: str,
        credential: Any,
        transport: Transport = urllib_transport,
        clock=lambda: datetime.now(UTC),
    ) -> None:
        self._account, self._container = account, container
        self._base = public_base_url.rstrip("/")
        self._credential, self._transport, self._clock = credential, transport, clock
        self._key: dict[str, str] | None = None
        self._lock = threading.Lock()

    def _delegation_key(self, now: datetime) -> dict[str, str]:
        with self._lock:
            if self._key and datetime.strptime(self._key["SignedExpiry"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=UTC
            ) - now > timedelta(minutes=30):
                return self._key
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><KeyInfo><Start>{_ts(now - timedelta(minutes=5))}'
            f"</Start><Expiry>{_ts(now + _KEY_LIFETIME)}</Expiry></KeyInfo>"
        )
        resp = call(
            self._transport,
            "POST",
            f"https://{self._account}.blob.core.windows.net/?restype=service&comp=userdelegationkey",
            data=body.encode(),
            headers={
                "Authorization": f"Bearer {self._credential.token(STORAGE_SCOPE)}",
                "x-ms-version": SAS_VERSION,
                "Content-Type": "application/xml",
            },
        )
        if resp.status != 200:
            raise RuntimeError(f"user delegation key: HTTP {resp.status} {resp.body[:200]!r}")
        root = ET.fromstring(resp.body)
        key = {child.tag: child.text or "" for child in root}
        with self._lock:
            self._key = key
        return key

    def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> UploadForm:
        now = self._clock()
        dk = self._delegation_key(now)
        blob = datamodel.MEDIA_PREFIX + key.lstrip("/")
        start, expiry = _ts(now - timedelta(minutes=5)), _ts(now + timedelta(seconds=expires_in))
        fields = {
            "sp": "c",
            "st": start,
            "se": expiry,
            "skoid": dk["SignedOid"],
            "sktid": dk["SignedTid"],
            "skt": dk["SignedStart"],
            "ske": dk["SignedExpiry"],
            "sks": dk["SignedService"],
            "skv": dk["SignedVersion"],
            "spr": "https",
            "sv": SAS_VERSION,
            "sr": "b",
            "rsct": content_type,
        }
        resource = f"/blob/{self._account}/{self._container}/{blob}"
        string_to_sign = _string_to_sign(fields, resource)
        sig = base64.b64encode(
            hmac.new(base64.b64decode(dk["Value"]), string_to_sign.encode(), hashlib.sha256).digest()
        )
        query = urllib.parse.urlencode({**fields, "sig": sig.decode()})
        # SHOP_MEDIA_BASE_URL names the media/ prefix already (".../media/"), as on the other clouds.
        quoted = urllib.parse.quote(key.lstrip("/"))
        return UploadForm(
            "PUT",
            f"{shop_origin(self._base)}{UPLOAD_PATH}{quoted}?{query}",
            {},
            {"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": content_type},
            f"{self._base}/{quoted}",
        )
