"""The JSON contract: strict inputs, camelCase outputs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from functions.shop import datamodel, models, ports

PRODUCT = {"name": "Lamp", "description": "", "category": "home", "price": 1500, "currency": "USD", "stock": 2}
ADDRESS = {"name": "Ada", "line1": "1 St", "city": "London", "postalCode": "N1", "country": "GB"}


def rejects(model, data, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    locs = [".".join(str(p) for p in e["loc"]) for e in info.value.errors()]
    assert field in locs, f"{model.__name__} rejected {data!r} but not for {field}: {locs}"


@pytest.mark.parametrize(
    "price",
    [1.5, 15.0, "1500", True, -1, 100_000_001, None, [1500]],
    ids=["float", "float-integral", "string", "bool", "negative", "too-big", "null", "list"],
)
def test_prices_are_strict_non_negative_integers(price):
    rejects(models.ProductInput, {**PRODUCT, "price": price}, "price")


@pytest.mark.parametrize("quantity", [-1, datamodel.MAX_LINE_QUANTITY + 1, 1.0, "1", False])
def test_quantities_are_strict_and_bounded(quantity):
    rejects(models.SetCartItemRequest, {"quantity": quantity}, "quantity")


@pytest.mark.parametrize("quantity", [0, 1, datamodel.MAX_LINE_QUANTITY])
def test_quantity_bounds_are_inclusive(quantity):
    assert models.SetCartItemRequest.model_validate({"quantity": quantity}).quantity == quantity


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "usd"}, "currency"),
        ({"currency": "US"}, "currency"),
        ({"category": "Home Goods"}, "category"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "nul\x00"}, "description"),
        ({"stock": -1}, "stock"),
        ({"imageUrl": "javascript:alert(1)"}, "imageUrl"),
        ({"productId": "Has Spaces"}, "productId"),
        ({"sku": "extra"}, "sku"),
    ],
)
def test_product_input_rules(change, field):
    rejects(models.ProductInput, {**PRODUCT, **change}, field)


def test_product_input_accepts_multiline_descriptions_and_trims_names():
    p = models.ProductInput.model_validate({**PRODUCT, "name": "  Lamp  ", "description": "One\nTwo\tThree"})
    assert p.name == "Lamp" and p.description == "One\nTwo\tThree"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "gb"}, "country"),
        ({"country": "GBR"}, "country"),
        ({"postalCode": ""}, "postalCode"),
        ({"postalCode": "x" * 21}, "postalCode"),
        ({"line1": "a\nb"}, "line1"),
        ({"city": None}, "city"),
        ({"phone": "123"}, "phone"),
    ],
)
def test_shipping_address_rules(change, field):
    rejects(models.PlaceOrderRequest, {"shippingAddress": {**ADDRESS, **change}}, f"shippingAddress.{field}")


def test_shipping_address_line2_is_optional_and_blank_means_none():
    order = models.PlaceOrderRequest.model_validate({"shippingAddress": {**ADDRESS, "line2": ""}})
    assert order.shipping_address.to_port().line2 is None


def test_clients_cannot_send_prices_or_totals_at_checkout():
    rejects(models.PlaceOrderRequest, {"shippingAddress": ADDRESS, "total": 1}, "total")


@pytest.mark.parametrize("email", ["plain", "a@b", "a b@example.com", "@example.com", "a@@example.com", "x" * 250])
def test_email_format(email):
    rejects(models.SignUpRequest, {"email": email, "password": "password123"}, "email")


def test_password_min_length():
    rejects(models.SignUpRequest, {"email": "a@example.com", "password": "short"}, "password")
    assert models.SignUpRequest.model_validate({"email": "a@example.com", "password": "longenough"})


def test_order_status_is_one_of_the_lifecycle_states():
    rejects(models.OrderStatusInput, {"status": "LOST"}, "status")
    rejects(models.OrderStatusInput, {"status": "paid"}, "status")
    literal = models.OrderStatusInput.model_json_schema()["properties"]["status"]["enum"]
    assert tuple(literal) == ports.ORDER_STATUSES, "the model's statuses drifted from ports.ORDER_STATUSES"


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "image/webp", "image/avif", "image/gif"])
def test_image_types_accepted(content_type):
    assert models.ImageUploadRequest.model_validate({"contentType": content_type}).content_type == content_type


@pytest.mark.parametrize(
    "content_type", ["text/html", "image/svg+xml", "image/png; x=1", "IMAGE/PNG", "image/bmp", "text/xml", ""]
)
def test_image_types_refused(content_type):
    rejects(models.ImageUploadRequest, {"contentType": content_type}, "contentType")


def test_the_image_types_of_the_model_are_the_allow_list_in_the_datamodel():
    from functions.shop import datamodel

    schema = models.ImageUploadRequest.model_json_schema()["properties"]["contentType"]["enum"]
    assert sorted(schema) == sorted(datamodel.IMAGE_TYPES), "the API's image types drifted from datamodel.IMAGE_TYPES"
    assert not any("svg" in t for t in datamodel.IMAGE_TYPES), "SVG runs scripts: it must never be uploadable"


def test_inputs_accept_camel_case_and_outputs_are_camel_case():
    assert models.RefreshRequest.model_validate({"refreshToken": "t"}).refresh_token == "t"
    product = ports.Product("p1", "Lamp", "d", "home", 1500, "USD", 2, "/media/p1.png")
    assert models.ProductOut.of(product).model_dump(by_alias=True) == {
        "productId": "p1",
        "name": "Lamp",
        "description": "d",
        "category": "home",
        "price": 1500,
        "currency": "USD",
        "stock": 2,
        "imageUrl": "/media/p1.png",
    }


def test_every_route_names_api_models_of_the_right_direction():
    from functions.shop.routes import ROUTES

    for r in ROUTES:
        if r.request_model:
            assert issubclass(r.request_model, models._In), f"{r.operation_id}: {r.request_model} is not strict"
        for out in (r.response_model, *(a.model for a in r.answers)):
            if out:
                assert issubclass(out, models._Out), f"{r.operation_id}: {out} is not a response model"
