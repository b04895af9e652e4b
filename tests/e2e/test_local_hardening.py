"""What makes the local stack as hard to break as the cloud (issue 17): its own token
signing key, loopback-only Host names, a protected outbox, the CDN's security headers and
chunked request bodies."""

from __future__ import annotations

import json
import time

import jwt
import pytest
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
