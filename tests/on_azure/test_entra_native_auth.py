"""Azure sign-in through Entra External ID's native authentication API: the exact calls
(paths, form fields, continuation-token hand-offs) for each path, and the shop's errors
for Entra's refusals."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

import pytest

from functions.adapters._http import HttpResponse
from functions.shop.ports import MFA_CODE, Challenge, IdentityError, Principal, Tokens
from tests.on_azure.test_azure_adapters import AUTHORITY, identity

SCOPE = "openid offline_access api://shop/shop.access"
TOKENS = {"token_type": "Bearer", "access_token": "at", "id_token": "it", "refresh_token": "rt", "expires_in": 3600}
Step = tuple[str, Mapping[str, str], int, Any]


class NativeAuthFake:
    """Entra's native-auth endpoints, scripted: each request must be the next expected one,
    path and form field for field, or the test fails."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)

    def __call__(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float):
        assert self.steps, f"unexpected extra request {method} {url}"
        path, form, status, answer = self.steps.pop(0)
        assert (method, url) == ("POST", AUTHORITY + path), f"expected POST {path}, got {method} {url}"
        assert headers.get("Content-Type") == "application/x-www-form-urlencoded", f"{path} is not a form post"
        sent = dict(urllib.parse.parse_qsl((body or b"").decode(), keep_blank_values=True))
        assert sent == {"client_id": "spa", **form}, f"{path} sent {sent}, expected {form}"
        raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        return HttpResponse(status, raw)

    def done(self) -> None:
        assert not self.steps, f"requests never made: {[s[0] for s in self.steps]}"


def refused(error: str, code: int, **extra: Any) -> dict[str, Any]:
    return {"error": error, "error_description": f"AADSTS{code}: refused", "error_codes": [code], **extra}


def password_steps(email: str, token_status: int, token_answer: Any) -> list[Step]:
    """initiate -> challenge (password) -> token (grant_type=password)."""
    return [
        (
            "/oauth2/v2.0/initiate",
            {
                "username": email,
                "challenge_type": "password redirect",
                "capabilities": "mfa_required registration_required",
            },
            200,
            {"continuation_token": "ct-initiated"},
        ),
        (
            "/oauth2/v2.0/challenge",
            {
                "continuation_token": "ct-initiated",
                "challenge_type": "password redirect",
                "capabilities": "mfa_required registration_required",
            },
            200,
            {"challenge_type": "password", "continuation_token": "ct-password"},
        ),
        (
            "/oauth2/v2.0/token",
            {"continuation_token": "ct-password", "grant_type": "password", "password": "pw", "scope": SCOPE},
            token_status,
            token_answer,
        ),
    ]


MFA_DUE = refused("invalid_grant", 50076, suberror="mfa_required", continuation_token="ct-mfa-due")
REGISTRATION_DUE = refused("invalid_grant", 50076, suberror="registration_required", continuation_token="ct-reg-due")
MFA_STEPS: list[Step] = [
    (
        "/oauth2/v2.0/introspect",
        {"continuation_token": "ct-mfa-due"},
        200,
        {
            "continuation_token": "ct-methods",
            "methods": [
                {
                    "id": "m-email",
                    "challenge_type": "oob",
                    "challenge_channel": "email",
                    "login_hint": "b***@example.com",
                },
                {"id": "m-sms", "challenge_type": "oob", "challenge_channel": "sms", "login_hint": "+1 *** 0100"},
            ],
        },
    ),
    (
        "/oauth2/v2.0/challenge",
        {"continuation_token": "ct-methods", "challenge_type": "oob redirect", "id": "m-email"},
        200,
        {
            "challenge_type": "oob",
            "continuation_token": "ct-code-sent",
            "challenge_channel": "email",
            "challenge_target_label": "b***@example.com",
            "code_length": 8,
        },
    ),
]


def test_a_customer_signs_in_with_three_calls_and_gets_the_tokens():
    fake = NativeAuthFake(*password_steps("ada@example.com", 200, TOKENS))
    tokens = identity(fake).log_in("ada@example.com", "pw")
    assert tokens == Tokens(id_token="it", access_token="at", refresh_token="rt", expires_in=3600)
    fake.done()


