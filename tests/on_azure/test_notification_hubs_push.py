"""NotificationHubsPushSender against a request-level fake of Notification Hubs direct send:
the exact requests, the SAS token, and which answers prune a token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.error
import urllib.parse

import pytest

from functions.adapters.notification_hubs_push import HubConnection, NotificationHubsPushSender, sas_token
from functions.shop.push import Device, PushOutcome
from tests.fakes.http import FakeTransport

HUB = HubConnection("shop-nh.servicebus.windows.net", "Hub-Orders", "shop-send", "c2VjcmV0LWtleQ==")
URL = "https://shop-nh.servicebus.windows.net/Hub-Orders/messages/?direct&api-version=2020-06"
NOW = 1_800_000_000
ANDROID = Device(token="fcm-android", platform="android", registered_at="2026-01-01T00:00:00Z")
IOS = Device(token="fcm-ios", platform="ios", registered_at="2026-01-02T00:00:00Z")


def nh_error(code: int, detail: str) -> bytes:
    return f"<Error><Code>{code}</Code><Detail>{detail}. TrackingId:t-1</Detail></Error>".encode()


def sender(t, sleeps: list[float] | None = None) -> NotificationHubsPushSender:
    record = sleeps if sleeps is not None else []
    return NotificationHubsPushSender(HUB, transport=t, sleep=record.append, clock=lambda: NOW + 0.7)


def test_direct_send_per_token_in_fcm_v1_format_signed_with_the_send_key():
    t = FakeTransport().on("POST", URL, 201, b"")
    outcome = sender(t).push([ANDROID, IOS], "Order shipped", "Order o-1: shipped", {"orderId": "o-1"})
    assert outcome == PushOutcome(delivered=2), outcome
    assert [(s.method, s.url) for s in t.sent] == [("POST", URL)] * 2, "one direct send per device"
    expiry = NOW + 300
    for sent, device in zip(t.sent, (ANDROID, IOS), strict=True):
        assert sent.headers == {
            "Authorization": sas_token("https://shop-nh.servicebus.windows.net/Hub-Orders", "shop-send",
                                       HUB.key, expiry),
            "Content-Type": "application/json;charset=utf-8",
            "ServiceBusNotification-Format": "fcmV1",
            "ServiceBusNotification-DeviceHandle": device.token,
        }  # fmt: skip
        assert sent.json() == {
            "message": {"notification": {"title": "Order shipped", "body": "Order o-1: shipped"},
                        "data": {"orderId": "o-1"}}
        }, "an FCM v1 message without its token: the hub adds the handle"  # fmt: skip


def test_the_sas_token_signs_the_lower_case_encoded_hub_uri_and_expiry():
    t = FakeTransport().on("POST", URL, 201, b"")
    sender(t).push([ANDROID], "T", "B", {})
    header = t.last("/messages/").headers["Authorization"]
    assert header.startswith("SharedAccessSignature ")
    fields = dict(urllib.parse.parse_qsl(header.removeprefix("SharedAccessSignature ")))
    assert set(fields) == {"sr", "sig", "se", "skn"}
    resource = urllib.parse.quote("https://shop-nh.servicebus.windows.net/hub-orders", safe="")
    assert fields["sr"] == urllib.parse.unquote(resource) and fields["skn"] == "shop-send"
    assert fields["se"] == str(NOW + 300), "valid five minutes from now (whole seconds)"
    expected = base64.b64encode(
        hmac.new(HUB.key.encode(), f"{resource}\n{NOW + 300}".encode(), hashlib.sha256).digest()
    ).decode()
    assert fields["sig"] == expected, "HMAC-SHA256 of '<encoded uri>\\n<expiry>' with the key's bytes"
    assert "sr=https%3A%2F%2Fshop-nh.servicebus.windows.net%2Fhub-orders&" in header, "the URI stays encoded"


def test_a_refused_device_handle_comes_back_to_be_pruned():
    answers = {
        "gone": (410, nh_error(410, "The device handle has expired")),
        "bad": (400, nh_error(400, "Invalid value for header ServiceBusNotification-DeviceHandle")),
        "ok": (201, b""),
    }
    t = FakeTransport().on("POST", URL, 201, lambda s: answers[s.headers["ServiceBusNotification-DeviceHandle"]])
    devices = [Device(token, "android", "2026-01-01T00:00:00Z") for token in answers]
    assert sender(t).push(devices, "T", "B", {}) == PushOutcome(delivered=1, invalid_tokens=("gone", "bad"))


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, nh_error(400, "The message body is malformed")), (401, nh_error(401, "Unauthorized")),
     (403, nh_error(403, "Quota exceeded")), (404, nh_error(404, "No message branch")), (413, b"")],
)  # fmt: skip
def test_answers_not_about_the_handle_count_as_not_delivered_and_prune_nothing(status, body):
    t = FakeTransport().on("POST", URL, status, body)
    assert sender(t).push([ANDROID], "T", "B", {}) == PushOutcome(delivered=0)
    assert len(t.sent) == 1, "not retried"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttled_or_server_errors_are_retried_once(status):
    t = FakeTransport().on("POST", URL, status, nh_error(status, "Try again"))
    sleeps: list[float] = []
    assert sender(t, sleeps).push([ANDROID], "T", "B", {}) == PushOutcome(delivered=0)
    assert len(t.sent) == 2 and sleeps == [1.0]


def test_the_hub_unreachable_raises():
    def transport(method, url, headers, body, timeout):
        raise urllib.error.URLError("name resolution failed")

    with pytest.raises(urllib.error.URLError):
        sender(transport).push([ANDROID], "T", "B", {})


def test_the_connection_comes_from_the_app_settings():
    hub = HubConnection.from_settings("shop-nh.servicebus.windows.net/hub-orders", "shop-send:a2V5Og==")
    assert hub == HubConnection("shop-nh.servicebus.windows.net", "hub-orders", "shop-send", "a2V5Og==")
    with pytest.raises(ValueError, match="<namespace>/<hub>"):
        HubConnection.from_settings("shop-nh.servicebus.windows.net", "shop-send:key")
