"""The API's OpenAPI documents, generated from the route table and the API models.

- `build()`: OpenAPI 3.1, served at GET /api/openapi.json, used for API fuzzing
  (schemathesis) and by Azure API Management.
- `openapi2(...)`: Swagger 2.0 for GCP API Gateway, which accepts only that version;
  it carries the gateway's JWT check and a backend per service.

The bounds declared here for parameters are the ones the handlers enforce (tests check
both sides), so a fuzzer's "valid" request is valid for the server too.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel

from . import api, catalog, models, ports, routes
from .catalog import MAX_CATEGORY, MAX_LIMIT, MAX_QUERY

ERROR_STATUSES = {
    "400": "Malformed request (JSON, parameters, Idempotency-Key)",
    "401": (
        "Missing or invalid token (sign-in operations: wrong credentials). A token refused by the"
        ' gateway is answered by the gateway itself, not as Error: AWS {"message":"Unauthorized"},'
        ' GCP {"code":401,"message":"..."}; treat any 401 as sign in again (docs/gateway-errors.md)'
    ),
    "403": "Not allowed (admin group required; sign-in operations: account not confirmed or disabled)",
    "404": "Not found",
    "405": "Method not allowed on this path",
    "409": "Conflict (stock, idempotency, state)",
    "413": "Body too large",
    "422": "Invalid body",
    "429": "Too many requests; retry after Retry-After seconds",
    "500": "Internal error (the message carries the request id)",
    "503": "Temporarily unavailable; retry",
    "504": "The gateway timed out waiting for the function",
}
# A JSON document (OpenAPI 3 or Swagger 2): nested objects whose shape the specifications define.
OpenApiDocument = dict[str, Any]

# Every error.code the handlers, adapters and gateways send (tests/domain/test_openapi.py scans
# the source for them): a generated client gets an enum it can match on.
ERROR_CODES = (
    "ALREADY_EXISTS", "BAD_REQUEST", "BAD_SIGNATURE", "CART_CHANGED", "CART_EMPTY", "CART_FULL",
    "CHALLENGE_UNSUPPORTED", "CODE_EXPIRED", "CODE_MISMATCH", "CONFLICT", "CURRENCY_MISMATCH", "EXPIRED_CODE",
    "FORBIDDEN", "IDEMPOTENCY_CONFLICT", "IDEMPOTENCY_KEY_REQUIRED", "IDENTITY_UNAVAILABLE", "INSUFFICIENT_STOCK",
    "INTERNAL", "INVALID_CODE", "INVALID_EMAIL", "INVALID_IDEMPOTENCY_KEY", "INVALID_PARAMETER", "INVALID_PASSWORD",
    "INVALID_TRANSITION", "METHOD_NOT_ALLOWED", "MFA_REQUIRED", "MISDIRECTED_REQUEST",
    "NOT_AUTHORIZED", "NOT_CANCELLABLE", "NOT_FOUND", "NOT_PAYABLE", "PAYLOAD_TOO_LARGE", "PAYMENTS_UNAVAILABLE",
    "PAYMENT_STATE", "SESSION_EXPIRED", "TOO_MANY_REQUESTS", "UNAUTHORIZED", "UNAVAILABLE", "USER_DISABLED",
    "USER_EXISTS", "USER_NOT_CONFIRMED", "VALIDATION_ERROR",
)  # fmt: skip
ORDER_STATUS_SCHEMA: dict[str, Any] = {
    "type": "string",
    "enum": list(ports.ORDER_STATUSES),
    "description": "PLACED -> PAID -> SHIPPED -> DELIVERED, or CANCELLED",
}
_RETRY_AFTER = {
    "description": "Seconds to wait before retrying",
    "schema": {"type": "integer", "minimum": 0},
}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {"description": "Bearer challenge (sent by the gateway)", "schema": {"type": "string"}}
    },
    "405": {"Allow": {"description": "The methods this path has", "required": True, "schema": {"type": "string"}}},
    "429": {"Retry-After": _RETRY_AFTER},
    "503": {"Retry-After": _RETRY_AFTER},
}
# Field -> format, as a generated client should parse it (image URLs, and Azure's upload URL,
# may be site-relative: Azure uploads go through the shop's own origin).
FORMATS = {
    ("Order", "createdAt"): "date-time",
    ("Order", "updatedAt"): "date-time",
    ("Product", "imageUrl"): "uri-reference",
    ("ProductInput", "imageUrl"): "uri-reference",
    ("ImageUploadResponse", "uploadUrl"): "uri-reference",
    ("ImageUploadResponse", "imageUrl"): "uri-reference",
}
JSON = "application/json"
AUTH_DESCRIPTIONS = {
    routes.CUSTOMER: "Needs a signed-in user: `Authorization: Bearer <access token>`.",
    routes.ADMIN: "Admin only: needs a signed-in user in the `admin` group (403 otherwise).",
}


def error_statuses(route: routes.Route) -> dict[str, str]:
    """The error statuses `route` can answer: sign-in failures only on protected or sign-in
    operations, body errors only where there is a body."""
    signs_in = route.auth == routes.PUBLIC and route.service == "accounts"
    keep = {
        "401": route.auth != routes.PUBLIC or signs_in,
        "403": route.auth == routes.ADMIN or signs_in,
        "413": route.request_model is not None,
        "422": route.request_model is not None,
    }
    return {code: text for code, text in ERROR_STATUSES.items() if keep.get(code, True)}


QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "category": {"type": "string", "maxLength": MAX_CATEGORY},
    "q": {"type": "string", "maxLength": MAX_QUERY, "description": "case-insensitive substring of the name"},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20},
    "cursor": {"type": "string", "maxLength": api.MAX_CURSOR, "description": "nextCursor of the previous page"},
    "status": {"$ref": "#/components/schemas/OrderStatus"},
    "minPrice": {"type": "integer", "minimum": 0, "maximum": catalog.MAX_PRICE, "description": "cents, inclusive"},
    "maxPrice": {"type": "integer", "minimum": 0, "maximum": catalog.MAX_PRICE, "description": "cents, inclusive"},
    "inStock": {"type": "boolean", "default": False, "description": "true: only products with stock"},
    "sort": {
        "type": "string",
        "enum": list(ports.SORTS),
        "default": "name",
        "description": "newest: most recently added or edited first. With filters a page may hold fewer "
        "than limit products; follow nextCursor until it is null",
    },
}


def schema_name(model: type[BaseModel]) -> str:
    """The model's name in components/schemas (its `title`, else its class name)."""
    return str(model.model_config.get("title") or model.__name__)


