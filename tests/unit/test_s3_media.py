"""The S3 upload form as a deployed function signs it: a Signature V4 POST policy that
pins the key, the bucket, the Content-Type and the size range, posted to the bucket's own
regional host."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from functions.adapters.s3_media import S3Media

MAX = 5 * 1024 * 1024


def _form(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    return S3Media("shop-site-123", "https://shop.example.com/media/").presign_upload(
        "products/p1/abc.png", "image/png", MAX, 300
    )


def test_policy_pins_key_bucket_type_and_size(monkeypatch):
    form = _form(monkeypatch)
    assert form.method == "POST" and form.url == "https://shop-site-123.s3.eu-west-1.amazonaws.com/"
    assert form.image_url == "https://shop.example.com/media/products/p1/abc.png"
    assert (form.fields["key"], form.fields["Content-Type"]) == ("media/products/p1/abc.png", "image/png")
    conditions = json.loads(base64.b64decode(form.fields["policy"]))["conditions"]
    assert ["eq", "$Content-Type", "image/png"] in conditions, "S3 must refuse any other stored type"
    assert ["content-length-range", 1, MAX] in conditions, "S3 must refuse empty and oversize files"
    assert {"key": "media/products/p1/abc.png"} in conditions and {"bucket": "shop-site-123"} in conditions


def test_policy_is_signed_with_signature_v4(monkeypatch):
    form = _form(monkeypatch)
    f = form.fields
    assert f["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    key_id, day, region, service, terminal = f["x-amz-credential"].split("/")
    assert (key_id, region, service, terminal) == ("AKIDEXAMPLE", "eu-west-1", "s3", "aws4_request")
    signing = b"AWS4secret"
    for part in (day, region, service, terminal):
        signing = hmac.new(signing, part.encode(), hashlib.sha256).digest()
    assert f["x-amz-signature"] == hmac.new(signing, f["policy"].encode(), hashlib.sha256).hexdigest()
