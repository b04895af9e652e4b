"""Accounts: no enumeration at sign-up, the admin's second factor, sign-out revocation and
the admin re-check against the identity service (in-memory identity, real TOTP codes)."""

from __future__ import annotations

import urllib.parse

from functions.adapters import totp
from functions.shop.api import handle
from functions.shop.http import Request
from functions.shop.openapi import build as build_document

from .conftest import PASSWORD


def _login(shop, email, password=PASSWORD, status=200):
    return shop.ok("POST", "/api/auth/login", {"email": email, "password": password}, status=status)


def _admin_without_mfa(shop, email="boss@example.com"):
    shop.services.identity.sign_up(email, PASSWORD)
    shop.services.identity.add_to_group(email, "admin")
    return email


def test_sign_up_answers_the_same_for_a_new_and_an_existing_address(shop):
    first = shop.call("POST", "/api/auth/signup", {"email": "twice@example.com", "password": PASSWORD})
    again = shop.call("POST", "/api/auth/signup", {"email": "twice@example.com", "password": "another-pass1"})
    assert (again.status, again.body) == (first.status, first.body) == (202, {"status": "pending", "confirmed": True})
    # the second sign-up changed nothing: the owner's password still works, the other does not
    assert _login(shop, "twice@example.com")["accessToken"]
    shop.fails(
        "POST",
        "/api/auth/login",
        {"email": "twice@example.com", "password": "another-pass1"},
        status=401,
        code="NOT_AUTHORIZED",
    )


