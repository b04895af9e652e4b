"""What makes the local stack as hard to break as the cloud (issue 17): its own token
signing key, loopback-only Host names, a protected outbox, the CDN's security headers and
chunked request bodies."""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from moto.utilities.utils import load_resource

from .conftest import Client

pytestmark = pytest.mark.e2e


def _moto_packaged_key() -> dict:
    return load_resource("moto.cognitoidp.models", "resources/jwks-private.json")


def _forge_with_moto_key(shop, sub: str, kid: str) -> str:
    key = jwt.PyJWK.from_dict(_moto_packaged_key(), algorithm="RS256")
    claims = {
        "sub": sub,
        "username": sub,
        "iss": shop.issuer,
        "client_id": shop.names["client"],
        "token_use": "access",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
        "cognito:groups": ["admin"],
    }
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": kid})


def test_a_token_forged_with_motos_packaged_key_is_401_and_real_logins_work(shop, customer, admin):
    sub = jwt.decode(customer.token, options={"verify_signature": False})["sub"]
    real_kid = jwt.get_unverified_header(customer.token)["kid"]
    for kid in ("dummy", real_kid):
        forged = Client(shop.base_url, _forge_with_moto_key(shop, sub, kid))
        me = forged.call("GET", "/api/me")
        assert me.status_code == 401, f"forged token (kid {kid}) for a real sub accepted on /api/me: {me.text}"
        orders = forged.call("GET", "/api/admin/orders?status=PLACED")
        assert orders.status_code == 401, f"forged admin token (kid {kid}) accepted: {orders.status_code}"
    assert real_kid != "dummy", "the emulator still signs with moto's packaged key (kid 'dummy')"
    assert customer.call("GET", "/api/me").status_code == 200, "a real customer login no longer works"
    assert admin.call("GET", "/api/admin/orders?status=PLACED").status_code == 200, "a real admin login fails"


def test_the_pool_jwks_serves_only_this_runs_key(shop, customer):
    import urllib.request

    scope = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cognito-idp/aws4_request, Signature=0"
    request = urllib.request.Request(
        f"{shop.moto_url}/{shop.names['pool']}/.well-known/jwks.json", headers={"Authorization": scope}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        keys = json.load(resp)["keys"]
    packaged = _moto_packaged_key()
    assert [k["kid"] for k in keys] == [jwt.get_unverified_header(customer.token)["kid"]]
    assert keys[0]["n"] != packaged["n"], "the JWKS still serves moto's packaged public key"
    assert "d" not in keys[0], "the JWKS leaks the private exponent"


# ---------------------------------------------------------------- raw HTTP helpers


def _exchange(url: str, request: bytes) -> bytes:
    """Send raw bytes, read until the server closes (a test fails rather than hangs: 10 s timeout)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _responses(reply: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a stream of HTTP/1.1 responses (each with Content-Length) into (status, headers, body)."""
    out = []
    while reply:
        head, sep, rest = reply.partition(b"\r\n\r\n")
        assert sep, f"truncated response: {reply[:200]!r}"
        status_line, *lines = head.decode("latin-1").split("\r\n")
        assert status_line.startswith("HTTP/1."), f"not a response: {reply[:200]!r}"
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        length = int(headers["content-length"])
        out.append((int(status_line.split()[1]), headers, rest[:length]))
        reply = rest[length:]
    return out


def _host(shop) -> str:
    return urlsplit(shop.base_url).netloc


# ---------------------------------------------------------------- Host names (DNS rebinding)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1.nip.io:{port}",
        "localhost.evil.example:{port}",
        "127.0.0.2:{port}",
        "127.0.0.1:{other}",
        "localhost.:{port}",
        "0.0.0.0:{port}",
    ],
)
@pytest.mark.parametrize("path", ["/api/health", "/local/outbox?key={key}", "/config.json", "/"])
def test_a_foreign_host_name_is_421_json_and_the_connection_closes(shop, host, path):
    port = urlsplit(shop.base_url).port
    host = host.format(port=port, other=port + 1)
    path = path.format(key=shop.outbox_key)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\nGET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answers = _responses(_exchange(shop.base_url, request.encode()))
    assert len(answers) == 1, f"Host {host}: the connection stayed open for another request"
    status, headers, body = answers[0]
    assert status == 421, f"Host {host} on {path} answered {status}: {body[:200]!r}"
    assert json.loads(body)["error"]["code"] == "MISDIRECTED_REQUEST"
    assert headers["connection"] == "close"


