"""Accounts against the local stack (moto's Cognito, the real Lambda entrypoints, the local
gateway): the admin's second factor, sign-out, the admin re-check, sign-up without
enumeration, verified addresses only. moto accepts any TOTP code (it has no TOTP check);
the in-memory tests (tests/domain/test_accounts.py) check the codes themselves."""

from __future__ import annotations

import time
import urllib.parse

import pytest
import requests

from functions.adapters import totp
from functions.adapters.aws_clients import client
from tests.fakes import mfa

pytestmark = pytest.mark.e2e
PASSWORD = "Corr3ct-horse!"


def post(shop, path, body=None, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(shop.base_url + path, json=body, headers=headers, timeout=30)


def get(shop, path, token):
    return requests.get(shop.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def new_user(shop, admin=False) -> str:
    email = f"acct-{time.monotonic_ns()}@example.com"
    r = post(shop, "/api/auth/signup", {"email": email, "password": PASSWORD})
    assert r.status_code == 202, r.text
    if admin:
        client("cognito-idp").admin_add_user_to_group(UserPoolId=shop.names["pool"], Username=email, GroupName="admin")
    return email


@pytest.fixture
def no_recheck_cache(shop):
    """Every admin request asks Cognito (the deployed default caches a yes for 30 s)."""
    identity = shop.services.identity
    before, identity.admin_recheck_seconds = identity.admin_recheck_seconds, 0
    yield
    identity.admin_recheck_seconds = before


def test_admin_sign_in_enrols_an_authenticator_then_answers_the_code_challenge(shop):
    email = new_user(shop, admin=True)
    first = post(shop, "/api/auth/login", {"email": email, "password": PASSWORD})
    assert first.status_code == 202 and first.json()["challenge"] == "MFA_SETUP", first.text
    session = first.json()["session"]
    refused = get(shop, "/api/admin/orders?status=PLACED", session)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "MFA_REQUIRED", refused.text

    setup = post(shop, "/api/auth/mfa/setup", token=session)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secretCode"]
    assert urllib.parse.parse_qs(urllib.parse.urlparse(setup.json()["otpauthUri"]).query)["secret"] == [secret]
    verified = post(shop, "/api/auth/mfa/verify", {"code": totp.code(secret)}, token=session)
    assert verified.status_code == 200 and verified.json() == {"status": "mfa-enabled"}, verified.text
    # the password-only session is over, at Cognito
    assert get(shop, "/api/admin/orders?status=PLACED", session).status_code == 401

    challenge = post(shop, "/api/auth/login", {"email": email, "password": PASSWORD})
    assert challenge.status_code == 202 and challenge.json()["challenge"] == "SOFTWARE_TOKEN_MFA", challenge.text
    answer = {"email": email, "session": challenge.json()["session"], "code": totp.code(secret)}
    tokens = post(shop, "/api/auth/mfa", answer)
    assert tokens.status_code == 200 and tokens.json()["accessToken"], tokens.text
    listed = get(shop, "/api/admin/orders?status=PLACED", tokens.json()["accessToken"])
    assert listed.status_code == 200, listed.text


def test_a_stale_mfa_session_is_a_401_not_a_500(shop):
    email = new_user(shop)
    r = post(shop, "/api/auth/mfa", {"email": email, "session": "x" * 40, "code": "123456"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "SESSION_EXPIRED", r.text


def test_sign_out_revokes_the_refresh_token_at_cognito(shop):
    email = new_user(shop)
    tokens = post(shop, "/api/auth/login", {"email": email, "password": PASSWORD}).json()
    assert post(shop, "/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}).status_code == 200
    out = post(shop, "/api/auth/signout", token=tokens["accessToken"])
    assert out.status_code == 200 and out.json() == {"status": "signed-out"}, out.text
    again = post(shop, "/api/auth/refresh", {"refreshToken": tokens["refreshToken"]})
    assert again.status_code == 401, again.text


@pytest.mark.parametrize("change", ["remove-from-group", "disable", "delete"])
def test_a_changed_admin_loses_admin_writes_with_a_live_token(shop, no_recheck_cache, change):
    email = new_user(shop, admin=True)
    token = mfa.sign_in(shop.base_url, email, PASSWORD)["accessToken"]
    # an admin write on a product that does not exist: 404 once the admin checks pass
    url, body = shop.base_url + "/api/admin/products/no-such-product/stock", {"stock": 1}
    auth = {"Authorization": f"Bearer {token}"}
    before = requests.put(url, json=body, headers=auth, timeout=30)
    assert before.status_code == 404, f"the admin could not write before the change: {before.text}"
    idp, pool = client("cognito-idp"), shop.names["pool"]
    {
        "remove-from-group": lambda: idp.admin_remove_user_from_group(
            UserPoolId=pool, Username=email, GroupName="admin"
        ),
        "disable": lambda: idp.admin_disable_user(UserPoolId=pool, Username=email),
        "delete": lambda: idp.admin_delete_user(UserPoolId=pool, Username=email),
    }[change]()
    r = requests.put(url, json=body, headers=auth, timeout=30)
    assert r.status_code == (403 if change == "remove-from-group" else 401), (change, r.status_code, r.text)


def test_sign_up_answers_the_same_for_an_existing_address(shop):
    email = new_user(shop)
    again = post(shop, "/api/auth/signup", {"email": email, "password": "Other-passw0rd!"})
    fresh = post(shop, "/api/auth/signup", {"email": f"fresh-{time.monotonic_ns()}@example.com", "password": PASSWORD})
    assert (
        (again.status_code, again.json())
        == (fresh.status_code, fresh.json())
        == (
            202,
            {"status": "pending", "confirmed": True},
        )
    )
    assert post(shop, "/api/auth/login", {"email": email, "password": PASSWORD}).status_code == 200


def test_order_mail_is_never_looked_up_for_an_unverified_address(shop):
    email = new_user(shop)
    identity, idp, pool = shop.services.identity, client("cognito-idp"), shop.names["pool"]
    attributes = idp.admin_get_user(UserPoolId=pool, Username=email)["UserAttributes"]
    sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
    assert identity.lookup_email(sub) == email
    idp.admin_update_user_attributes(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": "attacker@example.net"},
            {"Name": "email_verified", "Value": "false"},
        ],
    )
    assert identity.lookup_email(sub) is None
