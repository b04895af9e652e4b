"""Image uploads on the local stack: only the signed POST form the admin API hands out
stores a file, and only for its key, type and size; media are served as inert images."""

from __future__ import annotations

import base64
import json
import socket

import pytest
import requests

from functions.adapters.aws_clients import client
from functions.adapters.s3_media import S3Media
from functions.shop import datamodel

from .conftest import create_product

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\r\n--x\r\n" * 8  # bytes that look like multipart delimiters


@pytest.fixture
def form(shop, admin) -> dict:
    product = create_product(admin, stock=1, name="Framed print")
    r = admin.call("POST", f"/api/admin/products/{product['productId']}/image", json={"contentType": "image/png"})
    assert r.status_code == 200, r.text
    return r.json()


def post(form: dict, fields: dict | None = None, data: bytes = PNG) -> requests.Response:
    return requests.post(
        form["uploadUrl"], data=fields if fields is not None else form["uploadFields"], files={"file": data}, timeout=30
    )


def media(shop, form_or_key) -> requests.Response:
    path = form_or_key["imageUrl"].removeprefix(shop.base_url) if isinstance(form_or_key, dict) else form_or_key
    return requests.get(shop.base_url + path, timeout=10)


def test_the_signed_form_stores_the_image_and_it_is_served_as_an_inert_image(shop, form):
    assert form["uploadMethod"] == "POST" and form["uploadUrl"] == f"{shop.base_url}/local/s3/{shop.names['bucket']}"
    assert form["maxBytes"] == datamodel.MAX_IMAGE_BYTES
    r = post(form)
    assert r.status_code == 204, r.text
    got = media(shop, form)
    assert got.status_code == 200 and got.content == PNG, "the stored bytes differ from the uploaded ones"
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    assert "default-src 'none'" in got.headers["content-security-policy"]
    assert "content-disposition" not in got.headers
    assert post(form).status_code == 204, "S3 lets a form be reused for its own key until it expires"


def test_anonymous_put_of_an_html_page_is_refused_and_never_served(shop):
    # the attack from issue 17: curl -XPUT .../media/poc.html -H 'content-type: text/html'
    url = f"{shop.base_url}/local/s3/{shop.names['bucket']}/media/poc.html"
    page = b"<script>alert(localStorage.length)</script>"
    r = requests.put(url, data=page, headers={"Content-Type": "text/html"}, timeout=10)
    assert r.status_code == 403, f"an unsigned PUT was answered {r.status_code}"
    assert r.json()["error"]["code"] == "AccessDenied"
    bucket_url = f"{shop.base_url}/local/s3/{shop.names['bucket']}"
    unsigned = {"key": "media/poc.html", "Content-Type": "text/html"}
    r = requests.post(bucket_url, data=unsigned, files={"file": page}, timeout=10)
    assert r.status_code == 403, f"an unsigned POST was answered {r.status_code}"
    assert media(shop, "/media/poc.html").status_code == 404


def test_a_refused_upload_body_is_never_read_as_the_next_request(shop):
    smuggled = b"GET /local/outbox HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    request = (
        f"PUT /local/s3/{shop.names['bucket']}/media/x.png HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Length: {len(smuggled)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", shop.port), timeout=10) as conn:
        conn.sendall(request + smuggled)
        reply = b"".join(iter(lambda: conn.recv(65536), b""))
    assert reply.startswith(b"HTTP/1.1 403"), reply[:80]
    assert reply.count(b"HTTP/1.1 ") == 1, "the refused PUT's body was answered as a second request"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"key": "media/products/other/evil.png"}, "AccessDenied"),  # another key
        ({"key": "media/poc.html"}, "AccessDenied"),
        ({"Content-Type": "text/html"}, "AccessDenied"),  # another type
        ({"Content-Type": "image/svg+xml"}, "AccessDenied"),
        ({"acl": "public-read"}, "AccessDenied"),  # a field the policy does not name
        ({"x-amz-signature": "0" * 64}, "SignatureDoesNotMatch"),
    ],
)
def test_a_signed_form_cannot_be_reused_for_another_key_type_or_field(shop, form, change, code):
    r = post(form, {**form["uploadFields"], **change})
    assert r.status_code == 403, f"{change} was answered {r.status_code}: {r.text}"
    assert r.json()["error"]["code"] == code
    assert media(shop, form).status_code == 404, "a refused upload stored the file anyway"


def test_a_policy_rewritten_to_allow_html_is_refused(shop, form):
    policy = json.loads(base64.b64decode(form["uploadFields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if "$Content-Type" not in c] + [
        ["starts-with", "$Content-Type", ""]
    ]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    r = post(form, {**form["uploadFields"], "policy": forged, "Content-Type": "text/html"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "SignatureDoesNotMatch", r.text


def test_oversize_and_empty_files_are_refused_as_s3_refuses_them(shop, form):
    r = post(form, data=b"\x89PNG" + b"\0" * datamodel.MAX_IMAGE_BYTES)
    assert r.status_code == 400 and r.json()["error"]["code"] == "EntityTooLarge", r.text
    r = post(form, data=b"")
    assert r.status_code == 400 and r.json()["error"]["code"] == "EntityTooSmall", r.text
    assert media(shop, form).status_code == 404


def test_an_expired_form_is_refused(shop):
    media_adapter = S3Media(shop.names["bucket"], "/media/", f"{shop.base_url}/local/s3")
    form = media_adapter.presign_upload("products/late/x.png", "image/png", 1024, -1)
    r = requests.post(form.url, data=dict(form.fields), files={"file": PNG}, timeout=10)
    assert r.status_code == 403 and "expired" in r.json()["error"]["message"], r.text


def test_a_form_signed_with_a_guessable_key_is_refused(shop, monkeypatch):
    """moto's documented default credentials must not sign uploads for the local shop."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    form = S3Media(shop.names["bucket"], "/media/", f"{shop.base_url}/local/s3").presign_upload(
        "products/x/y.png", "image/png", 1024, 300
    )
    r = requests.post(form.url, data=dict(form.fields), files={"file": PNG}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "SignatureDoesNotMatch", r.text


@pytest.mark.parametrize("stored", ["text/html", "image/svg+xml", "application/javascript", ""])
def test_media_of_any_other_type_is_served_as_a_download_never_as_a_page(shop, stored):
    key = f"products/legacy/{abs(hash(stored))}.bin"
    extra = {"ContentType": stored} if stored else {}
    client("s3").put_object(Bucket=shop.names["bucket"], Key=datamodel.MEDIA_PREFIX + key, Body=b"<svg/>", **extra)
    got = media(shop, "/media/" + key)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/octet-stream", f"{stored!r} served as itself"
    assert got.headers["content-disposition"] == "attachment"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
