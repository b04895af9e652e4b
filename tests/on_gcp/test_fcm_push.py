"""FcmPushSender against a request-level fake of FCM HTTP v1: the exact requests, and which
answers prune a token, which are retried, which only count as not delivered."""

from __future__ import annotations

import urllib.error

import pytest

from functions.adapters._http import HttpResponse
from functions.adapters.fcm_push import FCM_SCOPE, FcmPushSender, GoogleAuthToken
from functions.shop.push import Device, PushOutcome
from tests.fakes.http import FakeTransport

URL = "https://fcm.googleapis.com/v1/projects/shop-proj/messages:send"
ANDROID = Device(token="tok-android", platform="android", registered_at="2026-01-01T00:00:00Z")
WEB = Device(token="tok-web", platform="web", registered_at="2026-01-02T00:00:00Z")


def fcm_error(code: int, status: str, error_code: str | None = None, field: str | None = None, message: str = "x"):
    details: list[dict] = []
    if error_code:
        details.append({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code})
    if field:
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": field, "description": "bad"}]})  # fmt: skip
    return {"error": {"code": code, "message": message, "status": status, "details": details}}


def by_token(answers: dict[str, tuple[int, object]]):
    """Answer each request by the token it carries."""
    return lambda sent: answers[sent.json()["message"]["token"]]


def sender(t, sleeps: list[float] | None = None) -> FcmPushSender:
    record = sleeps if sleeps is not None else []
    return FcmPushSender(project="shop-proj", token=lambda: "ya29.sa", transport=t, sleep=record.append)


def test_one_message_per_token_with_the_service_accounts_bearer_token():
    t = FakeTransport().on("POST", URL, 200, {"name": "projects/shop-proj/messages/1"})
    outcome = sender(t).push([ANDROID, WEB], "Order shipped", "Order o-1: shipped", {"orderId": "o-1"})
    assert outcome == PushOutcome(delivered=2), outcome
    assert [(s.method, s.url) for s in t.sent] == [("POST", URL), ("POST", URL)], "one POST per device"
    for sent, device in zip(t.sent, (ANDROID, WEB), strict=True):
        assert sent.headers == {"Authorization": "Bearer ya29.sa", "Content-Type": "application/json"}
        assert sent.json() == {
            "message": {
                "token": device.token,
                "notification": {"title": "Order shipped", "body": "Order o-1: shipped"},
                "data": {"orderId": "o-1"},
            }
        }, "the FCM v1 message: token, notification title/body and the string data"


def test_no_data_sends_no_data_field_and_no_devices_send_nothing():
    t = FakeTransport().on("POST", URL, 200, {"name": "m"})
    sender(t).push([ANDROID], "T", "B", {})
    assert "data" not in t.last("messages:send").json()["message"]
    t.sent.clear()
    assert sender(t).push([], "T", "B", {}) == PushOutcome(delivered=0)
    assert t.sent == [], "nobody to push to: no request"


def test_unregistered_and_invalid_tokens_come_back_to_be_pruned():
    answers = {
        "gone": (404, fcm_error(404, "NOT_FOUND", "UNREGISTERED")),
        "garbled": (400, fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", field="message.token")),
        "garbled-msg": (400, fcm_error(400, "INVALID_ARGUMENT", message="The registration token is not a valid FCM registration token")),
        "ok": (200, {"name": "m"}),
    }  # fmt: skip
    t = FakeTransport().on("POST", URL, 200, by_token(answers))
    devices = [Device(token, "android", "2026-01-01T00:00:00Z") for token in answers]
    outcome = sender(t).push(devices, "T", "B", {})
    assert outcome == PushOutcome(delivered=1, invalid_tokens=("gone", "garbled", "garbled-msg")), outcome


def test_a_bad_payload_or_a_refused_sender_does_not_prune_the_token():
    answers = {
        "payload": (400, fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", field="message.data")),
        "mismatch": (403, fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")),
        "not-found-other": (404, fcm_error(404, "NOT_FOUND")),
        "auth": (401, b"not json"),
    }
    t = FakeTransport().on("POST", URL, 200, by_token(answers))
    devices = [Device(token, "ios", "2026-01-01T00:00:00Z") for token in answers]
    assert sender(t).push(devices, "T", "B", {}) == PushOutcome(delivered=0), "not delivered, but nothing pruned"
    assert len(t.sent) == 4, "no retry for a 4xx other than 429"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttled_or_failed_on_the_server_is_retried_once_then_not_delivered(status):
    t = FakeTransport().on("POST", URL, status, fcm_error(status, "UNAVAILABLE"))
    sleeps: list[float] = []
    outcome = sender(t, sleeps).push([ANDROID], "T", "B", {})
    assert outcome == PushOutcome(delivered=0), "a retried failure is not delivered and not pruned"
    assert len(t.sent) == 2 and sleeps == [1.0], (len(t.sent), sleeps)


def test_the_retry_honours_retry_after_and_can_succeed():
    answers = iter([HttpResponse(429, b"{}", {"retry-after": "3"}), HttpResponse(200, b'{"name": "m"}')])
    sent: list[str] = []

    def transport(method, url, headers, body, timeout):
        sent.append(url)
        return next(answers)

    sleeps: list[float] = []
    assert sender(transport, sleeps).push([WEB], "T", "B", {}) == PushOutcome(delivered=1)
    assert sleeps == [3.0] and sent == [URL, URL]


def test_fcm_unreachable_raises():
    def transport(method, url, headers, body, timeout):
        raise urllib.error.URLError("no route to host")

    with pytest.raises(urllib.error.URLError):
        sender(transport).push([ANDROID], "T", "B", {})


def test_the_default_token_comes_from_google_auth_with_the_messaging_scope(monkeypatch):
    import google.auth

    calls: list[object] = []

    class Creds:
        valid, token = False, None

        def refresh(self, request):
            calls.append("refresh")
            self.valid, self.token = True, "ya29.adc"

    def default(scopes):
        calls.append(tuple(scopes))
        return Creds(), "shop-proj"

    monkeypatch.setattr(google.auth, "default", default)
    token = GoogleAuthToken()
    assert token() == "ya29.adc" and token() == "ya29.adc"
    assert calls == [(FCM_SCOPE,), "refresh"], "credentials found once, refreshed only when not valid"
    assert FCM_SCOPE == "https://www.googleapis.com/auth/firebase.messaging"
