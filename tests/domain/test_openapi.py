"""The OpenAPI documents: valid, complete, and true to what the handlers do."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV2SpecValidator, OpenAPIV31SpecValidator

from functions.shop import api, catalog
from functions.shop.openapi import build, openapi2, schema_name
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
    for code in ("400", "404", "405", "409", "429", "500", "503", "504", "default"):
        assert op["responses"][code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    if route.request_model:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        name = schema_name(route.request_model)
        assert schema == {"$ref": f"#/components/schemas/{name}"}
        assert DOC["components"]["schemas"][name]["additionalProperties"] is False


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


# -- what a generated client relies on -------------------------------------------------------

ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}


def _codes_in_source() -> set[str]:
    """Every error code the code base can send: error(status, CODE, ...), IdentityError(CODE, ...),
    (CODE, message, status) mapping entries and {"code": CODE} bodies (gateways, runtimes)."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "functions"
    code_like = re.compile(r"^[A-Z][A-Z_]+$")
    found: set[str] = set()

    def const(node) -> str | None:
        value = getattr(node, "value", None) if isinstance(node, ast.Constant) else None
        return value if isinstance(value, str) and code_like.match(value) else None

    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                position = {"error": 1, "IdentityError": 0, "Refused": 0, "BadRequest": 1}.get(name)
                if position is not None and len(node.args) > position and const(node.args[position]):
                    found.add(const(node.args[position]))
            elif isinstance(node, ast.Tuple) and len(node.elts) == 3 and const(node.elts[0]):
                status = node.elts[2]
                if isinstance(status, ast.Constant) and isinstance(status.value, int) and 400 <= status.value < 600:
                    found.add(const(node.elts[0]))
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "code" and const(value):
                        found.add(const(value))
    return found


def test_the_error_code_enum_lists_every_code_the_source_sends():
    from functions.shop.openapi import ERROR_CODES

    sent = _codes_in_source()
    assert {"INSUFFICIENT_STOCK", "NOT_AUTHORIZED", "METHOD_NOT_ALLOWED", "INTERNAL"} <= sent, "the scan finds codes"
    assert sent - set(ERROR_CODES) == set(), "codes sent but not in openapi.ERROR_CODES (a client cannot match them)"
    assert set(ERROR_CODES) - sent == set(), "codes documented that nothing sends"
    enum = DOC["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
    assert enum == list(ERROR_CODES)


def _op(operation_id: str) -> dict:
    route = next(r for r in ROUTES if r.operation_id == operation_id)
    return DOC["paths"][route.path][route.method.lower()]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.operation_id)
def test_each_operation_lists_the_statuses_it_can_answer(route):
    responses = _op(route.operation_id)["responses"]
    signs_in = route.auth == "public" and route.service == "accounts"
    assert ("401" in responses) == (route.auth != "public" or signs_in), route.operation_id
    assert ("403" in responses) == (route.auth == "admin" or signs_in), route.operation_id
    assert ("422" in responses) == ("413" in responses) == (route.request_model is not None), route.operation_id
    for code in ("405", "429", "500", "503", "504", "default"):
        assert responses[code]["content"]["application/json"]["schema"] == ERROR_SCHEMA, (route.operation_id, code)


def test_public_reads_do_not_promise_401_or_403():
    for operation_id in ("listProducts", "getProduct", "listCategories", "health"):
        assert not {"401", "403"} & set(_op(operation_id)["responses"]), operation_id


def test_response_headers_are_declared():
    place, admin = _op("placeOrder")["responses"], _op("adminListOrders")["responses"]
    assert place["405"]["headers"]["Allow"]["required"] is True
    for code in ("429", "503"):
        assert place[code]["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 0}
    assert "WWW-Authenticate" in admin["401"]["headers"]


def test_one_order_status_enum_everywhere():
    from functions.shop import ports

    schemas = DOC["components"]["schemas"]
    assert schemas["OrderStatus"]["enum"] == list(ports.ORDER_STATUSES)
    ref = {"$ref": "#/components/schemas/OrderStatus"}
    assert schemas["Order"]["properties"]["status"] == ref
    assert schemas["OrderStatusInput"]["properties"]["status"] == ref
    [status] = [p for p in _op("adminListOrders")["parameters"] if p["name"] == "status"]
    assert status["schema"] == ref
    # Swagger 2.0 (GCP) cannot refer to a schema from a parameter: the same enum inline.
    doc2 = openapi2(BACKENDS, "https://securetoken.google.com/proj", "proj")
    [status2] = [p for p in doc2["paths"]["/api/admin/orders"]["get"]["parameters"] if p["name"] == "status"]
    assert status2["enum"] == list(ports.ORDER_STATUSES)


def test_timestamps_and_urls_have_formats():
    schemas = DOC["components"]["schemas"]

    def fmt(model: str, field: str) -> set[str]:
        prop = schemas[model]["properties"][field]
        return {b["format"] for b in prop.get("anyOf", [prop]) if "format" in b}

    assert fmt("Order", "createdAt") == fmt("Order", "updatedAt") == {"date-time"}
    # Images may be served from the site's own origin (/media/...), and Azure's uploads go to it
    # (/media-uploads/...): URI references, not URIs.
    assert fmt("ImageUploadResponse", "uploadUrl") == {"uri-reference"}
    assert fmt("Product", "imageUrl") == fmt("ProductInput", "imageUrl") == {"uri-reference"}


def test_protected_operations_say_so_in_their_description():
    for route in ROUTES:
        description = _op(route.operation_id).get("description", "")
        if route.auth == "admin":
            assert description.startswith("Admin only"), route.operation_id
        elif route.auth == "customer":
            assert "signed-in user" in description, route.operation_id


def test_error_extras_are_declared_and_real_errors_conform(shop, customer, other, admin):
    body = DOC["components"]["schemas"]["ErrorBody"]["properties"]
    assert body["details"]["items"]["required"] == ["field", "message"]
    assert body["productIds"]["items"] == {"type": "string"}
    invalid = shop.call("POST", "/api/admin/products", {"name": ""}, who=admin)
    assert invalid.status == 422 and invalid.body["error"]["details"], invalid.body
    conforms(invalid.body, "Error")
    shop.fill(customer, {"b1": 3})
    shop.order(other, {"b1": 2}, key="other-key")  # leaves 1 of 3
    short = shop.checkout(customer)
    assert short.status == 409 and short.body["error"]["productIds"] == ["b1"], short.body
    conforms(short.body, "Error")
    wrong_method = shop.call("PATCH", "/api/cart")
    assert wrong_method.status == 405 and wrong_method.headers["allow"], wrong_method.headers
    conforms(wrong_method.body, "Error")


def test_a_bad_refresh_token_is_not_called_a_wrong_password(shop, monkeypatch):
    from functions.shop.ports import IdentityError

    def cognito_like(token: str):
        # Cognito answers NotAuthorizedException for a bad refresh token, like for a bad password.
        raise IdentityError("NOT_AUTHORIZED", "incorrect email or password", 401)

    monkeypatch.setattr(shop.services.identity, "refresh", cognito_like)
    err = shop.fails("POST", "/api/auth/refresh", {"refreshToken": "forged"}, status=401, code="NOT_AUTHORIZED")
    assert err["message"] == "the refresh token is invalid or expired: sign in again"


def test_the_admin_order_view_documents_whose_order_it_is():
    customer = DOC["components"]["schemas"]["OrderCustomer"]
    assert set(customer["properties"]) == {"email", "name", "city", "region", "country"}, customer
    order = DOC["components"]["schemas"]["Order"]["properties"]["customer"]
    assert "admin" in order["description"], order
