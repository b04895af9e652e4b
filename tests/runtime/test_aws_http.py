"""The API Gateway (HTTP API, payload 2.0) entrypoint on realistic events, over the
in-memory adapters: only the translation event <-> neutral request/response is under test."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from functions.adapters.memory import memory_services
from functions.runtimes import aws_http
from functions.shop.http import bearer_token
from functions.shop.ports import Category, Product

from .events import claims, http_event

ADMIN_SUB = "a0a0a0a0-0000-4000-8000-000000000001"
CUSTOMER_SUB = "c0c0c0c0-0000-4000-8000-000000000002"


@pytest.fixture
def services():
    s = memory_services()
    s.store.put_category(Category("books", "Books"))
    for i, stock in enumerate((5, 0, 2)):
        s.store.create_product(Product(f"book-{i}", f"Book {i}", "A book", "books", 1000 + i, "USD", stock))
    return s


def call(event, services):
    result = aws_http.handler(event, None, services_factory=lambda: services)
    assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}, result
    return result


def body_of(result):
    assert result["isBase64Encoded"] is False, result
    return json.loads(result["body"])


# ---------------------------------------------------------------------------- claims


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[admin]", ("admin",)),  # what the HTTP API authorizer forwards for one group
        ("[admin editors]", ("admin", "editors")),  # ... and for several
        ("admin", ("admin",)),
        ("admin,editors", ("admin", "editors")),
        ('["admin", "editors"]', ("admin", "editors")),  # a JSON array as text
        (["admin", "editors"], ("admin", "editors")),  # a real list (hand-built events)
        ("[]", ()),
        ("", ()),
        (None, ()),
        ("[admin admin]", ("admin",)),
    ],
)
def test_cognito_groups_in_every_format_gateways_use(raw, expected):
    assert aws_http.parse_groups(raw) == expected


def test_principal_comes_from_the_authorizer_claims_and_the_token_from_the_header():
    event = http_event(
        "GET",
        "/api/me",
        jwt_claims=claims(ADMIN_SUB, "[admin]", email="ada@example.com"),
        headers={"authorization": "Bearer aaa.bbb.ccc"},
    )
    request = aws_http.request_from_event(event, "rid-1")
    p = request.principal
    assert (p.user_id, p.groups, p.email, p.username, p.access_token) == (
        ADMIN_SUB,
        ("admin",),
        "ada@example.com",
        ADMIN_SUB,
        "aaa.bbb.ccc",
    )


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer x.y.z", "x.y.z"),
        ("bearer x.y.z", "x.y.z"),
        ("x.y.z", "x.y.z"),
        ("Basic dXNlcjpwYXNz", None),
        ("", None),
    ],
)
def test_access_token_with_or_without_the_bearer_prefix(header, token):
    # AWS's rule: API Gateway's authorizer also takes a bare JWT, so the runtime hands it on.
    assert bearer_token(header, bare=True) == token


def test_elsewhere_only_a_bearer_header_carries_a_token():
    assert bearer_token("Bearer abc") == "abc" and bearer_token("bearer  abc ") == "abc"
    assert bearer_token("x.y.z") is None, "a bare JWT is a token only where the gateway accepts one"
    assert bearer_token("Basic abc") is None and bearer_token("Bearer ") is None and bearer_token(None) is None


def test_no_authorizer_means_no_principal():
    event = http_event("GET", "/api/health")
    assert aws_http.request_from_event(event, "rid").principal is None


def test_customer_route_without_claims_is_401_even_if_the_gateway_was_misconfigured(services):
    result = call(http_event("GET", "/api/cart"), services)
    assert result["statusCode"] == 401
    assert body_of(result)["error"]["code"] == "UNAUTHORIZED"


# ---------------------------------------------------------------------------- routing


def test_public_route_answers_json_with_the_request_id_header(services):
    result = call(http_event("GET", "/api/health", request_id="Abc-123="), services)
    assert result["statusCode"] == 200, result
    assert result["headers"]["content-type"].startswith("application/json")
    assert result["headers"]["x-request-id"] == "Abc-123="
    assert isinstance(body_of(result), dict)


def test_path_parameters_reach_the_handler(services):
    ok = call(
        http_event("GET", "/api/products/{productId}", "/api/products/book-1", path_params={"productId": "book-1"}),
        services,
    )
    assert ok["statusCode"] == 200, ok
    product = body_of(ok)
    assert (product["productId"], product["price"], product["stock"]) == ("book-1", 1001, 0)
    missing = call(
        http_event("GET", "/api/products/{productId}", "/api/products/nope", path_params={"productId": "nope"}),
        services,
    )
    assert missing["statusCode"] == 404 and body_of(missing)["error"]["code"] == "NOT_FOUND"


def test_query_string_reaches_the_handler_last_value_wins(services):
    result = call(http_event("GET", "/api/products", query="category=books&limit=5&limit=2"), services)
    assert result["statusCode"] == 200, result
    page = body_of(result)
    assert len(page["items"]) == 2 and page["nextCursor"], page


def test_default_route_key_falls_back_to_matching_the_path(services):
    event = http_event("GET", "/api/products/book-0", route_key="$default")
    result = call(event, services)
    assert result["statusCode"] == 200 and body_of(result)["productId"] == "book-0"


def test_named_stage_prefix_is_stripped(services):
    event = http_event("GET", "/api/health", "/prod/api/health", stage="prod", route_key="$default")
    assert call(event, services)["statusCode"] == 200


def test_unknown_path_is_a_json_404(services):
    result = call(http_event("GET", "/api/nothing-here", route_key="$default"), services)
    assert result["statusCode"] == 404 and body_of(result)["error"]["code"] == "NOT_FOUND"


# ---------------------------------------------------------------------------- bodies


def cart_put(body, services, **kw):
    return call(
        http_event(
            "PUT",
            "/api/cart/items/{productId}",
            "/api/cart/items/book-0",
            path_params={"productId": "book-0"},
            body=body,
            jwt_claims=claims(CUSTOMER_SUB),
            **kw,
        ),
        services,
    )


def test_base64_encoded_body_is_decoded(services):
    result = cart_put(json.dumps({"quantity": 2}), services, base64_body=True)
    assert result["statusCode"] == 200, result
    cart = body_of(result)
    assert [(li["productId"], li["quantity"], li["lineTotal"]) for li in cart["items"]] == [("book-0", 2, 2000)]


def test_plain_text_body(services):
    assert cart_put('{"quantity": 1}', services)["statusCode"] == 200


@pytest.mark.parametrize("body", ['{"quantity": ', "not json", "\u00ff\u00fe"])
def test_bad_json_is_a_400_json_error(services, body):
    result = cart_put(body, services)
    assert result["statusCode"] == 400, result
    assert body_of(result)["error"]["code"] == "BAD_REQUEST"


def test_undecodable_base64_is_a_400_not_a_500(services):
    event = http_event(
        "PUT",
        "/api/cart/items/{productId}",
        "/api/cart/items/book-0",
        path_params={"productId": "book-0"},
        jwt_claims=claims(CUSTOMER_SUB),
    )
    event.update(body="%%%not base64%%%", isBase64Encoded=True)
    result = call(event, services)
    assert result["statusCode"] == 400 and "base64" in body_of(result)["error"]["message"]


@pytest.mark.parametrize("body", ['{"quantity": "two"}', '{"quantity": -1}', "[1, 2]", '{"quantity": 1e9}'])
def test_wrong_typed_body_is_4xx_json(services, body):
    result = cart_put(body, services)
    assert 400 <= result["statusCode"] < 500, result
    assert "error" in body_of(result)


def test_oversized_body_is_413(services):
    result = cart_put(json.dumps({"quantity": 1, "pad": "x" * 200_000}), services, base64_body=True)
    assert result["statusCode"] == 413, result


# ---------------------------------------------------------------------------- groups


def test_customer_on_admin_route_is_403(services):
    event = http_event("POST", "/api/admin/products", body=json.dumps({}), jwt_claims=claims(CUSTOMER_SUB))
    result = call(event, services)
    assert result["statusCode"] == 403 and body_of(result)["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("groups", ["[admin]", "[editors admin]", "admin"])
def test_admin_group_as_the_gateway_flattens_it_reaches_admin_routes(services, groups):
    checked = []  # the identity service's own answer is another test's business (tests/domain/test_accounts.py)
    services.identity.verify_admin = checked.append
    product = {"name": "Lamp", "description": "Warm", "category": "books", "price": 2500, "currency": "USD", "stock": 3}
    event = http_event("POST", "/api/admin/products", body=json.dumps(product), jwt_claims=claims(ADMIN_SUB, groups))
    result = call(event, services)
    assert result["statusCode"] == 201, result
    assert [p.user_id for p in checked] == [ADMIN_SUB]
    assert body_of(result)["price"] == 2500


def test_an_id_token_is_refused_even_though_the_authorizer_accepted_it(services):
    """API Gateway's JWT authorizer checks `aud` or `client_id`: the pool's ID tokens pass it."""
    services.identity.verify_admin = lambda principal: None
    for token_use in ("id", None):
        jwt_claims = claims(ADMIN_SUB, "[admin]", token_use=token_use)
        if token_use is None:
            del jwt_claims["token_use"]
        result = call(http_event("GET", "/api/me", jwt_claims=jwt_claims), services)
        assert result["statusCode"] == 401, (token_use, result)
        assert body_of(result)["error"]["code"] == "UNAUTHORIZED"


def test_the_client_address_is_the_one_cloudfront_appended(services):
    seen = []

    def log_in(email, password, context=None):
        seen.append(context)
        raise aws_http_identity_error()

    services.identity.log_in = log_in
    body = json.dumps({"email": "a@example.com", "password": "pw"})
    event = http_event("POST", "/api/auth/login", body=body)
    event["headers"].update({"x-forwarded-for": "6.6.6.6, 198.51.100.7", "user-agent": "Firefox/140"})
    event["requestContext"]["http"]["sourceIp"] = "130.176.0.1"  # a CloudFront edge
    call(event, services)
    event = http_event("POST", "/api/auth/login", body=body)
    event["requestContext"]["http"]["sourceIp"] = "203.0.113.9"
    event["headers"].pop("x-forwarded-for", None)
    call(event, services)
    assert [(c.ip, c.path) for c in seen] == [("198.51.100.7", "/api/auth/login"), ("203.0.113.9", "/api/auth/login")]
    assert seen[0].user_agent == "Firefox/140"


def aws_http_identity_error():
    from functions.shop.ports import IdentityError

    return IdentityError("NOT_AUTHORIZED", "incorrect email or password", 401)


# ---------------------------------------------------------------------------- failures


def test_a_broken_backend_is_a_json_500_with_the_request_id_logged(services, caplog):
    def broken():
        raise ConnectionError("dynamodb unreachable")

    with caplog.at_level(logging.ERROR, logger="shop.aws_http"):
        result = aws_http.handler(http_event("GET", "/api/health", request_id="req-500"), None, services_factory=broken)
    assert result["statusCode"] == 500
    assert body_of(result)["error"] == {"code": "INTERNAL", "message": "internal error", "requestId": "req-500"}
    assert result["headers"]["x-request-id"] == "req-500"
    assert any("req-500" in r.getMessage() for r in caplog.records), caplog.text


def test_non_text_bodies_go_back_base64_encoded():
    from functions.shop.http import Response

    result = aws_http.to_result(Response(200, b"\x89PNG\r\n", {"content-type": "image/png"}), "r")
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == b"\x89PNG\r\n"


def test_request_id_falls_back_to_the_lambda_context():
    class Ctx:
        aws_request_id = "lambda-req-1"

    event = http_event("GET", "/api/health")
    del event["requestContext"]["requestId"]
    result = aws_http.handler(event, Ctx(), services_factory=memory_services)
    assert result["headers"]["x-request-id"] == "lambda-req-1"


def test_importing_the_entrypoint_does_not_import_boto3():
    import subprocess
    import sys

    code = "import sys, functions.runtimes.aws_http; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr


# ---------------------------------------------------------------------------- origin (CDN only)

ORIGIN_SECRET = "s3cr3t-from-cloudfront-0123456789abcdef"


@pytest.fixture
def cdn_only(monkeypatch):
    from functions.runtimes import origin

    monkeypatch.setenv(origin.ORIGIN_SECRET_ENV, ORIGIN_SECRET)
    return origin.ORIGIN_HEADER


def test_direct_call_without_the_cdn_header_is_a_json_403(services, cdn_only):
    result = call(http_event("GET", "/api/health"), services)
    assert result["statusCode"] == 403, f"a call around CloudFront must be refused: {result}"
    assert body_of(result)["error"]["code"] == "FORBIDDEN", result


@pytest.mark.parametrize("given", ["wrong", ORIGIN_SECRET[:-1], ORIGIN_SECRET + "x", ""])
def test_a_wrong_cdn_header_is_a_json_403(services, cdn_only, given):
    result = call(http_event("GET", "/api/health", headers={cdn_only: given}), services)
    assert result["statusCode"] == 403, f"{given!r} is not the origin secret: {result}"


@pytest.mark.parametrize("name", ["x-origin-verify", "X-Origin-Verify"])
def test_the_cdn_header_lets_the_request_through_and_stops_there(services, cdn_only, name):
    seen = {}
    original = aws_http.request_from_event

    def spy(event, request_id):
        seen["request"] = original(event, request_id)
        return seen["request"]

    aws_http.request_from_event = spy
    try:
        result = call(http_event("GET", "/api/health", headers={name: ORIGIN_SECRET}), services)
    finally:
        aws_http.request_from_event = original
    assert result["statusCode"] == 200, result
    assert cdn_only not in seen["request"].headers, "the origin secret must not reach the handlers"


def test_protected_routes_need_the_cdn_header_too(services, cdn_only):
    event = http_event("GET", "/api/cart", jwt_claims=claims(CUSTOMER_SUB))
    assert call(event, services)["statusCode"] == 403


def _padded(size: int) -> str:
    """A JSON body of exactly `size` bytes."""
    head = '{"quantity": 1, "pad": "'
    return head + "x" * (size - len(head) - 2) + '"}'


def test_the_documented_body_limit_64_kib_is_the_apis_and_answers_413_json_above_it(services):
    # The firewall lets /api/* bodies through to this limit (providers/aws/firewall.py, README Security).
    from functions.shop.api import MAX_BODY_BYTES

    assert MAX_BODY_BYTES == 64 * 1024
    at_limit = cart_put(_padded(MAX_BODY_BYTES), services)
    assert at_limit["statusCode"] != 413, f"a 64 KiB body must reach the handler: {at_limit}"
    over = cart_put(_padded(MAX_BODY_BYTES + 1), services)
    assert over["statusCode"] == 413 and body_of(over)["error"]["code"] == "PAYLOAD_TOO_LARGE", over
    above_waf = cart_put(_padded(9 * 1024), services)  # over the managed rule's 8 KB
    assert above_waf["statusCode"] != 413, above_waf
