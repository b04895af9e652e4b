"""Health and the OpenAPI document."""

from __future__ import annotations

import os

from . import datamodel
from .models import HealthResponse


def health(ctx):
    return HealthResponse(status="ok", cloud=os.environ.get(datamodel.ENV_CLOUD, "local"))


_document: dict | None = None


def openapi(ctx):
    global _document
    if _document is None:
        from .openapi import build

        _document = build()
    return _document
