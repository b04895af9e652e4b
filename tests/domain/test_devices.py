"""/api/me/devices: a customer's push device registrations."""

from __future__ import annotations

from functions.shop.push import MAX_DEVICES

TOKEN = "fcm-token_1:APA91b" + "x" * 140  # real FCM tokens are longer than most path parameters


def test_register_list_refresh_and_remove_a_device(shop):
    me = shop.user()
    created = shop.ok("POST", "/api/me/devices", {"token": TOKEN, "platform": "android"}, who=me, status=201)
    assert created["token"] == TOKEN and created["platform"] == "android" and created["registeredAt"]
    again = shop.ok("POST", "/api/me/devices", {"token": TOKEN, "platform": "android"}, who=me, status=200)
    assert again["registeredAt"] >= created["registeredAt"], "a refresh records the latest registration"
    listed = shop.ok("GET", "/api/me/devices", who=me)
    assert [d["token"] for d in listed["items"]] == [TOKEN], "a refreshed token is still one device"
    r = shop.call("DELETE", f"/api/me/devices/{TOKEN}", who=me)
    assert (r.status, r.body) == (204, None)
    assert shop.ok("GET", "/api/me/devices", who=me) == {"items": []}
    r = shop.call("DELETE", f"/api/me/devices/{TOKEN}", who=me)
    assert r.status == 204, "removing a device that is not registered is not an error"


def test_devices_are_per_customer(shop):
    ada, bob = shop.user("ada@example.com"), shop.user("bob@example.com")
    shop.ok("POST", "/api/me/devices", {"token": "ada-phone", "platform": "ios"}, who=ada, status=201)
    assert shop.ok("GET", "/api/me/devices", who=bob) == {"items": []}
    shop.call("DELETE", "/api/me/devices/ada-phone", who=bob)
    assert [d["token"] for d in shop.ok("GET", "/api/me/devices", who=ada)["items"]] == ["ada-phone"]


def test_the_oldest_device_goes_beyond_the_limit(shop):
    me = shop.user()
    for i in range(MAX_DEVICES + 1):
        shop.ok("POST", "/api/me/devices", {"token": f"t{i:02d}", "platform": "web"}, who=me, status=201)
    tokens = [d["token"] for d in shop.ok("GET", "/api/me/devices", who=me)["items"]]
    assert len(tokens) == MAX_DEVICES and "t00" not in tokens, tokens


def test_invalid_registrations_are_refused_in_the_shop_error_shape(shop):
    me = shop.user()
    for body in (
        {"token": "t", "platform": "windows"},
        {"token": "", "platform": "web"},
        {"token": "a/b", "platform": "web"},
        {"token": "t" * 4097, "platform": "web"},
        {"token": "t", "platform": "web", "extra": 1},
        {"platform": "web"},
    ):
        err = shop.fails("POST", "/api/me/devices", body, who=me, status=422, code="VALIDATION_ERROR")
        assert err["details"], body
    assert shop.ok("GET", "/api/me/devices", who=me) == {"items": []}


def test_devices_need_a_signed_in_customer(shop):
    shop.fails("GET", "/api/me/devices", status=401, code="UNAUTHORIZED")
    shop.fails("POST", "/api/me/devices", {"token": "t", "platform": "web"}, status=401, code="UNAUTHORIZED")
    shop.fails("DELETE", "/api/me/devices/t", status=401, code="UNAUTHORIZED")
