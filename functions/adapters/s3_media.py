"""Pre-signed S3 POST uploads for product images under datamodel.MEDIA_PREFIX.

A POST policy, unlike a pre-signed PUT URL, lets S3 itself refuse what the shop did not
sign for: another key, another Content-Type (which S3 stores and the CDN then serves),
an empty file or one over the size cap (content-length-range).
"""

from __future__ import annotations

from functions.shop.datamodel import MEDIA_PREFIX
from functions.shop.ports import UploadForm


class S3Media:
    def __init__(self, bucket: str, media_base_url: str, presign_endpoint: str | None = None) -> None:
        self.bucket = bucket
        self.presign_endpoint = presign_endpoint
        self._client = None
        # SHOP_MEDIA_BASE_URL already names the media/ prefix ("/media/" or "https://host/media/")
        self.base = media_base_url.rstrip("/") + "/"

    def _presigner(self):
        # Signature V4 always (V2 is refused in newer regions), on the bucket's own host name
        # (its regional virtual host: no redirect, which a CORS preflight cannot follow).
        # Locally the storefront's Content-Security-Policy (the CDN's) only lets it connect
        # to its own origin, so uploads are signed for the local gateway, which checks the
        # policy as S3 does and stores the file in the emulator.
        # A plain client: signing makes no call (botocore dresses a POST policy as CreateBucket
        # parameters, which the local IAM check would take for one); S3 checks the role's
        # s3:PutObject when the form is used.
        if self._client is None:
            import boto3
            from botocore.config import Config

            style = "path" if self.presign_endpoint else "virtual"
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.presign_endpoint,
                config=Config(signature_version="s3v4", s3={"addressing_style": style}),
            )
        return self._client

    def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> UploadForm:
        # boto3 adds the {"bucket": ...} and {"key": ...} conditions itself.
        post = self._presigner().generate_presigned_post(
            Bucket=self.bucket,
            Key=MEDIA_PREFIX + key,
            Fields={"Content-Type": content_type},
            Conditions=[["eq", "$Content-Type", content_type], ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return UploadForm("POST", post["url"], post["fields"], {}, self.base + key)