def test_a_missing_duplicated_or_absolute_form_foreign_host_is_421(shop):
    host = _host(shop)
    for request in (
        "GET /api/health HTTP/1.0\r\n\r\n",
        f"GET /api/health HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        f"GET http://evil.example/api/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
    ):
        [(status, _, body)] = _responses(_exchange(shop.base_url, request.encode()))
        assert status == 421, f"{request!r} answered {status}: {body[:200]!r}"


def test_loopback_host_names_are_served(shop):
    port = urlsplit(shop.base_url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}"):
        request = f"GET /api/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        [(status, _, body)] = _responses(_exchange(shop.base_url, request.encode()))
        assert status == 200, f"Host {host} refused: {status} {body[:200]!r}"


def test_the_emulator_refuses_foreign_host_names_too(shop):
    from functions.local.shared_emulator import EMULATOR

    if EMULATOR.mode != "process":
        pytest.skip("moto's own server (SHOP_LOCAL_EMULATOR=thread) has no Host check")
    reply = _exchange(shop.moto_url, b"GET /_shop/ses/sent HTTP/1.1\r\nHost: evil.example\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 421"), f"the emulator served a foreign Host: {reply[:200]!r}"
    assert b"orders@" not in reply


# ---------------------------------------------------------------- the outbox


def test_the_outbox_needs_this_runs_key_or_an_admin_token(shop, customer, admin):
    url = shop.base_url + "/local/outbox"
    refused = {
        "no credentials": requests.get(url, timeout=10),
        "a wrong key": requests.get(url, params={"key": shop.outbox_key + "x"}, timeout=10),
        "a wrong key header": requests.get(url, headers={"x-shop-outbox-key": "guess"}, timeout=10),
        "a customer's token": requests.get(url, headers={"Authorization": f"Bearer {customer.token}"}, timeout=10),
    }
    for what, r in refused.items():
        assert r.status_code == 401, f"the outbox answered {r.status_code} with {what}"
        assert r.json()["error"]["code"] == "UNAUTHORIZED" and '"to":' not in r.text
    allowed = {
        "the key in the query": requests.get(url, params={"key": shop.outbox_key}, timeout=10),
        "the key header": requests.get(url, headers={"x-shop-outbox-key": shop.outbox_key}, timeout=10),
        "an admin token": requests.get(url, headers={"Authorization": f"Bearer {admin.token}"}, timeout=10),
    }
    for what, r in allowed.items():
        assert r.status_code == 200 and isinstance(r.json(), list), f"{what}: {r.status_code} {r.text[:200]}"


def test_every_run_has_its_own_outbox_key():
    from functions.local.stack import LocalStack

    keys = {LocalStack(port=0).outbox_key for _ in range(3)}
    assert len(keys) == 3 and all(len(k) >= 32 for k in keys), keys


# ---------------------------------------------------------------- the CDN's security headers


@pytest.mark.parametrize(
    "path", ["/", "/products/kite", "/js/api.js", "/config.json", "/api/health", "/api/me", "/media/none.png"]
)
def test_every_response_carries_the_cdns_security_headers(shop, path):
    r = requests.get(shop.base_url + path, timeout=10)
    csp = r.headers.get("content-security-policy", "")
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in csp.split("; "), f"{path} ({r.status_code}): CSP {csp!r} lacks {directive!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "connect-src 'self'" in csp.split("; "), f"{path}: uploads go through this origin only: {csp!r}"
    assert r.headers.get("x-content-type-options") == "nosniff", path
    assert r.headers.get("x-frame-options") == "DENY", path
    assert r.headers.get("referrer-policy") == "strict-origin-when-cross-origin", path
    assert "camera=()" in r.headers.get("permissions-policy", ""), path
    assert "strict-transport-security" not in r.headers, f"{path}: HSTS over plain http"


def test_the_local_policy_is_the_cdns_own(shop):
    from functions.shop import security_headers

    r = requests.get(shop.base_url + "/", timeout=10)
    assert r.headers["content-security-policy"] == security_headers.content_security_policy()
    for name, value in security_headers.response_headers(https=False).items():
        assert r.headers.get(name) == value, f"{name}: {r.headers.get(name)!r} != the CDN's {value!r}"


# ---------------------------------------------------------------- Transfer-Encoding: chunked


def _login_body(shop) -> bytes:
    return json.dumps({"email": shop.admin_email, "password": shop.admin_password}).encode()


def _chunked(body: bytes, size: int = 7) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def test_a_chunked_body_reaches_the_function_and_nothing_is_left_over(shop):
    host = _host(shop).encode()
    request = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(_login_body(shop))
    )
    follow_up = b"GET /api/health HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
    answers = _responses(_exchange(shop.base_url, request + follow_up))
    # the admin's password is right: tokens, or (admins use a second factor) the MFA challenge
    assert [status for status, _, _ in answers] in ([200, 200], [202, 200]), f"chunked login + health: {answers}"
    answer = json.loads(answers[0][2])
    assert "accessToken" in answer or "challenge" in answer, "the de-chunked body did not reach the login function"


