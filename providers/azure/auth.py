"""Auth: Microsoft Entra External ID (or Azure AD B2C). ARM cannot create a customer tenant
nor its app registrations, so the tenant, the storefront app (public client) and the backend
Graph app are created once by hand (docs/deploy-azure.md) and referenced from ``shop:azure``.
This module creates no resource: it turns that reference into the issuer, audience, OpenID
configuration and JWKS URLs API Management's validate-jwt and the functions use.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import specs
from providers.azure.env import AzureEnv


@dataclass(frozen=True)
class AuthNative:
    tenant_id: str
    authority: str
    tenant_domain: str
    issuer: str
    audience: str
    scope: str
    openid_configuration_url: str
    jwks_url: str
    backend_client_id: str | None
    admin_role: str


def create_auth(env: AzureEnv, args: specs.AuthArgs, parent: pulumi.Resource) -> specs.AuthResult:
    s = env.settings
    native = AuthNative(
        tenant_id=s.tenant_id,
        authority=s.authority,
        tenant_domain=s.tenant_domain,
        issuer=s.issuer,
        audience=s.jwt_audience,
        scope=s.scope,
        openid_configuration_url=s.openid_configuration_url,
        jwks_url=s.jwks_url,
        backend_client_id=s.backend_client_id,
        admin_role=args.admin_group,  # an app role of the storefront app; tokens carry it in `roles`
    )
    return specs.AuthResult(
        user_pool_id=pulumi.Output.from_input(s.tenant_id),
        client_id=pulumi.Output.from_input(s.client_id),
        issuer_url=pulumi.Output.from_input(s.issuer),
        native=native,
    )
