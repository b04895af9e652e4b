"""Browser uploads to the local stack, checked as S3 checks a Signature V4 POST policy.

The emulator stores whatever it is sent and verifies no signature, so the local gateway
checks each upload form here before it stores the file: the signature over the policy
(with the stack's own secret key), the policy's expiry, every condition (exact values,
prefixes, the file's size range), and that every form field is covered by a condition.
Answers follow S3: 403 AccessDenied / SignatureDoesNotMatch for a form the policy does
not allow, 400 EntityTooLarge / EntityTooSmall for a file outside content-length-range,
400 MalformedPOSTRequest for a body that is not multipart/form-data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# Fields S3 never requires a condition for (x-ignore-* too); "file" must be the last part.
_UNCHECKED = {"policy", "x-amz-signature", "file"}
_STATUSES = {"200": 200, "201": 201, "204": 204}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Upload:
    key: str
    content_type: str
    body: bytes
    status: int  # success_action_status, 204 by default


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    region: str


def _malformed(message: str) -> Refused:
    return Refused(400, "MalformedPOSTRequest", message)


def _denied(message: str) -> Refused:
    return Refused(403, "AccessDenied", message)


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], bytes]:
    """(form fields before the file, the file's bytes). Field names are lower-cased:
    S3 matches them case-insensitively."""
    match = re.match(r'multipart/form-data;.*\bboundary="?([^";]+)"?', content_type or "", re.I)
    if not match:
        raise _malformed("the body must be multipart/form-data")
    delimiter = b"\r\n--" + match.group(1).encode("latin-1")
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise _malformed("the multipart body is not terminated")
    fields: dict[str, str] = {}
    for chunk in chunks[1:-1]:
        head, sep, content = chunk.partition(b"\r\n\r\n")
        name = re.search(rb'(?im)^content-disposition:\s*form-data;.*?\bname="([^"]*)"', head)
        if not sep or not name:
            raise _malformed("a part has no form-data name")
        key = name.group(1).decode("utf-8", "replace").lower()
        if key == "file":
            return fields, content  # S3 ignores any field after the file
        if key in fields:
            raise _malformed(f"field {key!r} given twice")
        try:
            fields[key] = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _malformed(f"field {key!r} is not UTF-8") from exc
    raise _malformed("the form has no file field")


def _signing_key(secret: str, day: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _check_signature(fields: Mapping[str, str], creds: Credentials) -> None:
    for name in ("policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
        if name not in fields:
            raise _denied(f"anonymous uploads are not allowed (no {name})")
    if fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
        raise _denied("only AWS4-HMAC-SHA256 POST policies are accepted")
    parts = fields["x-amz-credential"].split("/")
    if len(parts) != 5 or parts[0] != creds.access_key or parts[2:] != [creds.region, "s3", "aws4_request"]:
        raise _denied("the credential does not name this stack's key, region and service")
    expected = hmac.new(_signing_key(creds.secret_key, parts[1], creds.region), fields["policy"].encode(), "sha256")
    if not hmac.compare_digest(expected.hexdigest(), fields["x-amz-signature"].lower()):
        raise Refused(403, "SignatureDoesNotMatch", "the policy's signature does not match")


def _policy(encoded: str, now: datetime) -> list:
    try:
        doc = json.loads(base64.b64decode(encoded, validate=True))
        expires = datetime.strptime(doc["expiration"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        conditions = doc["conditions"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _denied("the policy is not a POST policy document") from exc
    if not isinstance(conditions, list):
        raise _denied("the policy has no list of conditions")
    if now >= expires:
        raise _denied("Invalid according to Policy: Policy expired.")
    return conditions


def _check_conditions(conditions: list, fields: Mapping[str, str], bucket: str, size: int) -> None:
    covered: set[str] = set()
    values = {**fields, "bucket": bucket}
    for cond in conditions:
        if isinstance(cond, dict) and len(cond) == 1:
            ((name, want),) = cond.items()
            op, name = "eq", str(name).lower()
        elif isinstance(cond, list) and len(cond) == 3 and cond[0] == "content-length-range":
            low, high = cond[1], cond[2]
            if not (isinstance(low, int) and isinstance(high, int)):
                raise _denied("content-length-range needs two integers")
            if size > high:
                raise Refused(400, "EntityTooLarge", f"Your proposed upload exceeds the maximum allowed size ({high})")
            if size < low:
                raise Refused(400, "EntityTooSmall", f"Your proposed upload is smaller than the minimum ({low})")
            continue
        elif isinstance(cond, list) and len(cond) == 3 and cond[0] in ("eq", "starts-with"):
            op, name, want = cond[0], str(cond[1]).lower().removeprefix("$"), cond[2]
        else:
            raise _denied(f"Invalid according to Policy: unknown condition {cond!r}")
        covered.add(name)
        have = values.get(name)
        ok = have is not None and isinstance(want, str) and (have == want if op == "eq" else have.startswith(want))
        if not ok:
            raise _denied(f"Invalid according to Policy: Policy Condition failed: [{op!r}, '${name}', {want!r}]")
    extra = sorted(n for n in fields if n not in covered and n not in _UNCHECKED and not n.startswith("x-ignore-"))
    if extra:
        raise _denied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")


def verify(content_type: str, body: bytes, *, bucket: str, creds: Credentials, now: datetime | None = None) -> Upload:
    """The upload a POST to `bucket` asks for, if its signed policy allows it; else Refused."""
    fields, data = parse_form(content_type, body)
    _check_signature(fields, creds)
    conditions = _policy(fields["policy"], now or datetime.now(UTC))
    if "key" not in fields:
        raise _malformed("the form has no key")
    _check_conditions(conditions, fields, bucket, len(data))
    status = _STATUSES.get(fields.get("success_action_status", "204"), 204)
    # Without a Content-Type field S3 stores binary/octet-stream, whatever the file part says.
    return Upload(fields["key"], fields.get("content-type", "binary/octet-stream"), data, status)
