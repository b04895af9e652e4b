"""Entra identity, Service Bus + ACS notifier, Blob SAS media and managed-identity tokens,
against a scripted transport (what they send, and how they map failures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime

import pytest

from functions.adapters.azure_auth import ManagedIdentityCredential
from functions.adapters.azure_identity import GRAPH, EntraIdentity
from functions.adapters.azure_media import UPLOAD_PATH, AzureBlobMedia, upload_origin_path
from functions.adapters.azure_notifier import AzureNotifier
from functions.shop.ports import IdentityError, OrderEvent, OrderLine, Principal
from tests.fakes.http import FakeTransport

AUTHORITY = "https://shop.ciamlogin.com/tenant-id"


class StaticCredential:
    def token(self, scope: str) -> str:
        return f"token-for-{scope}"


def identity(t: FakeTransport) -> EntraIdentity:
    return EntraIdentity(
        authority=AUTHORITY,
        tenant_domain="shop.onmicrosoft.com",
        client_id="spa",
        scope="api://shop/shop.access",
        backend_client_id="backend",
        backend_client_secret="s3cret",
        transport=t,
    )


def test_refresh_uses_the_token_endpoint_and_maps_a_refused_token_to_401():
    t = FakeTransport().on(
        "POST",
        f"{AUTHORITY}/oauth2/v2.0/token",
        200,
        {"access_token": "at", "id_token": "it", "refresh_token": "rt2", "expires_in": 3600},
    )
    tokens = identity(t).refresh("rt")
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_in) == ("at", "rt2", 3600)
    form = t.last("/oauth2/v2.0/token").form()
    assert (form["grant_type"], form["refresh_token"], form["client_id"]) == ("refresh_token", "rt", "spa")
    assert "offline_access" in form["scope"] and "api://shop/shop.access" in form["scope"]
    t.on("POST", f"{AUTHORITY}/oauth2/v2.0/token", 400, {"error": "invalid_grant", "error_description": "AADSTS70008"})
    with pytest.raises(IdentityError) as e:
        identity(t).refresh("expired")
    assert (e.value.code, e.value.status) == ("NOT_AUTHORIZED", 401)


def test_sign_up_creates_a_graph_user_with_an_email_identity_and_maps_conflicts():
    t = (
        FakeTransport()
        .on("POST", f"{AUTHORITY}/oauth2/v2.0/token", 200, {"access_token": "graph", "expires_in": 3600})
        .on("POST", f"{GRAPH}/users", 201, {"id": "oid-1"})
    )
    assert identity(t).sign_up("ada@example.com", "Passw0rd!") == "oid-1"
    sent = t.last("/users")
    assert sent.headers["Authorization"] == "Bearer graph"
    assert sent.json()["identities"] == [
        {"signInType": "emailAddress", "issuer": "shop.onmicrosoft.com", "issuerAssignedId": "ada@example.com"}
    ]
    assert t.last("/oauth2/v2.0/token").form()["grant_type"] == "client_credentials"
    t.on("POST", f"{GRAPH}/users", 400, {"error": {"message": "Another object with the same value already exists."}})
    with pytest.raises(IdentityError) as e:
        identity(t).sign_up("ada@example.com", "Passw0rd!")
    assert (e.value.code, e.value.status) == ("USER_EXISTS", 409)


def test_lookup_email_reads_the_email_identity_and_user_info_prefers_claims():
    t = (
        FakeTransport()
        .on("POST", f"{AUTHORITY}/oauth2/v2.0/token", 200, {"access_token": "graph"})
        .on(
            "GET",
            f"{GRAPH}/users/oid-1",
            200,
            {
                "id": "oid-1",
                "identities": [
                    {"signInType": "userPrincipalName", "issuerAssignedId": "x@shop.onmicrosoft.com"},
                    {"signInType": "emailAddress", "issuerAssignedId": "ada@example.com"},
                ],
            },
        )
        .on("GET", f"{GRAPH}/users/missing", 404, {})
    )
    idp = identity(t)
    assert idp.lookup_email("oid-1") == "ada@example.com"
    assert idp.lookup_email("missing") is None
    info = idp.user_info(Principal("oid-2", ("admin",), email="bob@example.com"))
    assert (info.email, info.groups) == ("bob@example.com", ("admin",))


def event() -> OrderEvent:
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


def test_publish_posts_to_the_topic_with_a_dedup_message_id(monkeypatch):
    monkeypatch.setattr("functions.adapters.azure_notifier._event_json", lambda e: json.dumps({"orderId": e.order_id}))
    t = FakeTransport().on("POST", "https://ns.servicebus.windows.net/order-events/messages", 201, b"")
    AzureNotifier(
        namespace="ns.servicebus.windows.net", topic="order-events", credential=StaticCredential(), transport=t
    ).publish_order_event(event())
    sent = t.last("/messages")
    assert sent.headers["Authorization"] == "Bearer token-for-https://servicebus.azure.net/.default"
    assert json.loads(sent.headers["BrokerProperties"])["MessageId"] == "o1:OrderPlaced:PLACED"
    t.on("POST", "https://ns.servicebus.windows.net/order-events/messages", 503, b"busy")
    with pytest.raises(RuntimeError, match="HTTP 503"):
        AzureNotifier(
            namespace="ns.servicebus.windows.net", topic="order-events", credential=StaticCredential(), transport=t
        ).publish_order_event(event())


class FakeEmailClient:
    def __init__(self, status="Succeeded"):
        self.messages, self.status = [], status

    def begin_send(self, message):
        self.messages.append(message)
        status = self.status

        class Poller:
            def result(self):
                return {"status": status, "error": None if status == "Succeeded" else {"code": "x"}}

        return Poller()


def test_send_email_builds_an_acs_message_and_raises_when_acs_reports_failure():
    client = FakeEmailClient()
    n = AzureNotifier(
        namespace="ns", topic="t", credential=StaticCredential(), sender="shop@example.com", email_client=client
    )
    n.send_email("ada@example.com", "Your order", "Thanks")
    msg = client.messages[0]
    assert msg["senderAddress"] == "shop@example.com"
    assert msg["recipients"]["to"] == [{"address": "ada@example.com"}]
    assert msg["content"] == {"subject": "Your order", "plainText": "Thanks"}
    with pytest.raises(RuntimeError, match="not sent"):
        AzureNotifier(
            namespace="ns",
            topic="t",
            credential=StaticCredential(),
            sender="s@example.com",
            email_client=FakeEmailClient("Failed"),
        ).send_email("a@example.com", "s", "t")


DELEGATION_KEY = base64.b64encode(b"k" * 32).decode()
KEY_XML = (
    f'<?xml version="1.0" encoding="utf-8"?><UserDelegationKey><SignedOid>oid</SignedOid>'
    f"<SignedTid>tid</SignedTid><SignedStart>2026-11-25T00:00:00Z</SignedStart>"
    f"<SignedExpiry>2026-11-25T02:00:00Z</SignedExpiry><SignedService>b</SignedService>"
    f"<SignedVersion>2022-11-02</SignedVersion><Value>{DELEGATION_KEY}</Value></UserDelegationKey>"
).encode()


def test_sas_url_is_create_only_short_lived_scoped_to_one_media_blob_and_signed_with_the_delegation_key():
    t = FakeTransport().on(
        "POST", "https://acct.blob.core.windows.net/?restype=service&comp=userdelegationkey", 200, KEY_XML
    )
    media = AzureBlobMedia(
        account="acct",
        container="$web",
        public_base_url="https://shop.example/media/",  # SHOP_MEDIA_BASE_URL names the media/ prefix
        credential=StaticCredential(),
        transport=t,
        clock=lambda: datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
    )
    form = media.presign_upload("products/p1.png", "image/png", 5 * 1024 * 1024, 300)
    assert form.method == "PUT" and not form.fields
    assert form.headers == {"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "image/png"}
    public = form.image_url
    url = urllib.parse.urlsplit(form.url)
    q = dict(urllib.parse.parse_qsl(url.query))
    # On the shop's own origin: Front Door's uploads route forwards it to the blob (and its WAF).
    assert (url.scheme, url.netloc, url.path) == ("https", "shop.example", UPLOAD_PATH + "products/p1.png")
    assert public == "https://shop.example/media/products/p1.png", "served by Front Door's /media/* route"
    # create only ("c"): the URL cannot overwrite the blob once uploaded, nor any other
    assert (q["sp"], q["sr"], q["spr"], q["rsct"], q["se"]) == ("c", "b", "https", "image/png", "2026-11-25T00:35:00Z")
    # Recompute the documented string-to-sign (version 2020-12-06+) independently.
    sts = "\n".join(
        [
            q["sp"],
            q["st"],
            q["se"],
            "/blob/acct/$web/media/products/p1.png",
            "oid",
            "tid",
            "2026-11-25T00:00:00Z",
            "2026-11-25T02:00:00Z",
            "b",
            "2022-11-02",
            "",
            "",
            "",
            "",
            "https",
            "2022-11-02",
            "b",
            "",
            "",
            "",
            "",
            "",
            "",
            "image/png",
        ]
    )
    expected = base64.b64encode(hmac.new(b"k" * 32, sts.encode(), hashlib.sha256).digest()).decode()
    assert q["sig"] == expected
    media.presign_upload("products/p2.png", "image/png", 1024, 300)
    assert len([s for s in t.sent if "userdelegationkey" in s.url]) == 1, "the delegation key is cached"


def _signature_check(url: str, resource: str) -> bool:
    """Recompute the SAS signature (version 2020-12-06+ layout) for `resource` from the URL's
    own query, with the delegation key the fake storage handed out."""
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    signed = [q["sp"], q["st"], q["se"], resource, q["skoid"], q["sktid"], q["skt"], q["ske"], q["sks"], q["skv"]]
    sts = "\n".join([*signed, "", "", "", "", q["spr"], q["sv"], q["sr"], "", "", "", "", "", "", q["rsct"]])
    expected = base64.b64encode(hmac.new(b"k" * 32, sts.encode(), hashlib.sha256).digest()).decode()
    return q["sig"] == expected


@pytest.mark.parametrize("base", ["/media/", "https://shop.example/media/"])
def test_the_upload_path_reaches_exactly_the_blob_the_sas_signs(base: str):
    """Front Door's uploads route replaces UPLOAD_PATH's prefix with upload_origin_path(): the
    blob the storage service then sees is the one in the SAS's canonicalized resource."""
    t = FakeTransport().on(
        "POST", "https://acct.blob.core.windows.net/?restype=service&comp=userdelegationkey", 200, KEY_XML
    )
    media = AzureBlobMedia(
        account="acct", container="$web", public_base_url=base, credential=StaticCredential(), transport=t,
        clock=lambda: datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
    )  # fmt: skip
    form = media.presign_upload("products/p 1/ä.png", "image/png", 5 * 1024 * 1024, 300)
    url = urllib.parse.urlsplit(form.url)
    origin = urllib.parse.urlsplit(base)
    assert (url.scheme, url.netloc) == (origin.scheme, origin.netloc), "the upload goes to the shop's own origin"
    assert url.path.startswith(UPLOAD_PATH)
    forwarded = upload_origin_path("$web") + url.path[len(UPLOAD_PATH) - 1 :]
    blob_path = urllib.parse.unquote(forwarded)  # Blob Storage decodes the path
    assert blob_path == "/$web/media/products/p 1/ä.png"
    assert _signature_check(form.url, "/blob/acct" + blob_path), "the SAS must be signed for the forwarded blob"
    assert not _signature_check(form.url, "/blob/acct" + urllib.parse.unquote(url.path)), "nor any other path"
    assert urllib.parse.unquote(urllib.parse.urlsplit(form.image_url).path) == "/media/products/p 1/ä.png"