def test_an_admin_gets_a_code_challenge_and_the_code_finishes_the_sign_in():
    fake = NativeAuthFake(*password_steps("boss@example.com", 400, MFA_DUE), *MFA_STEPS)
    idp = identity(fake)
    challenge = idp.log_in("boss@example.com", "pw")
    assert challenge == Challenge(MFA_CODE, "mfa:ct-code-sent"), "the code form answers the MFA challenge"
    fake.done()
    answer = NativeAuthFake(
        (
            "/oauth2/v2.0/token",
            {"continuation_token": "ct-code-sent", "grant_type": "mfa_oob", "oob": "12345678", "scope": SCOPE},
            200,
            TOKENS,
        )
    )
    assert identity(answer).answer_mfa("boss@example.com", challenge.session, "12345678").access_token == "at"
    answer.done()


REGISTER_STEPS: list[Step] = [
    (
        "/register/v1.0/introspect",
        {"continuation_token": "ct-reg-due"},
        200,
        {
            "continuation_token": "ct-reg-methods",
            "methods": [
                {"id": "sms", "challenge_type": "oob", "challenge_channel": "sms", "login_hint": ""},
                {
                    "id": "email",
                    "challenge_type": "oob",
                    "challenge_channel": "email",
                    "login_hint": "boss@example.com",
                },
            ],
        },
    ),
]


def register_challenge(answer: Mapping[str, Any]) -> Step:
    return (
        "/register/v1.0/challenge",
        {
            "continuation_token": "ct-reg-methods",
            "challenge_type": "oob",
            "challenge_channel": "email",
            "challenge_target": "boss@example.com",
        },
        200,
        answer,
    )


def final_token(continuation: str) -> Step:
    return (
        "/oauth2/v2.0/token",
        {
            "continuation_token": continuation,
            "grant_type": "continuation_token",
            "username": "boss@example.com",
            "scope": SCOPE,
        },
        200,
        TOKENS,
    )


def test_an_admin_without_a_second_factor_registers_the_email_address_during_sign_in():
    sent = {
        "challenge_type": "oob",
        "continuation_token": "ct-reg-sent",
        "challenge_channel": "email",
        "code_length": 8,
    }
    fake = NativeAuthFake(
        *password_steps("boss@example.com", 400, REGISTRATION_DUE), *REGISTER_STEPS, register_challenge(sent)
    )
    challenge = identity(fake).log_in("boss@example.com", "pw")
    assert challenge == Challenge(MFA_CODE, "register:ct-reg-sent"), "registration ends in the same code form"
    fake.done()
    answer = NativeAuthFake(
        (
            "/register/v1.0/continue",
            {"continuation_token": "ct-reg-sent", "grant_type": "oob", "oob": "87654321"},
            200,
            {"continuation_token": "ct-registered"},
        ),
        final_token("ct-registered"),
    )
    assert identity(answer).answer_mfa("boss@example.com", challenge.session, "87654321").access_token == "at"
    answer.done()


def test_a_preverified_address_is_registered_without_a_code():
    fake = NativeAuthFake(
        *password_steps("boss@example.com", 400, REGISTRATION_DUE),
        *REGISTER_STEPS,
        register_challenge({"challenge_type": "preverified", "continuation_token": "ct-preverified"}),
        (
            "/register/v1.0/continue",
            {"continuation_token": "ct-preverified", "grant_type": "continuation_token"},
            200,
            {"continuation_token": "ct-registered"},
        ),
        final_token("ct-registered"),
    )
    assert isinstance(identity(fake).log_in("boss@example.com", "pw"), Tokens)
    fake.done()


