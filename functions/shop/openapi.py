"""OpenAPI 3.1 document generated from the route table and the API models.

Used by GET /api/openapi.json, API fuzzing, and the Azure/GCP gateways.
"""

from __future__ import annotations

from typing import Any

from . import models, routes

ERROR_STATUSES = {
    "400": "Malformed request", "401": "Missing or invalid token", "403": "Not allowed",
    "404": "Not found", "409": "Conflict", "413": "Body too large", "422": "Invalid body",
    "503": "Temporarily unavailable; retry",
}


def _schemas() -> dict[str, Any]:
    names = {r.request_model for r in routes.ROUTES} | {r.response_model for r in routes.ROUTES} | {"Error"}
    schemas: dict[str, Any] = {}
    for name in sorted(n for n in names if n):
        schema = getattr(models, name).model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def operation(route: routes.Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 128}}
        for p in route.path_params
    ]
    for q in route.query_params:
        schema: dict[str, Any] = {"type": "string", "maxLength": 512}
        if q == "limit":
            schema = {"type": "integer", "minimum": 1, "maximum": 100}
        if q == "status":
            schema = {"type": "string", "enum": ["PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]}
        params.append({"name": q, "in": "query", "required": q == "status", "schema": schema})
    if route.operation_id == "placeOrder":
        params.append({"name": "Idempotency-Key", "in": "header", "required": True,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[\\x20-\\x7e]+$"}})
    success: dict[str, Any] = {"description": "OK"}
    if route.response_model:
        success["content"] = {"application/json": {"schema": _ref(route.response_model)}}
    else:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses: dict[str, Any] = {str(route.success_status): success}
    if route.operation_id == "placeOrder":
        responses["200"] = {"description": "Replay of an order placed with the same key", "content": success["content"]}
    for code, text in ERROR_STATUSES.items():
        responses[code] = {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
    op: dict[str, Any] = {
        "operationId": route.operation_id, "summary": route.summary, "tags": [route.service],
        "parameters": params, "responses": responses,
        "security": [] if route.auth == routes.PUBLIC else [{"bearerAuth": []}],
        "x-shop-auth": route.auth,
    }
    if route.request_model:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(route.request_model)}}}
    return op


def build(server_url: str = "/") -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in routes.ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shop API", "version": "1.0.0",
                 "description": "Serverless shop API. Send the access token as `Authorization: Bearer <token>`."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