def test_managed_identity_token_is_fetched_once_and_cached(monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://169.254.255.2:8081/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "secret-header")
    t = FakeTransport().on(
        "GET", "http://169.254.255.2:8081/msi/token", 200, {"access_token": "mi-token", "expires_on": "9999999999"}
    )
    cred = ManagedIdentityCredential(transport=t, client_id="uami")
    assert cred.token("https://cosmos.azure.com/.default") == "mi-token"
    assert cred.get_token("https://cosmos.azure.com/.default").token == "mi-token"
    assert len(t.sent) == 1
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(t.sent[0].url).query))
    assert q == {"resource": "https://cosmos.azure.com", "api-version": "2019-08-01", "client_id": "uami"}
    assert t.sent[0].headers["X-IDENTITY-HEADER"] == "secret-header"


PASSWORD = {"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "pw"}
EMAIL_METHOD = {"@odata.type": "#microsoft.graph.emailAuthenticationMethod", "id": "em", "emailAddress": "a@x.test"}
SP = {"id": "sp-1", "appRoles": [{"id": "role-reader", "value": "reader"}, {"id": "role-admin", "value": "admin"}]}
ADMIN_ASSIGNMENT = {"value": [{"resourceId": "sp-1", "appRoleId": "role-admin"}]}


@pytest.mark.parametrize(
    ("mfa", "status", "user", "assignments", "code"),
    [
        (False, 200, {"id": "oid-1", "accountEnabled": True}, ADMIN_ASSIGNMENT, "MFA_REQUIRED"),
        (True, 200, {"id": "oid-1", "accountEnabled": False}, ADMIN_ASSIGNMENT, "NOT_AUTHORIZED"),
        (True, 404, {}, ADMIN_ASSIGNMENT, "NOT_AUTHORIZED"),
        # the role was removed, or only another app's role with the same id is held
        (True, 200, {"id": "oid-1", "accountEnabled": True}, {"value": []}, "FORBIDDEN"),
        (
            True,
            200,
            {"id": "oid-1", "accountEnabled": True},
            {"value": [{"resourceId": "other-sp", "appRoleId": "role-admin"}]},
            "FORBIDDEN",
        ),
        (True, 200, {"id": "oid-1", "accountEnabled": True}, ADMIN_ASSIGNMENT, None),
        # a v2.0 access token has no `amr`: a registered second factor decides
        (None, 200, {"id": "oid-1", "accountEnabled": True}, ADMIN_ASSIGNMENT, None),
    ],
)
def test_admin_recheck_needs_the_mfa_claim_an_enabled_account_and_the_admin_role(mfa, status, user, assignments, code):
    t = (
        FakeTransport()
        .on("POST", f"{AUTHORITY}/oauth2/v2.0/token", 200, {"access_token": "graph"})
        .on("GET", f"{GRAPH}/users/oid-1", status, user)
        .on("GET", f"{GRAPH}/users/oid-1/appRoleAssignments", 200, assignments)
        .on("GET", f"{GRAPH}/users/oid-1/authentication/methods", 200, {"value": [PASSWORD, EMAIL_METHOD]})
        .on("GET", f"{GRAPH}/servicePrincipals(appId='spa')", 200, SP)
    )
    who = Principal("oid-1", ("admin",), access_token="t", mfa=mfa)
    if code is None:
        idp = identity(t)
        idp.verify_admin(who)
        idp.verify_admin(who)  # cached: Graph is asked once
        assert len([s for s in t.sent if "appRoleAssignments" in s.url]) == 1
        return
    with pytest.raises(IdentityError) as e:
        identity(t).verify_admin(who)
    assert e.value.code == code


@pytest.mark.parametrize(
    ("methods", "status", "code"), [([PASSWORD], 200, "MFA_REQUIRED"), ([], 503, "IDENTITY_UNAVAILABLE")]
)
def test_an_admin_token_without_amr_needs_a_registered_second_factor(methods, status, code):
    """Entra's v2.0 access tokens carry no `amr`: an admin with only a password is refused, and
    an unanswered Graph look-up is a 503, never a pass."""
    t = (
        FakeTransport()
        .on("POST", f"{AUTHORITY}/oauth2/v2.0/token", 200, {"access_token": "graph"})
        .on("GET", f"{GRAPH}/users/oid-1", 200, {"id": "oid-1", "accountEnabled": True})
        .on("GET", f"{GRAPH}/users/oid-1/authentication/methods", status, {"value": methods})
        .on("GET", f"{GRAPH}/users/oid-1/appRoleAssignments", 200, ADMIN_ASSIGNMENT)
        .on("GET", f"{GRAPH}/servicePrincipals(appId='spa')", 200, SP)
    )
    with pytest.raises(IdentityError) as e:
        identity(t).verify_admin(Principal("oid-1", ("admin",), access_token="t", mfa=None))
    assert e.value.code == code, f"an admin with {methods} (Graph HTTP {status}) got {e.value.code}"
    assert not any("appRoleAssignments" in s.url for s in t.sent), "the role was checked before the second factor"


def test_sign_out_revokes_the_users_sessions_through_graph():
    t = (
        FakeTransport()
        .on("POST", f"{AUTHORITY}/oauth2/v2.0/token", 200, {"access_token": "graph"})
        .on("POST", f"{GRAPH}/users/oid-1/revokeSignInSessions", 200, {"value": True})
    )
    identity(t).sign_out(Principal("oid-1", access_token="t"))
    assert t.last("revokeSignInSessions").headers["Authorization"] == "Bearer graph"


def test_the_mail_attribute_is_not_an_address_for_order_mail():
    t = (
        FakeTransport()
        .on("POST", f"{AUTHORITY}/oauth2/v2.0/token", 200, {"access_token": "graph"})
        .on("GET", f"{GRAPH}/users/oid-1", 200, {"id": "oid-1", "mail": "attacker@example.net", "identities": []})
    )
    assert identity(t).lookup_email("oid-1") is None
