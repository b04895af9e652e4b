"""The local gateway's check of S3 POST upload forms (functions/local/s3_post.py), against
forms botocore signs: what S3 allows passes, anything the policy does not name is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.adapters.s3_media import S3Media
from functions.local import s3_post

CREDS = s3_post.Credentials("AKIDLOCAL", "per-run-secret", "us-east-1")
BOUNDARY = "b0undary"


@pytest.fixture
def fields(monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDS.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", CREDS.region)
    form = S3Media("site", "/media/", "http://127.0.0.1:1/local/s3").presign_upload(
        "products/p/x.png", "image/png", 10, 300
    )
    return dict(form.fields)


def body(fields: dict[str, str], data: bytes = b"\x89PNG", after: dict[str, str] | None = None) -> bytes:
    def part(name: str, value: bytes) -> bytes:
        return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"

    out = b"".join(part(k, v.encode()) for k, v in fields.items()) + part("file", data)
    out += b"".join(part(k, v.encode()) for k, v in (after or {}).items())
    return out + f"--{BOUNDARY}--\r\n".encode()


def verify(payload: bytes, now: datetime | None = None) -> s3_post.Upload:
    return s3_post.verify(f"multipart/form-data; boundary={BOUNDARY}", payload, bucket="site", creds=CREDS, now=now)


def refused(payload: bytes, now: datetime | None = None) -> s3_post.Refused:
    with pytest.raises(s3_post.Refused) as exc:
        verify(payload, now)
    return exc.value


def test_the_signed_form_passes_with_the_pinned_key_and_type(fields):
    up = verify(body(fields))
    assert (up.key, up.content_type, up.body, up.status) == ("media/products/p/x.png", "image/png", b"\x89PNG", 204)


def test_field_names_match_case_insensitively_and_fields_after_the_file_are_ignored(fields):
    renamed = {("CONTENT-TYPE" if k == "Content-Type" else k): v for k, v in fields.items()}
    up = verify(body(renamed, after={"Content-Type": "text/html", "key": "media/x.html"}))
    assert (up.key, up.content_type) == ("media/products/p/x.png", "image/png")


def test_x_ignore_fields_need_no_condition_but_other_extra_fields_do(fields):
    assert verify(body({**fields, "x-ignore-note": "hi"})).key == "media/products/p/x.png"
    assert (
        "Extra input fields: success_action_status" in refused(body({**fields, "success_action_status": "201"})).message
    )


def test_size_range_wrong_bucket_expiry_and_wrong_credentials(fields):
    assert refused(body(fields, b"x" * 11)).code == "EntityTooLarge"
    assert refused(body(fields, b"")).code == "EntityTooSmall"
    assert refused(body(fields), now=datetime.now(UTC) + timedelta(minutes=6)).status == 403
    with pytest.raises(s3_post.Refused):
        s3_post.verify(f"multipart/form-data; boundary={BOUNDARY}", body(fields), bucket="other", creds=CREDS)
    other = s3_post.Credentials("AKIDLOCAL", "testing", "us-east-1")
    with pytest.raises(s3_post.Refused) as exc:
        s3_post.verify(f"multipart/form-data; boundary={BOUNDARY}", body(fields), bucket="site", creds=other)
    assert exc.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("text/plain", b"x"),
        (f"multipart/form-data; boundary={BOUNDARY}", b"no parts"),
        (f"multipart/form-data; boundary={BOUNDARY}", f"--{BOUNDARY}\r\nX: y\r\n\r\nv\r\n--{BOUNDARY}--".encode()),
    ],
)
def test_a_body_that_is_not_a_form_is_400(content_type, payload):
    with pytest.raises(s3_post.Refused) as exc:
        s3_post.verify(content_type, payload, bucket="site", creds=CREDS)
    assert (exc.value.status, exc.value.code) == (400, "MalformedPOSTRequest")
