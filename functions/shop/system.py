"""Health and the OpenAPI document."""

from __future__ import annotations

import os

from . import datamodel
from .models import HealthResponse
from .routes import PUBLIC, route


@route(
    "GET",
    "/api/health",
    "health",
    PUBLIC,
    "catalog",
    "Liveness",
    response=HealthResponse,
)
def health(ctx):
    return HealthResponse(status="ok", cloud=os.environ.get(datamodel.ENV_CLOUD, "local"))


_document: dict | None = None


@route(
    "GET",
    "/api/openapi.json",
    "openapi",
    PUBLIC,
    "catalog",
    "This API's OpenAPI document",
)
def openapi(ctx):
    global _document
    if _document is None:
        from .openapi import build

        _document = build()
    return _document
