"""Identity Platform, Pub/Sub + email notifier and V4 signed-URL media against scripted
transports and fakes (what they send, and how they map failures)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from functions.adapters.gcp_identity import SECURETOKEN, TOOLKIT, TOOLKIT_V2, IdentityPlatform
from functions.adapters.gcp_media import GcsSignedUrlMedia
from functions.adapters.gcp_notifier import GcpNotifier
from functions.shop.ports import (
    MFA_CODE,
    MFA_SETUP,
    Challenge,
    IdentityError,
    MfaSecret,
    OrderEvent,
    OrderLine,
    Principal,
)
from tests.fakes.http import FakeTransport


class Creds:
    def token(self):
        return "sa-token"


def idp(t):
    return IdentityPlatform(api_key="KEY", project="proj", credentials=Creds(), transport=t)


def test_sign_up_then_log_in_and_refresh():
    t = (
        FakeTransport()
        .on("POST", f"{TOOLKIT}/accounts:signUp", 200, {"localId": "uid-1", "idToken": "id0"})
        .on("POST", f"{TOOLKIT}/accounts:sendOobCode", 200, {})
        .on(
            "POST",
            f"{TOOLKIT}/accounts:signInWithPassword",
            200,
            {"idToken": "id1", "refreshToken": "r1", "expiresIn": "3600", "localId": "uid-1"},
        )
        .on("POST", SECURETOKEN, 200, {"id_token": "id2", "refresh_token": "r2", "expires_in": "3600"})
    )
    p = idp(t)
    assert p.sign_up("ada@example.com", "Passw0rd!") == "uid-1"
    assert "key=KEY" in t.last("accounts:signUp").url
    assert t.last("sendOobCode").json() == {"requestType": "VERIFY_EMAIL", "idToken": "id0"}
    tokens = p.log_in("ada@example.com", "Passw0rd!")
    assert (tokens.access_token, tokens.id_token, tokens.refresh_token, tokens.expires_in) == ("id1", "id1", "r1", 3600)
    again = p.refresh("r1")
    assert again.access_token == "id2" and t.last("securetoken").form() == {
        "grant_type": "refresh_token",
        "refresh_token": "r1",
    }


@pytest.mark.parametrize(
    ("reason", "code", "status"),
    [
        ("EMAIL_EXISTS", "USER_EXISTS", 409),
        ("WEAK_PASSWORD : Password should be at least 6 characters", "INVALID_PASSWORD", 400),
        ("INVALID_LOGIN_CREDENTIALS", "NOT_AUTHORIZED", 401),
        ("SOMETHING_NEW", "IDENTITY_UNAVAILABLE", 503),
    ],
)
def test_identity_platform_errors_map_to_client_codes(reason, code, status):
    t = FakeTransport().on("POST", f"{TOOLKIT}/accounts:signUp", 400, {"error": {"message": reason}})
    with pytest.raises(IdentityError) as e:
        idp(t).sign_up("ada@example.com", "x")
    assert (e.value.code, e.value.status) == (code, status)


def test_lookup_email_uses_the_service_account_token():
    t = FakeTransport().on(
        "POST",
        f"{TOOLKIT}/projects/proj/accounts:lookup",
        200,
        {"users": [{"localId": "uid-1", "email": "ada@example.com", "emailVerified": True}]},
    )
    assert idp(t).lookup_email("uid-1") == "ada@example.com"
    sent = t.last("accounts:lookup")
    assert sent.headers["Authorization"] == "Bearer sa-token" and sent.json() == {"localId": ["uid-1"]}


def test_an_unverified_address_is_never_looked_up_for_order_mail():
    user = {"localId": "uid-1", "email": "attacker@example.net", "emailVerified": False}
    t = FakeTransport().on("POST", f"{TOOLKIT}/projects/proj/accounts:lookup", 200, {"users": [user]})
    assert idp(t).lookup_email("uid-1") is None


def _jwt(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'RS256'})}.{enc(claims)}.c2ln"


def test_a_user_with_totp_gets_the_code_challenge_and_finishes_with_mfa_sign_in():
    t = (
        FakeTransport()
        .on(
            "POST",
            f"{TOOLKIT}/accounts:signInWithPassword",
            200,
            {"mfaPendingCredential": "pending-1", "mfaInfo": [{"mfaEnrollmentId": "enr-1", "totpInfo": {}}]},
        )
        .on("POST", f"{TOOLKIT_V2}/accounts/mfaSignIn:finalize", 200, {"idToken": "id-mfa", "refreshToken": "r-mfa"})
    )
    p = idp(t)
    challenge = p.log_in("ada@example.com", "pw")
    assert isinstance(challenge, Challenge) and challenge.name == MFA_CODE
    tokens = p.answer_mfa("ada@example.com", challenge.session, "123456")
    assert (tokens.access_token, tokens.refresh_token) == ("id-mfa", "r-mfa")
    assert t.last("mfaSignIn:finalize").json() == {
        "mfaPendingCredential": "pending-1",
        "mfaEnrollmentId": "enr-1",
        "totpVerificationInfo": {"verificationCode": "123456"},
    }
    with pytest.raises(IdentityError) as e:
        p.answer_mfa("ada@example.com", "not-a-session", "123456")
    assert e.value.code == "SESSION_EXPIRED"


def test_an_admin_without_a_second_factor_enrols_totp():
    admin_token = _jwt({"user_id": "uid-1", "groups": ["admin"], "firebase": {"sign_in_provider": "password"}})
    t = (
        FakeTransport()
        .on("POST", f"{TOOLKIT}/accounts:signInWithPassword", 200, {"idToken": admin_token, "refreshToken": "r"})
        .on(
            "POST",
            f"{TOOLKIT_V2}/accounts/mfaEnrollment:start",
            200,
            {"totpSessionInfo": {"sharedSecretKey": "JBSWY3DPEHPK3PXP", "sessionInfo": "enrol-session"}},
        )
        .on("POST", f"{TOOLKIT_V2}/accounts/mfaEnrollment:finalize", 200, {"idToken": "x", "refreshToken": "y"})
    )
    p = idp(t)
    challenge = p.log_in("boss@example.com", "pw")
    assert challenge == Challenge(MFA_SETUP, admin_token)
    who = Principal("uid-1", ("admin",), access_token=admin_token)
    assert p.start_mfa_setup(who) == MfaSecret("JBSWY3DPEHPK3PXP", "enrol-session")
    p.finish_mfa_setup(who, "654321", "enrol-session")
    assert t.last("mfaEnrollment:finalize").json()["totpVerificationInfo"] == {
        "sessionInfo": "enrol-session",
        "verificationCode": "654321",
    }


@pytest.mark.parametrize(
    ("mfa", "user", "code"),
    [
        (False, {"localId": "uid-1", "customAttributes": '{"groups": ["admin"]}'}, "MFA_REQUIRED"),
        (True, {"localId": "uid-1", "customAttributes": '{"groups": []}'}, "FORBIDDEN"),
        (True, {"localId": "uid-1", "disabled": True, "customAttributes": '{"groups": ["admin"]}'}, "NOT_AUTHORIZED"),
        (True, None, "NOT_AUTHORIZED"),  # deleted
        (
            True,
            {"localId": "uid-1", "validSince": "2000", "customAttributes": '{"groups": ["admin"]}'},
            "NOT_AUTHORIZED",
        ),
        (True, {"localId": "uid-1", "validSince": "500", "customAttributes": '{"groups": ["admin"]}'}, None),
    ],
)
def test_admin_recheck_asks_identity_platform(mfa, user, code):
    t = FakeTransport().on("POST", f"{TOOLKIT}/projects/proj/accounts:lookup", 200, {"users": [user] if user else []})
    token = _jwt({"user_id": "uid-1", "auth_time": 1000})
    who = Principal("uid-1", ("admin",), access_token=token, mfa=mfa)
    if code is None:
        idp(t).verify_admin(who)
        return
    with pytest.raises(IdentityError) as e:
        idp(t).verify_admin(who)
    assert e.value.code == code


def test_sign_out_revokes_every_refresh_token_with_valid_since():
    t = FakeTransport().on("POST", f"{TOOLKIT}/projects/proj/accounts:update", 200, {"localId": "uid-1"})
    idp(t).sign_out(Principal("uid-1", access_token="tok"))
    sent = t.last("accounts:update")
    assert sent.headers["Authorization"] == "Bearer sa-token"
    assert sent.json()["localId"] == "uid-1" and int(sent.json()["validSince"]) > 1_700_000_000


class FakePublisher:
    def __init__(self, fail=False):
        self.published, self.fail = [], fail

    def publish(self, topic, data, **attrs):
        self.published.append((topic, data, attrs))
        fail = self.fail

        class Future:
            def result(self, timeout=None):
                if fail:
                    raise TimeoutError("publish timed out")
                return "msg-1"

        return Future()


def event():
    return OrderEvent(
        "OrderPlaced",
        "o1",
        "u1",
        "PLACED",
        2000,
        "USD",
        (OrderLine("p1", "P1", 1000, 2),),
        "ada@example.com",
        "2026-11-25T00:00:00Z",
    )


def test_publish_waits_for_pubsub_and_surfaces_failures(monkeypatch):
    monkeypatch.setattr("functions.adapters.gcp_notifier._event_json", lambda e: '{"orderId": "o1"}')
    pub = FakePublisher()
    GcpNotifier(topic="projects/p/topics/order-events", sender=None, publisher=pub).publish_order_event(event())
    topic, data, attrs = pub.published[0]
    assert topic == "projects/p/topics/order-events" and attrs == {"type": "OrderPlaced", "orderId": "o1"}
    assert b"o1" in data
    with pytest.raises(TimeoutError):
        GcpNotifier(topic="t", sender=None, publisher=FakePublisher(fail=True)).publish_order_event(event())


def test_email_goes_through_the_sendgrid_compatible_api():
    t = FakeTransport().on("POST", "https://mail.example/v3/mail/send", 202, b"")
    GcpNotifier(
        topic="t",
        sender="shop@example.com",
        email_api_key="SG.key",
        email_api_url="https://mail.example/v3/mail/send",
        transport=t,
    ).send_email("ada@example.com", "S", "T")
    sent = t.last("mail/send")
    assert sent.headers["Authorization"] == "Bearer SG.key"
    assert sent.json()["personalizations"] == [{"to": [{"email": "ada@example.com"}]}]
    assert sent.json()["content"] == [{"type": "text/plain", "value": "T"}]
    t.on("POST", "https://mail.example/v3/mail/send", 401, b"bad key")
    with pytest.raises(RuntimeError, match="HTTP 401"):
        GcpNotifier(
            topic="t",
            sender="shop@example.com",
            email_api_key="SG.key",
            email_api_url="https://mail.example/v3/mail/send",
            transport=t,
        ).send_email("a@example.com", "S", "T")


def test_email_goes_through_an_smtp_relay_with_starttls_and_login():
    log = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            log.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *a):
            log.append(("quit",))

        def starttls(self, context):
            log.append(("starttls",))

        def login(self, user, password):
            log.append(("login", user, password))

        def send_message(self, msg):
            log.append(("send", msg["To"], msg["Subject"]))

    GcpNotifier(
        topic="t",
        sender="shop@example.com",
        smtp_url="smtp+starttls://user%40x:p%40ss@relay.example:2525",
        smtp_factory=FakeSMTP,
    ).send_email("ada@example.com", "Your order", "Thanks")
    assert log == [
        ("connect", "relay.example", 2525),
        ("starttls",),
        ("login", "user@x", "p@ss"),
        ("send", "ada@example.com", "Your order"),
        ("quit",),
    ]


def test_no_relay_configured_is_an_error_not_a_silent_drop():
    with pytest.raises(RuntimeError, match="no email relay"):
        GcpNotifier(topic="t", sender="shop@example.com").send_email("a@example.com", "s", "t")


class RsaSigner:
    email = "shop-admin@proj.iam.gserviceaccount.com"

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def sign(self, payload):
        return self.key.sign(payload, padding.PKCS1v15(), hashes.SHA256())


def test_v4_post_policy_pins_key_type_and_size_and_verifies_against_the_signers_public_key():
    signer = RsaSigner()
    media = GcsSignedUrlMedia(
        bucket="shop-site",
        public_base_url="https://cdn.example/media/",  # SHOP_MEDIA_BASE_URL names the media/ prefix
        signer=signer,
        clock=lambda: datetime(2026, 11, 25, 1, 2, 3, tzinfo=UTC),
    )
    form = media.presign_upload("products/p 1.png", "image/png", 5 * 1024 * 1024, 300)
    assert form.method == "POST" and form.url == "https://storage.googleapis.com/shop-site/"
    assert form.image_url == "https://cdn.example/media/products/p%201.png", "the image URL names media/ once"
    f = form.fields
    credential = f"{signer.email}/20261125/auto/storage/goog4_request"
    assert (f["key"], f["Content-Type"], f["x-goog-algorithm"], f["x-goog-credential"], f["x-goog-date"]) == (
        "media/products/p 1.png",
        "image/png",
        "GOOG4-RSA-SHA256",
        credential,
        "20261125T010203Z",
    )
    policy = json.loads(base64.b64decode(f["policy"]))
    assert policy["expiration"] == "2026-11-25T01:07:03Z", "the form must expire after expires_in"
    assert policy["conditions"] == [
        {"bucket": "shop-site"},
        {"key": "media/products/p 1.png"},
        ["eq", "$Content-Type", "image/png"],
        ["content-length-range", 1, 5 * 1024 * 1024],
        {"x-goog-algorithm": "GOOG4-RSA-SHA256"},
        {"x-goog-credential": credential},
        {"x-goog-date": "20261125T010203Z"},
    ]
    # Cloud Storage checks the signature over the base64 policy exactly as sent.
    signer.key.public_key().verify(
        bytes.fromhex(f["x-goog-signature"]), f["policy"].encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_a_second_factor_the_shop_does_not_offer_is_a_403_not_a_crash():
    t = FakeTransport().on(
        "POST",
        f"{TOOLKIT}/accounts:signInWithPassword",
        200,
        {"mfaPendingCredential": "pending", "mfaInfo": [{"mfaEnrollmentId": "e1", "phoneInfo": "+1555"}]},
    )
    with pytest.raises(IdentityError) as err:
        idp(t).log_in("ada@example.com", "Passw0rd!")
    assert (err.value.code, err.value.status) == ("CHALLENGE_UNSUPPORTED", 403)
