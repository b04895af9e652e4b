"""push.DeviceStore on every store: a customer's device registrations."""

from __future__ import annotations

from functions.shop.push import MAX_DEVICES, Device

LONG = "fcm:APA91b_" + "x" * 3000  # longer than any store's key limit: stores key a hash of it


def at(second: int) -> str:
    return f"2026-01-01T00:{second // 60:02d}:{second % 60:02d}.000Z"


def test_devices_are_listed_newest_first_and_per_customer(store):
    store.put_device("u1", Device("a", "android", at(1)))
    store.put_device("u1", Device(LONG, "web", at(3)))
    store.put_device("u1", Device("c", "ios", at(2)))
    store.put_device("u2", Device("z", "ios", at(4)))
    assert store.list_devices("u1") == [
        Device(LONG, "web", at(3)),
        Device("c", "ios", at(2)),
        Device("a", "android", at(1)),
    ]
    assert store.list_devices("u2") == [Device("z", "ios", at(4))]
    assert store.list_devices("nobody") == []


def test_registering_again_refreshes_the_one_device(store):
    store.put_device("u1", Device("a", "android", at(1)))
    store.put_device("u1", Device("a", "ios", at(5)))
    assert store.list_devices("u1") == [Device("a", "ios", at(5))], "a token is one device per customer"


def test_delete_is_idempotent_and_touches_only_that_device(store):
    store.put_device("u1", Device("a", "android", at(1)))
    store.put_device("u1", Device(LONG, "web", at(2)))
    store.put_device("u2", Device("a", "android", at(3)))
    store.delete_device("u1", LONG)
    store.delete_device("u1", LONG)  # not registered any more: no error
    store.delete_device("u1", "never-registered")
    assert [d.token for d in store.list_devices("u1")] == ["a"]
    assert [d.token for d in store.list_devices("u2")] == ["a"], "another customer's device with the same token stays"


def test_the_oldest_registration_goes_beyond_the_limit(store):
    for i in range(MAX_DEVICES + 2):
        store.put_device("u1", Device(f"t{i:02d}", "android", at(10 + i)))
    tokens = [d.token for d in store.list_devices("u1")]
    assert tokens == [f"t{i:02d}" for i in range(MAX_DEVICES + 1, 1, -1)], tokens
    # a refreshed old device becomes the newest and survives the next registration
    store.put_device("u1", Device("t02", "android", at(100)))
    store.put_device("u1", Device("new", "android", at(101)))
    tokens = [d.token for d in store.list_devices("u1")]
    assert len(tokens) == MAX_DEVICES and tokens[:2] == ["new", "t02"] and "t03" not in tokens, tokens