def _models() -> dict[str, type[BaseModel]]:
    """Every model an operation names, by schema name, and the error body."""
    found: list[type[BaseModel] | None] = [models.Error]
    for route in routes.ROUTES:
        found += [route.request_model, route.response_model, *(a.model for a in route.answers)]
    return {schema_name(m): m for m in found if m is not None}


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name, model in sorted(_models().items()):
        # Inputs as the server validates them, outputs as it serialises them.
        mode: Literal["validation", "serialization"] = (
            "validation" if issubclass(model, models._In) else "serialization"
        )
        schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}", mode=mode)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return _refine(_titled(schemas))


def _titled(schemas: dict[str, Any]) -> dict[str, Any]:
    """pydantic names nested models by class; the document names every model by its title."""
    titles = {
        cls.__name__: schema_name(cls)
        for cls in vars(models).values()
        if isinstance(cls, type) and issubclass(cls, BaseModel) and schema_name(cls) != cls.__name__
    }

    def rename(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF) and ref[len(REF) :] in titles:
                node = {**node, "$ref": REF + titles[ref[len(REF) :]]}
            return {k: rename(v) for k, v in node.items()}
        return [rename(v) for v in node] if isinstance(node, list) else node

    return {titles.get(name, name): rename(schema) for name, schema in schemas.items()}


def _refine(schemas: dict[str, Any]) -> dict[str, Any]:
    """What the models cannot say: one order-status enum, error codes and extras, formats."""
    schemas["OrderStatus"] = dict(ORDER_STATUS_SCHEMA)
    for name in ("Order", "OrderStatusInput"):
        if name in schemas:
            schemas[name]["properties"]["status"] = _ref("OrderStatus")
    body = schemas["ErrorBody"]["properties"]
    body["code"] = {"type": "string", "enum": list(ERROR_CODES)}
    body["details"] = {
        "type": "array",
        "description": "422: one entry per invalid field",
        "items": {
            "type": "object",
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            "required": ["field", "message"],
        },
    }
    body["productIds"] = {
        "type": "array",
        "description": "409 INSUFFICIENT_STOCK / CURRENCY_MISMATCH / CART_CHANGED: the products concerned",
        "items": {"type": "string"},
    }
    body["available"] = {
        "type": "object",
        "description": "409 INSUFFICIENT_STOCK: how many of each product concerned are left",
        "additionalProperties": {"type": "integer", "minimum": 0},
    }
    body["requestId"] = {"type": "string", "description": "500: the request id to quote"}
    for (model, field), fmt in FORMATS.items():
        if model in schemas:
            _set_format(schemas[model]["properties"][field], fmt)
    return schemas


def _set_format(prop: dict[str, Any], fmt: str) -> None:
    for branch in prop.get("anyOf", [prop]):
        if branch.get("type") == "string":
            branch["format"] = fmt


REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF + name}


def _parameters(route: routes.Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": api.path_param_max(p)},
        }
        for p in route.path_params
    ]
    for q in route.query_params:
        required = q in route.required_query
        params.append({"name": q, "in": "query", "required": required, "schema": QUERY_SCHEMAS[q]})
    for h in route.headers:
        params.append(
            {"name": h.name, "in": "header", "required": h.required, "description": h.description, "schema": h.schema}
        )
    return params


def _content(route: routes.Route, model: type[BaseModel] | None) -> dict[str, Any]:
    if route.media_type != JSON:
        return {route.media_type: {"schema": {"type": "string", "description": route.body_description}}}
    return {JSON: {"schema": _ref(schema_name(model)) if model else {"type": "object"}}}


