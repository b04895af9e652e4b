"""Shipping addresses per country: region and phone, postal formats, display in the e-mail."""

from __future__ import annotations

import pytest

from functions.shop import addresses, ports

US = {"name": "Abe", "line1": "8th & Jackson", "city": "Springfield", "region": "IL", "postalCode": "62704"}


def checkout(shop, customer, address: dict, key="k1"):
    shop.fill(customer, {"b2": 1})
    return shop.checkout(customer, key=key, body={"shippingAddress": address})


@pytest.mark.parametrize("country", sorted(addresses.REGION_REQUIRED))
def test_a_region_is_required_where_the_country_uses_one(shop, customer, country):
    address = {**US, "country": country, "postalCode": {"CA": "K1A 0B1"}.get(country, "62704")}
    del address["region"]
    r = checkout(shop, customer, address)
    assert r.status == 422 and r.body["error"]["code"] == "VALIDATION_ERROR", r.body
    assert [d["field"] for d in r.body["error"]["details"]] == ["shippingAddress.region"], r.body
    assert shop.store.orders == {} and shop.stock("b2") == 10, "a refused address wrote an order"


@pytest.mark.parametrize(
    ("country", "good", "bad"),
    [
        ("US", ["62704", "62704-1234", "627041234"], ["6270", "62704-12", "ABCDE", "62704 1234x"]),
        ("CA", ["K1A 0B1", "k1a0b1"], ["K1A 0B", "12345", "KKA 0B1"]),
        ("GB", ["SW1A 1AA", "N1 9GU", "m1 1ae", "GIR 0AA"], ["N1", "12345", "SW1A"]),
    ],
)
def test_postal_codes_follow_the_national_format(shop, customer, country, good, bad):
    base = {**US, "country": country, "region": "XX"}
    for n, code in enumerate(bad):
        r = checkout(shop, customer, {**base, "postalCode": code}, key=f"bad{n}")
        assert r.status == 422, f"{country} {code!r} accepted: {r.body}"
        assert [d["field"] for d in r.body["error"]["details"]] == ["shippingAddress.postalCode"], r.body
    for n, code in enumerate(good):
        r = checkout(shop, customer, {**base, "postalCode": code}, key=f"good{n}")
        assert r.status == 201, f"{country} {code!r} refused: {r.body}"


def test_elsewhere_postal_codes_and_regions_are_free_form(shop, customer):
    r = checkout(
        shop, customer, {"name": "Ana", "line1": "Rua 1", "city": "Lisboa", "postalCode": "1000-001 X", "country": "PT"}
    )
    assert r.status == 201, r.body


def test_phone_is_checked_by_the_model(shop, customer):
    r = checkout(shop, customer, {**US, "country": "US", "phone": "call me"})
    assert r.status == 422 and r.body["error"]["details"][0]["field"] == "shippingAddress.phone", r.body


def test_region_and_phone_are_stored_and_returned(shop, customer):
    r = checkout(shop, customer, {**US, "country": "US", "phone": "+1 217 555 0100"})
    assert r.status == 201, r.body
    sent = r.body["shippingAddress"]
    assert (sent["region"], sent["phone"]) == ("IL", "+1 217 555 0100"), sent
    again = shop.ok("GET", f"/api/orders/{r.body['orderId']}", who=customer)["shippingAddress"]
    assert again == sent


def test_the_order_email_shows_the_address_as_written_in_its_country(shop, customer):
    r = checkout(shop, customer, {**US, "country": "US", "phone": "+1 217 555 0100"})
    assert r.status == 201, r.body
    text = shop.notifier.outbox[-1]["text"]
    expected = "Ship to:\n  Abe\n  8th & Jackson\n  Springfield, IL 62704\n  United States\n  Phone: +1 217 555 0100\n"
    assert expected in text, text


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            ports.Address("Ada", "1 St", "London", "n1 9gu", "GB", line2="Flat 2"),
            ["Ada", "1 St", "Flat 2", "London", "N1 9GU", "United Kingdom"],
        ),
        (ports.Address("Jo", "5 Rue", "Paris", "75001", "FR"), ["Jo", "5 Rue", "75001 Paris", "France"]),
        (
            ports.Address("Li", "1 Rd", "Toronto", "M5V 2T6", "CA", region="ON"),
            ["Li", "1 Rd", "Toronto, ON M5V 2T6", "Canada"],
        ),
        (ports.Address("X", "1", "Town", "999", "ZZ", region="R"), ["X", "1", "999 Town", "R", "ZZ"]),
    ],
)
def test_address_lines_per_country(address, expected):
    assert addresses.lines(address) == expected