@pytest.mark.parametrize(
    "headers, body, status, code",
    [
        (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n", 400, "BAD_REQUEST"),
        (b"Content-Length: 2\r\nContent-Length: 40\r\n", b"{}", 400, "BAD_REQUEST"),
        (b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n", 501, "NOT_IMPLEMENTED"),
        (b"Transfer-Encoding: chunked\r\n", b"zz\r\nhello\r\n0\r\n\r\n", 400, "BAD_REQUEST"),
        (b"Transfer-Encoding: chunked\r\n", b"5\r\nhelloXX0\r\n\r\n", 400, "BAD_REQUEST"),
        (b"Transfer-Encoding: chunked\r\n", b"-5\r\nhello\r\n0\r\n\r\n", 400, "BAD_REQUEST"),
        (b"Transfer-Encoding: chunked\r\n", b"200000\r\n" + b"x" * 64, 413, "PAYLOAD_TOO_LARGE"),
    ],
)
def test_a_body_whose_end_is_unknown_is_refused_and_the_connection_closes(shop, headers, body, status, code):
    host = _host(shop).encode()
    request = b"POST /api/auth/login HTTP/1.1\r\nHost: " + host + b"\r\n" + headers + b"\r\n" + body
    smuggled = b"GET /api/health HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    answers = _responses(_exchange(shop.base_url, request + smuggled))
    assert len(answers) == 1, f"{headers!r}: the rest was read as another request: {answers}"
    got_status, got_headers, got_body = answers[0]
    assert got_status == status and json.loads(got_body)["error"]["code"] == code, (got_status, got_body)
    assert got_headers["connection"] == "close"


def test_a_chunked_body_on_a_static_route_is_consumed_too(shop):
    host = _host(shop).encode()
    smuggled = b"GET /local/outbox HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    request = (
        b"GET /config.json HTTP/1.1\r\nHost: " + host + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(smuggled)
    )
    follow_up = b"GET /api/health HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
    answers = _responses(_exchange(shop.base_url, request + follow_up))
    assert [status for status, _, _ in answers] == [200, 200], answers
    assert b"userPoolId" in answers[0][2] and b"userPoolId" not in answers[1][2]


@pytest.mark.parametrize(
    "request_line, status, code",
    [
        (b"GARBAGE", 400, "BAD_REQUEST"),
        (b"GET / HTTP/9.9", 505, "HTTP_VERSION_NOT_SUPPORTED"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1", 414, "REQUEST_URI_TOO_LONG"),
    ],
)
def test_an_unreadable_request_is_answered_in_json_with_the_headers(shop, request_line, status, code):
    request = request_line + b"\r\nHost: " + _host(shop).encode() + b"\r\n\r\n"
    [(got, headers, body)] = _responses(_exchange(shop.base_url, request))
    assert got == status and json.loads(body)["error"]["code"] == code, (got, body[:200])
    assert headers["x-content-type-options"] == "nosniff" and headers["connection"] == "close"


# ---------------------------------------------------------------- each function under its own IAM policy


def test_an_api_call_runs_as_its_routes_function_under_that_functions_policy(shop):
    """The gateway hands API Gateway's event to the real Lambda entrypoint, which names the
    route's function for every SDK call of the invocation; the stack checks each call
    against that function's generated policy (functions/local/iam_policy.py)."""
    from botocore.exceptions import ClientError

    from functions.adapters import aws_clients
    from functions.local import iam_policy, notifications
    from functions.shop import routes

    seen: list[str | None] = []

    def record(**_: object) -> None:
        # the stack's queue poller long-polls SQS meanwhile, as its own function
        if threading.current_thread().name != notifications.THREAD:
            seen.append(aws_clients.current_function())

    aws_clients.add_hook(iam_policy.HOOK_EVENT, record)
    try:
        r = requests.get(shop.base_url + "/api/products", params={"limit": 1}, timeout=10)
    finally:
        aws_clients.remove_hook(iam_policy.HOOK_EVENT, record)
    assert r.status_code == 200, r.text
    route, _ = routes.match("GET", "/api/products")
    assert seen and set(seen) == {route.service}, f"the catalog read ran as {set(seen)}, not {route.service!r}"
    # the same function may not do what its grants do not name, e.g. publish an order event
    with aws_clients.acting_as(route.service), pytest.raises(ClientError) as denied:
        aws_clients.client("sns").publish(TopicArn=shop.names["topic"], Message="{}")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException", denied.value.response
