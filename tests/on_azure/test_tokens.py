"""Claims -> Principal for the token shapes the Azure and GCP gateways pass through."""

from __future__ import annotations

import base64
import json

import pytest

from functions.runtimes import _tokens
from functions.shop.http import bearer_token


def unsigned(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'RS256'})}.{enc(claims)}.c2ln"


@pytest.mark.parametrize(
    ("claims", "user", "groups", "email"),
    [
        (
            {"oid": "o-1", "sub": "pairwise", "roles": ["admin"], "emails": ["a@x.io"]},
            "o-1",
            ("admin",),
            "a@x.io",
        ),  # Entra / B2C
        ({"sub": "s-1", "preferred_username": "b@x.io", "groups": "admin"}, "s-1", ("admin",), "b@x.io"),
        (
            {"user_id": "u-1", "sub": "u-1", "email": "c@x.io", "groups": ["admin", "staff"]},
            "u-1",
            ("admin", "staff"),
            "c@x.io",
        ),
        ({"sub": "c-1", "cognito:groups": ["admin"]}, "c-1", ("admin",), None),  # Cognito
    ],
)
def test_claim_shapes(claims, user, groups, email):
    p = _tokens.principal_from_claims(claims, "tok")
    assert (p.user_id, p.groups, p.email, p.access_token) == (user, groups, email, "tok")


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"sub": 42}, {"email": "x@y"}])
def test_claims_without_a_usable_subject_give_no_principal(claims):
    assert _tokens.principal_from_claims(claims, None) is None


def test_bearer_parsing_and_gateway_mode(monkeypatch):
    assert bearer_token("Bearer abc") == "abc" and bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None and bearer_token("Bearer ") is None and bearer_token(None) is None
    token = unsigned({"sub": "s-1"})
    monkeypatch.setenv(_tokens.ENV_GATEWAY_VALIDATED, "true")
    assert _tokens.principal_from_bearer(f"Bearer {token}").user_id == "s-1"
    monkeypatch.delenv(_tokens.ENV_GATEWAY_VALIDATED)
    monkeypatch.delenv(_tokens.ENV_JWKS_URL, raising=False)
    assert _tokens.principal_from_bearer(f"Bearer {token}") is None, "unverified claims only in gateway mode"


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "c-1", "token_use": "id", "cognito:groups": ["admin"]},  # a Cognito ID token
        {"oid": "o-1", "tid": "t-1", "roles": ["admin"], "aud": "client-id"},  # an Entra ID token (no scp)
        {"oid": "o-1", "tid": "t-1", "roles": ["admin"], "scp": ""},
    ],
)
def test_id_tokens_are_not_api_credentials(claims):
    assert _tokens.principal_from_claims(claims, "tok") is None


def test_access_tokens_still_are():
    assert _tokens.principal_from_claims({"oid": "o-1", "tid": "t-1", "scp": "shop.access"}, "t").user_id == "o-1"
    assert _tokens.principal_from_claims({"sub": "c-1", "token_use": "access"}, "t").user_id == "c-1"


@pytest.mark.parametrize(
    ("claims", "mfa"),
    [
        ({"user_id": "u-1", "firebase": {"sign_in_provider": "password", "sign_in_second_factor": "totp"}}, True),
        ({"user_id": "u-1", "firebase": {"sign_in_provider": "password"}}, False),
        ({"oid": "o-1", "tid": "t", "scp": "s", "amr": ["pwd", "mfa"]}, True),
        ({"oid": "o-1", "tid": "t", "scp": "s", "amr": ["pwd"]}, False),
        ({"sub": "c-1", "token_use": "access"}, None),  # Cognito: ask the user pool
    ],
)
def test_the_second_factor_as_the_token_states_it(claims, mfa):
    assert _tokens.principal_from_claims(claims, "t").mfa is mfa


def test_an_unverified_address_in_a_token_is_not_the_users_email():
    """Identity Platform: a user who changed their address has email_verified false until
    they confirm it; orders must not be mailed there."""
    claims = {"user_id": "u-1", "email": "attacker@example.net", "email_verified": False}
    assert _tokens.principal_from_claims(claims, "t").email is None
    assert _tokens.principal_from_claims({**claims, "email_verified": True}, "t").email == "attacker@example.net"
