"""Health and the OpenAPI document."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from . import datamodel
from .models import HealthResponse
from .routes import PUBLIC, route

if TYPE_CHECKING:
    from .api import Ctx

_document: dict[str, Any] | None = None


def health() -> HealthResponse:
    return HealthResponse(status="ok", cloud=os.environ.get(datamodel.ENV_CLOUD, "local"))


def document() -> dict[str, Any]:
    """The OpenAPI document, built once per container (it does not change while it runs)."""
    global _document
    if _document is None:
        from .openapi import build

        _document = build()
    return _document


# --- HTTP ---------------------------------------------------------------------------


@route("GET", "/api/health", "health", PUBLIC, "catalog", "Liveness", response=HealthResponse)
def http_health(ctx: Ctx) -> HealthResponse:
    return health()


@route("GET", "/api/openapi.json", "openapi", PUBLIC, "catalog", "This API's OpenAPI document")
def http_openapi(ctx: Ctx) -> dict[str, Any]:
    return document()
