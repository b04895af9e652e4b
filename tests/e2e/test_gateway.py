"""The local gateway's own behaviour: what API Gateway and the CDN do in front of the
functions (token check, body limits, static files, media, outbox)."""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.e2e


def raw_http(base_url: str, request: bytes) -> bytes:
    """Send bytes the way a misbehaving client would (requests normalises too much)."""
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_401_carries_api_gateways_body_and_the_shops_error_shape(shop):
    r = requests.get(shop.base_url + "/api/orders", timeout=10)
    assert r.status_code == 401
    assert r.json()["message"] == "Unauthorized" and r.json()["error"]["code"] == "UNAUTHORIZED"


def test_body_over_the_gateway_limit_is_413_json_and_the_connection_is_not_confused(shop):
    r = requests.put(
        shop.base_url + "/api/cart/items/kite",
        data=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    # the next request on a fresh connection is served normally
    assert requests.get(shop.base_url + "/api/health", timeout=10).status_code == 200


def test_invalid_content_length_is_400_json(shop):
    reply = raw_http(shop.base_url, b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert b'"BAD_REQUEST"' in reply


def test_binary_body_reaches_the_function_base64_encoded_and_is_rejected_cleanly(customer):
    r = customer.call(
        "PUT",
        "/api/cart/items/kite",
        data=b"\xff\xfe\x00\x01binary",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "BAD_REQUEST", r.text


def test_token_without_bearer_scheme_and_garbage_tokens_are_401(shop, customer):
    for header in ("Basic dXNlcjpwYXNz", "Bearer ", "Bearer a.b.c", "Bearer " + "x" * 5000):
        r = requests.get(shop.base_url + "/api/me", headers={"Authorization": header}, timeout=10)
        assert r.status_code == 401, f"{header[:20]!r}: {r.status_code}"


def test_an_id_token_is_not_an_access_token(shop, customer):
    email = customer.email
    tokens = requests.post(
        shop.base_url + "/api/auth/login", json={"email": email, "password": "Corr3ct-horse!"}, timeout=10
    ).json()
    r = requests.get(shop.base_url + "/api/me", headers={"Authorization": f"Bearer {tokens['idToken']}"}, timeout=10)
    assert r.status_code == 401
    refreshed = requests.post(
        shop.base_url + "/api/auth/refresh", json={"refreshToken": tokens["refreshToken"]}, timeout=10
    )
    assert refreshed.status_code == 200, refreshed.text
    me = requests.get(
        shop.base_url + "/api/me", headers={"Authorization": f"Bearer {refreshed.json()['accessToken']}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["email"] == email


def test_storefront_static_files_spa_fallback_and_no_traversal(shop):
    index = requests.get(shop.base_url + "/", timeout=10)
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    spa = requests.get(shop.base_url + "/products/kite", timeout=10)
    assert spa.status_code == 200 and spa.text == index.text
    # Served as the clouds publish it: the page names content-hashed scripts, the plain names are gone.
    hashed = re.search(r'src="(/js/app\.[0-9a-f]{12}\.js)"', index.text)
    assert hashed, "index.html does not name a content-hashed app.js"
    js = requests.get(shop.base_url + hashed.group(1), timeout=10)
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert requests.get(shop.base_url + "/js/app.js", timeout=10).status_code == 404
    assert requests.get(shop.base_url + "/js/missing.js", timeout=10).status_code == 404
    for path in (b"/../pyproject.toml", b"/%2e%2e/pyproject.toml", b"/css/../../Makefile"):
        reply = raw_http(shop.base_url, b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert b"[tool.ruff]" not in reply and b"PYTHON ?=" not in reply, f"{path!r} escaped site/"


def test_unknown_media_is_a_json_404(shop):
    r = requests.get(shop.base_url + "/media/products/nope.png", timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


def test_outbox_is_a_json_list_of_emails(shop):
    r = requests.get(shop.base_url + "/local/outbox", params={"key": shop.outbox_key}, timeout=10)
    assert r.status_code == 200 and isinstance(r.json(), list)
    assert all(set(m) == {"to", "subject", "text"} for m in r.json())


def test_with_an_origin_secret_the_gateway_sends_it_and_the_function_demands_it(shop, monkeypatch):
    from functions.runtimes import aws_http, origin

    monkeypatch.setenv(origin.ORIGIN_SECRET_ENV, "local-origin-secret")
    r = requests.get(shop.base_url + "/api/health", timeout=10)
    assert r.status_code == 200, f"the local gateway plays CloudFront and must send the origin header: {r.text}"
    direct = aws_http.handler(
        {"version": "2.0", "rawPath": "/api/health", "requestContext": {"http": {"method": "GET"}}, "headers": {}},
        None,
        services_factory=lambda: shop.services,
    )
    assert direct["statusCode"] == 403, f"without the header the function must refuse: {direct}"