def _successes(route: routes.Route) -> dict[str, Any]:
    if route.success_status == 204:
        return {"204": {"description": "Done; no body"}}
    content = _content(route, route.response_model)
    responses: dict[str, Any] = {str(route.success_status): {"description": "OK", "content": content}}
    for answer in route.answers:
        other = content if answer.model is None else _content(route, answer.model)
        responses[str(answer.status)] = {"description": answer.description, "content": other}
    return responses


def operation(route: routes.Route) -> dict[str, Any]:
    responses = _successes(route)
    error_content = {"application/json": {"schema": _ref("Error")}}
    for code, text in error_statuses(route).items():
        responses[code] = {"description": text, "content": error_content}
        if code in RESPONSE_HEADERS:
            responses[code]["headers"] = RESPONSE_HEADERS[code]
    responses["default"] = {"description": "Any other error (e.g. from a gateway)", "content": error_content}
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        **({"description": AUTH_DESCRIPTIONS[route.auth]} if route.auth in AUTH_DESCRIPTIONS else {}),
        "tags": [route.service],
        "parameters": _parameters(route),
        "responses": responses,
        "security": [] if route.auth == routes.PUBLIC else [{"bearerAuth": []}],
        "x-shop-auth": route.auth,
    }
    if route.request_model:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(schema_name(route.request_model))}}}
    return op


def build(server_url: str = "/") -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in routes.ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shop API",
            "version": "1.0.0",
            "description": "Serverless shop API. Send the access token as `Authorization: Bearer <token>`. "
            'Errors are `{"error": {"code", "message"}}`; money is integer minor units.',
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


# ---------------------------------------------------------------------------
# Swagger 2.0 for GCP API Gateway
# ---------------------------------------------------------------------------

FIREBASE_JWKS = "https://www.googleapis.com/service_accounts/v1/metadata/x509/securetoken@system.gserviceaccount.com"


def openapi2(
    backend_urls_by_service: dict[str, str],
    issuer: str,
    audience: str,
    *,
    jwks_uri: str = FIREBASE_JWKS,
    title: str = "shop-api",
    deadline_seconds: float = 30.0,
    route_table: tuple[routes.Route, ...] | None = None,
) -> dict[str, Any]:
    """A Swagger 2.0 document for GCP API Gateway.

    Every operation goes to its service's backend (Cloud Run / Cloud Functions URL) with
    the request path appended, so the handlers see the same /api/... paths as on every
    cloud. Customer and admin operations require a JWT from `issuer` for `audience`
    (Identity Platform: issuer https://securetoken.google.com/<project>, audience the
    project id); the admin group is still checked by the handler. Request bodies are
    described loosely (type object): the gateway does not validate them and the
    handler does, against the exact models of the 3.1 document.
    """
    table = routes.ROUTES if route_table is None else route_table
    missing = sorted({r.service for r in table} - set(backend_urls_by_service))
    if missing:
        raise ValueError(f"no backend URL for service(s): {', '.join(missing)}")
    paths: dict[str, Any] = {}
    for route in table:
        backend = backend_urls_by_service[route.service].rstrip("/")
        paths.setdefault(route.path, {})[route.method.lower()] = _operation2(route, backend, deadline_seconds)
    return {
        "swagger": "2.0",
        "info": {"title": title, "version": "1.0.0"},
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "securityDefinitions": {
            "jwt": {
                "type": "oauth2",
                "flow": "implicit",
                "authorizationUrl": issuer,  # unused by the gateway; the 2.0 schema wants a URI
                "x-google-issuer": issuer,
                "x-google-jwks_uri": jwks_uri,
                "x-google-audiences": audience,
            }
        },
    }


def _operation2(route: routes.Route, backend: str, deadline_seconds: float) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.service],
        "x-google-backend": {
            "address": backend,
            "path_translation": "APPEND_PATH_TO_ADDRESS",
            "deadline": deadline_seconds,
        },
        "parameters": [_parameter2(p) for p in _parameters(route)],
        "responses": {str(route.success_status): {"description": "OK"}}
        | {code: {"description": text} for code, text in error_statuses(route).items()},
    }
    if route.request_model:
        op["parameters"].append({"name": "body", "in": "body", "required": True, "schema": {"type": "object"}})
    if route.auth != routes.PUBLIC:
        op["security"] = [{"jwt": []}]
    return op


def _parameter2(param: dict[str, Any]) -> dict[str, Any]:
    """A 3.x parameter in 2.0 form: the schema's keywords move onto the parameter."""
    out = {k: v for k, v in param.items() if k not in ("schema", "description")}
    schema = copy.deepcopy(param["schema"])
    if schema.get("$ref") == "#/components/schemas/OrderStatus":  # 2.0 parameters cannot refer to schemas
        schema = copy.deepcopy(ORDER_STATUS_SCHEMA)
    schema.pop("description", None)
    out.update(schema)
    return out
