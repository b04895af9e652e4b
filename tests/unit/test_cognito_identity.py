"""What the Cognito adapter sends (botocore's Stubber checks every parameter against the
request): the client's address as ContextData, the MFA calls, the admin re-check and its
cache. moto accepts ContextData without looking at it, so these are checked here."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from botocore.stub import Stubber

from functions.adapters import aws_clients
from functions.adapters.cognito_identity import CognitoIdentity
from functions.shop.ports import MFA_CODE, MFA_SETUP, Challenge, ClientContext, IdentityError, Principal

POOL, CLIENT = "eu-west-1_abc", "client-1"


def _jwt(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'RS256'})}.{enc(claims)}.c2ln"


@pytest.fixture
def idp(monkeypatch):
    cognito = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setitem(aws_clients._clients, "cognito-idp", cognito)
    with Stubber(cognito) as stub:
        yield CognitoIdentity(POOL, CLIENT, admin_recheck_seconds=30), stub
        stub.assert_no_pending_responses()


def _result(access: str) -> dict:
    return {"AuthenticationResult": {"IdToken": "id", "AccessToken": access, "RefreshToken": "r", "ExpiresIn": 900}}


def test_sign_in_passes_the_clients_address_and_device_data_to_cognito(idp):
    identity, stub = idp
    context = ClientContext(ip="198.51.100.7", user_agent="Firefox/140", host="shop.example.com",
                            path="/api/auth/login", device_data="asf-blob")  # fmt: skip
    stub.add_response(
        "admin_initiate_auth",
        _result(_jwt({"sub": "u", "token_use": "access"})),
        {
            "UserPoolId": POOL,
            "ClientId": CLIENT,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ada@example.com", "PASSWORD": "pw"},
            "ContextData": {
                "IpAddress": "198.51.100.7",
                "ServerName": "shop.example.com",
                "ServerPath": "/api/auth/login",
                "HttpHeaders": [{"headerName": "User-Agent", "headerValue": "Firefox/140"}],
                "EncodedData": "asf-blob",
            },
        },
    )
    tokens = identity.log_in("Ada@Example.com", "pw", context)
    assert tokens.refresh_token == "r"


def test_a_user_with_mfa_gets_the_challenge_not_a_500(idp):
    identity, stub = idp
    stub.add_response("admin_initiate_auth", {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": "s" * 40})
    assert identity.log_in("ada@example.com", "pw") == Challenge(MFA_CODE, "s" * 40)
    stub.add_response(
        "admin_respond_to_auth_challenge",
        _result("at"),
        {
            "UserPoolId": POOL,
            "ClientId": CLIENT,
            "ChallengeName": "SOFTWARE_TOKEN_MFA",
            "Session": "s" * 40,
            "ChallengeResponses": {"USERNAME": "ada@example.com", "SOFTWARE_TOKEN_MFA_CODE": "123456"},
            "ContextData": {
                "IpAddress": "203.0.113.9",
                "ServerName": "shop",
                "ServerPath": "/api/auth/mfa",
                "HttpHeaders": [],
            },
        },
    )
    context = ClientContext(ip="203.0.113.9", path="/api/auth/mfa")
    assert identity.answer_mfa("ada@example.com", "s" * 40, "123456", context).access_token == "at"
    stub.add_client_error("admin_respond_to_auth_challenge", "CodeMismatchException")
    with pytest.raises(IdentityError) as e:
        identity.answer_mfa("ada@example.com", "s" * 40, "000000")
    assert (e.value.code, e.value.status) == ("CODE_MISMATCH", 400)


def test_an_operator_created_user_is_a_403_not_a_500(idp):
    identity, stub = idp
    stub.add_response("admin_initiate_auth", {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s" * 40})
    with pytest.raises(IdentityError) as e:
        identity.log_in("ada@example.com", "pw")
    assert (e.value.code, e.value.status) == ("CHALLENGE_UNSUPPORTED", 403)


def test_an_admin_without_mfa_is_sent_to_enrol(idp):
    identity, stub = idp
    access = _jwt({"sub": "u", "token_use": "access", "cognito:groups": ["admin"]})
    stub.add_response("admin_initiate_auth", _result(access))
    stub.add_response(
        "get_user", {"Username": "u", "UserAttributes": [], "UserMFASettingList": []}, {"AccessToken": access}
    )
    assert identity.log_in("boss@example.com", "pw") == Challenge(MFA_SETUP, access)


def test_enrolment_turns_totp_on_and_signs_every_earlier_session_out(idp):
    identity, stub = idp
    stub.add_response("associate_software_token", {"SecretCode": "JBSWY3DPEHPK3PXP"}, {"AccessToken": "at"})
    who = Principal("u", ("admin",), access_token="at")
    assert identity.start_mfa_setup(who).secret == "JBSWY3DPEHPK3PXP"
    stub.add_response(
        "verify_software_token",
        {"Status": "SUCCESS"},
        {"AccessToken": "at", "UserCode": "123456", "FriendlyDeviceName": "shop"},
    )
    stub.add_response(
        "set_user_mfa_preference",
        {},
        {"AccessToken": "at", "SoftwareTokenMfaSettings": {"Enabled": True, "PreferredMfa": True}},
    )
    stub.add_response("global_sign_out", {}, {"AccessToken": "at"})
    identity.finish_mfa_setup(who, "123456", None)


def test_admin_recheck_asks_cognito_then_trusts_the_answer_briefly(idp, monkeypatch):
    identity, stub = idp
    clock = [1000.0]
    monkeypatch.setattr("functions.adapters._admin_checks.time.monotonic", lambda: clock[0])
    who = Principal("u", ("admin",), access_token="at")
    user = {"Username": "u-name", "UserAttributes": [], "UserMFASettingList": ["SOFTWARE_TOKEN_MFA"]}
    groups = {"Groups": [{"GroupName": "admin"}]}
    stub.add_response("get_user", user, {"AccessToken": "at"})
    stub.add_response("admin_list_groups_for_user", groups, {"UserPoolId": POOL, "Username": "u-name"})
    identity.verify_admin(who)
    clock[0] += 29
    identity.verify_admin(who)  # cached: no call to Cognito (the Stubber would fail on one)
    clock[0] += 2
    stub.add_response("get_user", user, {"AccessToken": "at"})
    stub.add_response("admin_list_groups_for_user", {"Groups": []}, {"UserPoolId": POOL, "Username": "u-name"})
    with pytest.raises(IdentityError) as e:
        identity.verify_admin(who)
    assert e.value.code == "FORBIDDEN"
    stub.add_client_error("get_user", "NotAuthorizedException", "Access Token has been revoked")
    with pytest.raises(IdentityError) as e:
        identity.verify_admin(who)
    assert (e.value.code, e.value.status) == ("NOT_AUTHORIZED", 401)
    stub.add_response("get_user", {**user, "UserMFASettingList": []}, {"AccessToken": "at"})
    stub.add_response("admin_list_groups_for_user", groups, {"UserPoolId": POOL, "Username": "u-name"})
    with pytest.raises(IdentityError) as e:
        identity.verify_admin(who)
    assert e.value.code == "MFA_REQUIRED"
