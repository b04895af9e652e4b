"""The OpenAPI documents: valid, complete, and true to what the handlers do."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV2SpecValidator, OpenAPIV31SpecValidator

from functions.shop import api, catalog
from functions.shop.openapi import build, openapi2
from functions.shop.routes import ROUTES

from .conftest import ADDRESS

DOC = build()
BACKENDS = {s: f"https://{s}-abc.a.run.app" for s in {r.service for r in ROUTES}}


def test_the_3_1_document_is_valid():
    validate(DOC, cls=OpenAPIV31SpecValidator)


def test_it_is_served_at_openapi_json(shop):
    assert shop.ok("GET", "/api/openapi.json") == DOC


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.operation_id)
def test_every_route_is_documented(route):
    op = DOC["paths"][route.path][route.method.lower()]
    assert op["operationId"] == route.operation_id
    assert op["security"] == ([] if route.auth == "public" else [{"bearerAuth": []}]), route.route_key
    assert {p["name"] for p in op["parameters"] if p["in"] == "path"} == set(route.path_params)
    assert {p["name"] for p in op["parameters"] if p["in"] == "query"} == set(route.query_params)
    assert str(route.success_status) in op["responses"]
    for code in ("400", "401", "403", "404", "409", "422"):
        assert op["responses"][code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    if route.request_model:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{route.request_model}"}
        assert DOC["components"]["schemas"][route.request_model]["additionalProperties"] is False


def test_checkout_documents_the_required_idempotency_key_and_the_replay():
    op = DOC["paths"]["/api/orders"]["post"]
    [key] = [p for p in op["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key" and key["required"] is True
    assert {"200", "201"} <= set(op["responses"])


def test_security_scheme_is_a_bearer_jwt():
    assert DOC["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_documented_query_bounds_are_the_enforced_ones(shop):
    params = {p["name"]: p["schema"] for p in DOC["paths"]["/api/products"]["get"]["parameters"]}
    assert params["limit"]["maximum"] == catalog.MAX_LIMIT and params["q"]["maxLength"] == catalog.MAX_QUERY
    assert params["cursor"]["maxLength"] == api.MAX_CURSOR
    at_limit = {"limit": str(catalog.MAX_LIMIT), "q": "x" * catalog.MAX_QUERY, "category": "c" * catalog.MAX_CATEGORY}
    assert shop.call("GET", "/api/products", query=at_limit).status == 200
    for name, too_long in (("q", "x" * (catalog.MAX_QUERY + 1)), ("category", "c" * (catalog.MAX_CATEGORY + 1))):
        assert shop.call("GET", "/api/products", query={name: too_long}).status == 400
    path = DOC["paths"]["/api/products/{productId}"]["get"]["parameters"][0]["schema"]
    assert path["maxLength"] == api.MAX_PATH_PARAM
    assert shop.call("GET", "/api/products/" + "p" * api.MAX_PATH_PARAM).status == 404


def conforms(body, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOC["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, f"response does not match {schema_name}: {errors[0].message} at {list(errors[0].path)}"


def test_real_responses_match_their_documented_schemas(shop, customer, admin):
    for method, path, body, who, model in [
        ("GET", "/api/products", None, None, "ProductList"),
        ("GET", "/api/products/b1", None, None, "Product"),
        ("GET", "/api/categories", None, None, "CategoryList"),
        ("PUT", "/api/cart/items/b1", {"quantity": 1}, customer, "Cart"),
        ("GET", "/api/me", None, customer, "MeResponse"),
        ("GET", "/api/health", None, None, "HealthResponse"),
        ("POST", "/api/admin/products/b1/image", {"contentType": "image/png"}, admin, "ImageUploadResponse"),
    ]:
        conforms(shop.ok(method, path, body, who=who), model)
    order = shop.checkout(customer).body
    conforms(order, "Order")
    conforms(shop.ok("GET", "/api/orders", who=customer), "OrderList")
    conforms(shop.ok("GET", "/api/admin/orders", who=admin, query={"status": "PLACED"}), "OrderList")
    conforms(shop.call("GET", "/api/products/nope").body, "Error")
    conforms(shop.call("POST", "/api/orders", ADDRESS, who=customer).body, "Error")


def test_the_swagger_2_document_for_gcp_api_gateway():
    doc = openapi2(BACKENDS, "https://securetoken.google.com/proj", "proj")
    validate(doc, cls=OpenAPIV2SpecValidator)
    jwt = doc["securityDefinitions"]["jwt"]
    assert jwt["x-google-issuer"] == "https://securetoken.google.com/proj" and jwt["x-google-audiences"] == "proj"
    for route in ROUTES:
        op = doc["paths"][route.path][route.method.lower()]
        assert op["x-google-backend"]["address"] == BACKENDS[route.service]
        assert op["x-google-backend"]["path_translation"] == "APPEND_PATH_TO_ADDRESS"
        assert ("security" in op) == (route.auth != "public"), route.route_key
    key = next(p for p in doc["paths"]["/api/orders"]["post"]["parameters"] if p["in"] == "header")
    assert key["type"] == "string" and key["required"] is True


def test_the_swagger_2_document_needs_every_backend():
    with pytest.raises(ValueError, match="admin"):
        openapi2({k: v for k, v in BACKENDS.items() if k != "admin"}, "iss", "aud")


def test_the_admin_order_view_documents_whose_order_it_is():
    customer = DOC["components"]["schemas"]["OrderCustomer"]
    assert set(customer["properties"]) == {"email", "name", "city", "region", "country"}, customer
    order = DOC["components"]["schemas"]["Order"]["properties"]["customer"]
    assert "admin" in order["description"], order
