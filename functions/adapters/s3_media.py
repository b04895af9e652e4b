"""Pre-signed S3 uploads for product images under datamodel.MEDIA_PREFIX."""

from __future__ import annotations

from functions.shop.datamodel import MEDIA_PREFIX

from .aws_clients import client


class S3Media:
    def __init__(self, bucket: str, media_base_url: str, presign_endpoint: str | None = None) -> None:
        self.bucket = bucket
        self.presign_endpoint = presign_endpoint
        # SHOP_MEDIA_BASE_URL already names the media/ prefix ("/media/" or "https://host/media/")
        self.base = media_base_url.rstrip("/") + "/"

    def _presigner(self):
        # Locally the storefront's Content-Security-Policy (the CDN's) only lets it connect
        # to its own origin, so uploads are signed for the local gateway, which proxies them.
        endpoint = self.presign_endpoint
        if not endpoint:
            return client("s3")
        from botocore.config import Config

        from .aws_clients import new_client

        return new_client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))

    def presign_upload(self, key: str, content_type: str, expires_in: int = 900) -> tuple[str, str]:
        url = self._presigner().generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": MEDIA_PREFIX + key, "ContentType": content_type},
            ExpiresIn=expires_in,
        )
        return url, self.base + key