def test_an_admin_without_mfa_is_led_through_enrolment_then_signs_in_with_a_code(shop):
    email = _admin_without_mfa(shop)
    ident = shop.services.identity
    challenge = _login(shop, email, status=202)
    assert challenge["challenge"] == "MFA_SETUP" and challenge["session"], challenge
    pre_mfa = ident.principal_for(challenge["session"])
    # the enrolment session is no admin session
    shop.fails("GET", "/api/admin/orders", who=pre_mfa, status=403, code="MFA_REQUIRED")

    setup = shop.ok("POST", "/api/auth/mfa/setup", who=pre_mfa)
    secret = setup["secretCode"]
    uri = urllib.parse.urlparse(setup["otpauthUri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp", setup
    assert urllib.parse.parse_qs(uri.query)["secret"] == [secret] and email in urllib.parse.unquote(uri.path)

    wrong = "000000" if totp.code(secret) != "000000" else "111111"
    shop.fails("POST", "/api/auth/mfa/verify", {"code": wrong}, who=pre_mfa, status=400, code="CODE_MISMATCH")
    assert shop.ok("POST", "/api/auth/mfa/verify", {"code": totp.code(secret)}, who=pre_mfa) == {
        "status": "mfa-enabled"
    }
    # every session that began without the second factor is over
    shop.fails("GET", "/api/admin/orders", who=pre_mfa, status=401, code="NOT_AUTHORIZED")

    challenge = _login(shop, email, status=202)
    assert challenge["challenge"] == "SOFTWARE_TOKEN_MFA", challenge
    answer = {"email": email, "session": challenge["session"]}
    shop.fails("POST", "/api/auth/mfa", {**answer, "code": wrong}, status=400, code="CODE_MISMATCH")
    shop.fails("POST", "/api/auth/mfa", {**answer, "email": "x@example.com", "code": totp.code(secret)}, status=401)
    tokens = shop.ok("POST", "/api/auth/mfa", {**answer, "code": totp.code(secret)})
    admin = ident.principal_for(tokens["accessToken"])
    assert shop.ok("GET", "/api/admin/orders", who=admin, query={"status": "PLACED"})["items"] == []


def test_mfa_answers_are_validated_before_the_identity_service_sees_them(shop):
    for bad in (
        {"email": "a@example.com", "session": "s" * 30, "code": "12345"},
        {"email": "a@example.com", "code": "1"},
    ):
        shop.fails("POST", "/api/auth/mfa", bad, status=422, code="VALIDATION_ERROR")
    shop.fails("POST", "/api/auth/mfa/setup", status=401)


def test_a_customer_with_mfa_is_challenged_too(shop):
    shop.services.identity.sign_up("careful@example.com", PASSWORD)
    secret = shop.services.identity.enable_mfa("careful@example.com")
    challenge = _login(shop, "careful@example.com", status=202)
    assert challenge["challenge"] == "SOFTWARE_TOKEN_MFA"
    tokens = shop.ok(
        "POST",
        "/api/auth/mfa",
        {"email": "careful@example.com", "session": challenge["session"], "code": totp.code(secret)},
    )
    assert set(tokens) == {"idToken", "accessToken", "refreshToken", "expiresIn"}


def test_sign_out_revokes_the_refresh_token_and_the_session(shop):
    shop.services.identity.sign_up("leaving@example.com", PASSWORD)
    tokens = _login(shop, "leaving@example.com")
    who = shop.services.identity.principal_for(tokens["accessToken"])
    assert shop.ok("POST", "/api/auth/signout", who=who) == {"status": "signed-out"}
    shop.fails("POST", "/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, status=401)
    shop.fails("POST", "/api/auth/signout", status=401, code="UNAUTHORIZED")


def test_admin_sign_out_ends_admin_access_at_once(shop, admin):
    assert shop.ok("GET", "/api/admin/orders", who=admin, query={"status": "PLACED"})
    shop.ok("POST", "/api/auth/signout", who=admin)
    # the token itself has not expired: the identity service is asked, and says no
    shop.fails("GET", "/api/admin/orders", who=admin, query={"status": "PLACED"}, status=401, code="NOT_AUTHORIZED")


def test_a_removed_disabled_or_deleted_admin_loses_admin_access_with_a_live_token(shop):
    ident = shop.services.identity
    for n, action in enumerate((lambda e: ident.remove_from_group(e, "admin"), ident.disable, ident.delete), start=1):
        admin = shop.user(f"ex-admin{n}@example.com", admin=True)
        body = {"stock": 5}
        assert shop.ok("PUT", "/api/admin/products/b1/stock", body, who=admin)["stock"] == 5
        action(f"ex-admin{n}@example.com")
        assert "admin" in admin.groups  # the token still says admin
        err = shop.fails("PUT", "/api/admin/products/b1/stock", {"stock": 6}, who=admin, status=403 if n == 1 else 401)
        assert err["code"] == ("FORBIDDEN" if n == 1 else "NOT_AUTHORIZED"), err
    assert shop.store.get_product("b1").stock == 5


def test_the_openapi_document_names_the_challenge_answer_and_the_new_routes():
    doc = build_document()
    login = doc["paths"]["/api/auth/login"]["post"]["responses"]
    assert login["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ChallengeResponse"}
    assert set(doc["components"]["schemas"]["ChallengeResponse"]["properties"]) == {"challenge", "session"}
    for path in ("/api/auth/mfa", "/api/auth/mfa/setup", "/api/auth/mfa/verify", "/api/auth/signout"):
        assert "post" in doc["paths"][path], path
    assert "202" in doc["paths"]["/api/auth/signup"]["post"]["responses"]


def test_an_unreachable_identity_service_refuses_admin_calls_with_a_503(shop, admin):
    def down(principal):
        raise ConnectionError("cognito-idp unreachable")

    shop.services.identity.verify_admin = down
    request = Request("PUT", "/api/admin/products/b1/stock", body=b'{"stock": 9}', principal=admin)
    r = handle(request, shop.services)  # shop.call fails any 5xx on the spot
    assert r.status == 503 and r.body["error"]["code"] == "UNAVAILABLE" and r.headers["retry-after"] == "1"
    assert shop.store.get_product("b1").stock != 9


def test_a_refused_sign_in_logs_the_marker_monitoring_counts_and_nothing_personal(shop, caplog):
    from functions.shop.accounts import SIGN_IN_FAILED

    shop.services.identity.sign_up("victim@example.com", "Right-pass-1!")
    with caplog.at_level("WARNING", logger="shop.accounts"):
        shop.fails("POST", "/api/auth/login", {"email": "victim@example.com", "password": "wrong-guess"}, status=401)
    lines = [r.getMessage() for r in caplog.records if r.name == "shop.accounts"]
    assert [line for line in lines if SIGN_IN_FAILED in line], f"no {SIGN_IN_FAILED} line in {lines}"
    assert not any("victim@example.com" in line or "wrong-guess" in line for line in lines), lines
    caplog.clear()
    with caplog.at_level("WARNING", logger="shop.accounts"):
        shop.ok("POST", "/api/auth/login", {"email": "victim@example.com", "password": "Right-pass-1!"})
    assert not [r for r in caplog.records if SIGN_IN_FAILED in r.getMessage()], "a good sign-in is not counted"