@pytest.mark.parametrize(
    ("session", "path", "status", "answer", "expected"),
    [
        (
            "mfa:ct-code-sent",
            "/oauth2/v2.0/token",
            400,
            refused("invalid_grant", 50181, suberror="invalid_oob_value"),
            ("CODE_MISMATCH", 400),
        ),
        ("mfa:ct-code-sent", "/oauth2/v2.0/token", 400, refused("expired_token", 552003), ("SESSION_EXPIRED", 401)),
        ("mfa:ct-code-sent", "/oauth2/v2.0/token", 400, refused("invalid_grant", 50053), ("TOO_MANY_REQUESTS", 429)),
        (
            "register:ct-reg-sent",
            "/register/v1.0/continue",
            400,
            refused("invalid_grant", 50181, suberror="invalid_oob_value"),
            ("CODE_MISMATCH", 400),
        ),
        (
            "register:ct-reg-sent",
            "/register/v1.0/continue",
            400,
            refused("invalid_request", 55200),
            ("SESSION_EXPIRED", 401),
        ),
    ],
)
def test_a_wrong_or_late_code_is_the_shops_code_error(session, path, status, answer, expected):
    grant = (
        {"grant_type": "mfa_oob", "oob": "00000000", "scope": SCOPE}
        if path.endswith("token")
        else {"grant_type": "oob", "oob": "00000000"}
    )
    fake = NativeAuthFake((path, {"continuation_token": session.split(":", 1)[1], **grant}, status, answer))
    with pytest.raises(IdentityError) as e:
        identity(fake).answer_mfa("boss@example.com", session, "00000000")
    assert (e.value.code, e.value.status) == expected, f"{answer} mapped to {e.value.code}"
    fake.done()


def test_a_session_this_adapter_never_issued_is_expired_without_a_call():
    with pytest.raises(IdentityError) as e:
        identity(NativeAuthFake()).answer_mfa("boss@example.com", "SOFTWARE_TOKEN_MFA-session-from-elsewhere", "123456")
    assert (e.value.code, e.value.status) == ("SESSION_EXPIRED", 401)


@pytest.mark.parametrize(
    ("status", "answer", "expected"),
    [
        (400, refused("invalid_grant", 50126), ("NOT_AUTHORIZED", 401)),  # wrong password
        (400, refused("invalid_grant", 50053), ("TOO_MANY_REQUESTS", 429)),  # locked out after too many tries
        (429, refused("invalid_grant", 50196), ("TOO_MANY_REQUESTS", 429)),
        (400, refused("invalid_grant", 50057), ("USER_DISABLED", 403)),
        (500, b"<html>upstream error</html>", ("IDENTITY_UNAVAILABLE", 503)),
    ],
)
def test_a_refused_password_is_the_shops_sign_in_error_never_a_500(status, answer, expected):
    fake = NativeAuthFake(*password_steps("ada@example.com", status, answer))
    with pytest.raises(IdentityError) as e:
        identity(fake).log_in("ada@example.com", "pw")
    assert (e.value.code, e.value.status) == expected, f"{answer!r} mapped to {e.value.code}"
    fake.done()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (refused("user_not_found", 50034), ("NOT_AUTHORIZED", 401)),  # same as a wrong password: no enumeration
        (refused("invalid_client", 500001, suberror="nativeauthapi_disabled"), ("IDENTITY_UNAVAILABLE", 503)),
    ],
)
def test_initiate_refusals_stop_the_sign_in(answer, expected):
    first = password_steps("who@example.com", 200, TOKENS)[0]
    fake = NativeAuthFake((first[0], first[1], 400, answer))
    with pytest.raises(IdentityError) as e:
        identity(fake).log_in("who@example.com", "pw")
    assert (e.value.code, e.value.status) == expected
    fake.done()


def test_a_browser_only_step_is_a_challenge_the_shop_does_not_offer():
    initiate, challenge, _ = password_steps("ada@example.com", 200, TOKENS)
    fake = NativeAuthFake(initiate, (challenge[0], challenge[1], 200, {"challenge_type": "redirect"}))
    with pytest.raises(IdentityError) as e:
        identity(fake).log_in("ada@example.com", "pw")
    assert (e.value.code, e.value.status) == ("CHALLENGE_UNSUPPORTED", 403)
    fake.done()


def test_authenticator_app_enrolment_is_not_offered_on_entra():
    for call in (
        lambda idp: idp.start_mfa_setup(Principal("oid-1")),
        lambda idp: idp.finish_mfa_setup(Principal("oid-1"), "123456", None),
    ):
        with pytest.raises(IdentityError) as e:
            call(identity(NativeAuthFake()))
        assert e.value.code == "CHALLENGE_UNSUPPORTED"


def test_an_unreachable_identity_provider_is_a_503():
    def down(method, url, headers, body, timeout):
        raise TimeoutError("timed out")

    with pytest.raises(IdentityError) as e:
        identity(down).log_in("ada@example.com", "pw")
    assert (e.value.code, e.value.status) == ("IDENTITY_UNAVAILABLE", 503)
