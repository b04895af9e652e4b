"""The ``shop:azure`` stack-config section, typed and validated.

ARM cannot create an Entra External ID (or Azure AD B2C) tenant, so the stack references
one created beforehand (docs/deploy-azure.md). Every problem is reported with the
``pulumi config set --path`` that fixes it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{1,60}[a-z0-9]$")

EXAMPLES = {
    "tenantId": "00000000-0000-0000-0000-000000000000",
    "tenantSubdomain": "shopcustomers",
    "clientId": "11111111-1111-1111-1111-111111111111",
    "backendClientId": "22222222-2222-2222-2222-222222222222",
    "apiScope": "api://11111111-1111-1111-1111-111111111111/shop.access",
    "audience": "11111111-1111-1111-1111-111111111111",
    "frontDoorSku": "Premium_AzureFrontDoor",
    "wafMode": "Prevention",
    "dnsZoneId": "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/dnszones/example.com",
    "emailDomain": "AzureManaged",
    "dataLocation": "Europe",
    "publisherEmail": "platform@example.com",
    "sharedKeyUploads": "false",
    "deployerIpRanges": "203.0.113.7,198.51.100.0/24",
    "adminObjectIds": "33333333-3333-3333-3333-333333333333",
}


# Key Vault and Storage IP rules take public IPv4 only (VNet traffic uses the private endpoints).
_NOT_PUBLIC = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10")
)


class AzureSettings(BaseModel):
    """``shop:azure``: the external identity tenant and a few Azure-only choices."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    # Entra External ID tenant (https://<tenantSubdomain>.ciamlogin.com/<tenantId>)
    tenant_id: str = Field(alias="tenantId")
    tenant_subdomain: str = Field(alias="tenantSubdomain")
    # storefront app registration (public client); unset = the program creates the app
    # registrations (providers/azure/auth.py), set = registrations made by hand are referenced
    client_id: str | None = Field(None, alias="clientId")
    backend_client_id: str | None = Field(None, alias="backendClientId")  # Graph app (sign-up)
    api_scope: str | None = Field(None, alias="apiScope")  # default api://<clientId>/shop.access
    audience: str | None = Field(None, alias="audience")  # JWT aud; default clientId
    front_door_sku: Literal["Standard_AzureFrontDoor", "Premium_AzureFrontDoor"] | None = Field(
        None, alias="frontDoorSku"
    )  # default: Premium in prod (managed WAF rule sets), Standard in dev
    waf_mode: Literal["Prevention", "Detection"] = Field("Prevention", alias="wafMode")
    dns_zone_id: str | None = Field(None, alias="dnsZoneId")  # Azure DNS zone of shop:domainName
    email_domain: str = Field("AzureManaged", alias="emailDomain")  # or a custom sender domain
    data_location: str = Field("Europe", alias="dataLocation")  # Communication Services data location
    publisher_email: str | None = Field(None, alias="publisherEmail")  # API Management publisher contact
    # pulumi-azure-native's Blob resource uploads with the account key (ListKeys; upstream
    # pulumi/pulumi-azure-native#2015), so Pulumi can upload the site and the function package
    # only while shared keys are allowed on those two accounts. false = key-less accounts and
    # no uploads by Pulumi: upload with `az ... --auth-mode login` (docs/deploy-azure.md).
    shared_key_uploads: bool = Field(True, alias="sharedKeyUploads")
    # Prod's Key Vault and functions' storage deny by default: the public addresses (CIDR)
    # `pulumi up` and the operator's `az` commands come from are let through.
    deployer_ip_ranges: tuple[str, ...] = Field((), alias="deployerIpRanges")

    @field_validator("deployer_ip_ranges", mode="before")
    @classmethod
    def _ranges(cls, value: str | Iterable[object] | None) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value or ())
        out = []
        for r in (str(i).strip() for i in items):
            net = ipaddress.ip_network(r, strict=False)
            if not isinstance(net, ipaddress.IPv4Network) or any(net.subnet_of(n) for n in _NOT_PUBLIC):
                raise ValueError(f"{r} is not a public IPv4 address or range (Key Vault and Storage IP rules)")
            out.append(str(net) if net.prefixlen < 32 else str(net.network_address))
        return tuple(out)

    # Users (object ids in the external tenant) given the API's `admin` app role by the program.
    admin_object_ids: tuple[str, ...] = Field((), alias="adminObjectIds")

    @field_validator("tenant_id", "client_id", "backend_client_id", "audience")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.match(value):
            raise ValueError("must be a GUID like 00000000-0000-0000-0000-000000000000")
        return value

    @field_validator("admin_object_ids")
    @classmethod
    def _guids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not _GUID.match(item):
                raise ValueError(f"must be user object ids (GUIDs); {item!r} is not one")
        return value

    @model_validator(mode="after")
    def _references_need_client(self) -> AzureSettings:
        # Hand-made registrations are all referenced, or none: mixing would point the API at
        # an audience the created storefront cannot get tokens for.
        if self.client_id is None:
            stray = [a for a, v in (("backendClientId", self.backend_client_id), ("apiScope", self.api_scope),
                                    ("audience", self.audience)) if v]  # fmt: skip
            if stray:
                raise ValueError(
                    f"{', '.join(stray)} reference hand-made app registrations: set clientId too, "
                    "or remove them to let the program create the registrations"
                )
        elif self.admin_object_ids:
            raise ValueError(
                "adminObjectIds assigns the admin role of the app registrations the program creates: "
                "with clientId set, assign it in the tenant (docs/deploy-azure.md step 6) and remove adminObjectIds"
            )
        return self

    @field_validator("tenant_subdomain")
    @classmethod
    def _subdomain(cls, value: str) -> str:
        value = value.lower().removesuffix(".onmicrosoft.com").removesuffix(".ciamlogin.com")
        if not _SUBDOMAIN.match(value):
            raise ValueError(
                "must be the tenant's initial domain label, e.g. shopcustomers (of shopcustomers.onmicrosoft.com)"
            )
        return value

    @field_validator("dns_zone_id")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value and "/providers/microsoft.network/dnszones/" not in value.lower():
            raise ValueError("must be an Azure DNS zone resource id (.../providers/Microsoft.Network/dnszones/<zone>)")
        return value or None

    # -- derived ----------------------------------------------------------------------------
    @property
    def authority(self) -> str:
        return f"https://{self.tenant_subdomain}.ciamlogin.com/{self.tenant_id}"

    @property
    def tenant_domain(self) -> str:
        return f"{self.tenant_subdomain}.onmicrosoft.com"

    @property
    def issuer(self) -> str:
        """The ``iss`` of External ID v2.0 access tokens."""
        return f"https://{self.tenant_id}.ciamlogin.com/{self.tenant_id}/v2.0"

    @property
    def openid_configuration_url(self) -> str:
        return f"{self.authority}/v2.0/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.authority}/discovery/v2.0/keys"

    @property
    def scope(self) -> str:
        return self.api_scope or f"api://{self.client_id}/shop.access"

    @property
    def jwt_audience(self) -> str:
        """The audience of referenced app registrations: shop:azure.audience, else the client id."""
        audience = self.audience or self.client_id
        if audience is None:
            raise ValueError("shop:azure.clientId (or audience) is needed when the app registrations are referenced")
        return audience

    def sku_for(self, is_prod: bool) -> str:
        return self.front_door_sku or ("Premium_AzureFrontDoor" if is_prod else "Standard_AzureFrontDoor")


class AzureSettingsError(ValueError):
    pass


def parse_azure_settings(values: Mapping[str, object]) -> AzureSettings:
    try:
        return AzureSettings.model_validate(dict(values))
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            if not err["loc"]:  # a rule across several settings
                lines.append("shop:azure: " + str(err["msg"]).removeprefix("Value error, "))
                continue
            key = str(err["loc"][0])
            field = AzureSettings.model_fields.get(key)
            alias = (field.alias if field else None) or key
            path = f"{alias}[0]" if alias == "adminObjectIds" else alias
            fix = f"`pulumi config set --path shop:azure.{path} {EXAMPLES.get(alias, '<value>')}`"
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "missing":
                lines.append(f"shop:azure.{alias} is required (the External ID tenant must exist first): set {fix}")
            elif err["type"] == "extra_forbidden":
                lines.append(f"shop:azure.{alias} is not a known setting (known: {', '.join(EXAMPLES)}): remove it")
            else:
                lines.append(f"shop:azure.{alias} {msg[:1].lower() + msg[1:]} (got {err.get('input')!r}): set {fix}")
        raise AzureSettingsError("invalid shop:azure configuration:\n  " + "\n  ".join(lines)) from None
