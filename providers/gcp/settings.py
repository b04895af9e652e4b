"""The ``shop:gcp`` stack-config section, typed and validated.

A GCP stack deploys into one existing project (billing on); Identity Platform has one
configuration per project, so each shop stack gets its own project. Every problem is
reported with the ``pulumi config set --path`` that fixes it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")

# Regions where API Gateway runs gateways (https://cloud.google.com/api-gateway/docs/deployment-model).
API_GATEWAY_REGIONS = (
    "asia-east1", "asia-northeast1", "australia-southeast1", "europe-west1", "europe-west2",
    "us-central1", "us-east1", "us-east4", "us-west2", "us-west3", "us-west4",
)  # fmt: skip

EXAMPLES = {
    "project": "shop-dev-123456",
    "apiGatewayRegion": "europe-west1",
    "firestoreLocation": "europe-west1",
    "dnsManagedZone": "example-com",
    "connectorCidr": "10.8.0.0/28",
    "emailProvider": "sendgrid",
    "adaptiveProtection": "true",
    "enableApis": "true",
    "pushNotifications": "true",
}


class GcpSettings(BaseModel):
    """``shop:gcp``: the target project and a few GCP-only choices."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    project: str
    # API Gateway is offered in fewer regions than Cloud Functions; default: shop:region.
    api_gateway_region: str | None = Field(None, alias="apiGatewayRegion")
    # Firestore location: a region or a multi-region (nam5, eur3); always CMEK (database.py).
    firestore_location: str | None = Field(None, alias="firestoreLocation")
    # Cloud DNS managed zone holding shop:domainName: the stack adds the A record.
    dns_managed_zone: str | None = Field(None, alias="dnsManagedZone")
    # /28 range of the Serverless VPC Access connector's subnet (the VPC's only subnet).
    connector_cidr: str = Field("10.8.0.0/28", alias="connectorCidr")
    # Which mail relay the notifications function uses; its key lives in Secret Manager.
    email_provider: Literal["sendgrid", "smtp"] = Field("sendgrid", alias="emailProvider")
    # Cloud Armor Adaptive Protection (ML-based L7 DDoS detection); default: on in prod.
    adaptive_protection: bool | None = Field(None, alias="adaptiveProtection")
    # Order updates also as FCM pushes to topic user-<id> (the project must be a Firebase project).
    push_notifications: bool = Field(False, alias="pushNotifications")
    # Enable the Google APIs the stack uses (serviceusage); false when a platform team does it.
    enable_apis: bool = Field(True, alias="enableApis")

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        if not _PROJECT.match(value):
            raise ValueError("must be a project id: 6-30 lowercase letters, digits and hyphens, starting with a letter")
        return value

    @field_validator("api_gateway_region")
    @classmethod
    def _gateway_region(cls, value: str | None) -> str | None:
        if value is not None and value not in API_GATEWAY_REGIONS:
            raise ValueError(f"must be a region API Gateway runs in: {', '.join(API_GATEWAY_REGIONS)}")
        return value

    @field_validator("dns_managed_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value and not _ZONE_NAME.match(value):
            raise ValueError("must be a Cloud DNS managed zone name (not the DNS name), e.g. example-com")
        return value or None

    @field_validator("connector_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value)
        except ValueError:
            raise ValueError("must be an IPv4 /28 range like 10.8.0.0/28") from None
        if net.version != 4 or net.prefixlen != 28 or not net.is_private:
            raise ValueError("must be a private IPv4 /28 range like 10.8.0.0/28")
        return value

    def gateway_region(self, region: str) -> str:
        return self.api_gateway_region or region

    def adaptive_protection_for(self, is_prod: bool) -> bool:
        return is_prod if self.adaptive_protection is None else self.adaptive_protection


class GcpSettingsError(ValueError):
    pass


def parse_gcp_settings(values: Mapping[str, object]) -> GcpSettings:
    try:
        return GcpSettings.model_validate(dict(values))
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "gcp"
            field = GcpSettings.model_fields.get(key)
            alias = (field.alias if field else None) or key
            fix = f"`pulumi config set --path shop:gcp.{alias} {EXAMPLES.get(alias, '<value>')}`"
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "missing":
                lines.append(f"shop:gcp.{alias} is required (the project must exist, with billing): set {fix}")
            elif err["type"] == "extra_forbidden":
                lines.append(f"shop:gcp.{alias} is not a known setting (known: {', '.join(EXAMPLES)}): remove it")
            else:
                lines.append(f"shop:gcp.{alias} {msg[:1].lower() + msg[1:]} (got {err.get('input')!r}): set {fix}")
        raise GcpSettingsError("invalid shop:gcp configuration:\n  " + "\n  ".join(lines)) from None


def check_region(region: str) -> str:
    if not _REGION.match(region):
        raise GcpSettingsError(
            f"shop:region {region!r} is not a GCP region: set `pulumi config set shop:region europe-west1`"
        )
    return region
