"""Auth: Microsoft Entra External ID.

ARM cannot create a customer tenant, so the tenant is created once by hand and referenced
from ``shop:azure`` (tenantId, tenantSubdomain). Inside it, the program either

- creates the app registrations with pulumi-azuread (``shop:azure.clientId`` unset): the API
  app (scope ``shop.access``, app role ``admin``, v2 tokens), the storefront public client
  (ROPC and SPA sign-in, consented to the API scope), the backend app (Graph
  User.ReadWrite.All, admin-consented) and the admin role assignments of
  ``shop:azure.adminObjectIds``; the SPA redirect URIs follow the site URL once the CDN
  exists (``register_site_redirects``); or
- references registrations made by hand (``clientId`` set, docs/deploy-azure.md).

Either way it yields the issuer, audience, OpenID configuration and JWKS URLs API
Management's validate-jwt and the functions use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
import pulumi_azuread as azuread

from components import specs
from providers.azure.env import AzureEnv

API_SCOPE = "shop.access"
# Microsoft Graph's application id and the permission ids it publishes (the same in every tenant).
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_USER_READWRITE_ALL = "741f803b-c850-494e-b5df-cde7c675a1ca"  # application permission
# Application permission: the admin re-check reads whether an admin has a second factor registered.
GRAPH_AUTH_METHODS_READ_ALL = "38d9df27-64da-44fd-b7c5-a6fbac20248f"  # UserAuthenticationMethod.Read.All
GRAPH_OPENID = "37f7f235-527c-4136-accd-4a02d197296e"  # delegated
GRAPH_OFFLINE_ACCESS = "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"  # delegated
# Permission and role ids only need to be unique inside their app; deriving them from the
# stack keeps them stable across `pulumi up` without a random provider.
_ID_NAMESPACE = uuid.UUID("4d1f3c1e-7b0a-4f53-9a55-8f6a1f1c2b7e")


def stable_id(prefix: str, what: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{prefix}/{what}"))


@dataclass(frozen=True)
class EntraApps:
    """The registrations the program created (None when they are referenced)."""

    provider: azuread.Provider
    api: azuread.Application
    storefront: azuread.Application
    backend: azuread.Application
    scope_id: str
    admin_role_id: str


@dataclass(frozen=True)
class AzureAuth:
    tenant_id: str
    authority: str
    tenant_domain: str
    issuer: str
    audience: pulumi.Input[str]
    scope: pulumi.Input[str]
    openid_configuration_url: str
    jwks_url: str
    backend_client_id: pulumi.Input[str] | None
    admin_role: str
    client_id: pulumi.Input[str]
    apps: EntraApps | None = None

    @property
    def result(self) -> specs.AuthResult:
        return specs.AuthResult(
            user_pool_id=pulumi.Output.from_input(self.tenant_id),
            client_id=pulumi.Output.from_input(self.client_id),
            issuer_url=pulumi.Output.from_input(self.issuer),
        )


def create_auth(env: AzureEnv, args: specs.AuthArgs, parent: pulumi.Resource) -> AzureAuth:
    s = env.settings
    if s.client_id is None:
        apps = create_apps(env, args.admin_group, parent)
        client_id: pulumi.Input[str] = apps.storefront.client_id
        audience: pulumi.Input[str] = apps.api.client_id
        scope: pulumi.Input[str] = pulumi.Output.concat("api://", apps.api.client_id, "/", API_SCOPE)
        backend: pulumi.Input[str] | None = apps.backend.client_id
    else:
        apps, client_id, audience, scope, backend = None, s.client_id, s.jwt_audience, s.scope, s.backend_client_id
    return AzureAuth(
        tenant_id=s.tenant_id,
        authority=s.authority,
        tenant_domain=s.tenant_domain,
        issuer=s.issuer,
        audience=audience,
        scope=scope,
        openid_configuration_url=s.openid_configuration_url,
        jwks_url=s.jwks_url,
        backend_client_id=backend,
        admin_role=args.admin_group,  # an app role of the API app; access tokens carry it in `roles`
        client_id=client_id,
        apps=apps,
    )


def _app_tags(env: AzureEnv) -> list[str]:
    # Entra application tags are plain strings.
    return [f"{k}:{v}" for k, v in sorted(env.tags.items())]


def create_apps(env: AzureEnv, admin_role: str, parent: pulumi.Resource) -> EntraApps:
    prefix = env.context.name_prefix
    # The registrations live in the external tenant, not in the subscription's tenant.
    provider = azuread.Provider("entra", tenant_id=env.settings.tenant_id, opts=pulumi.ResourceOptions(parent=parent))
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    scope_id, role_id = stable_id(prefix, API_SCOPE), stable_id(prefix, f"role/{admin_role}")
    tags = _app_tags(env)
    graph = azuread.get_service_principal_output(
        client_id=GRAPH_APP_ID, opts=pulumi.InvokeOutputOptions(provider=provider)
    )
    api, api_sp = _api_app(prefix, scope_id, role_id, admin_role, tags, opts)
    storefront = _storefront_app(prefix, api, api_sp, graph, scope_id, tags, opts)
    backend = _backend_app(prefix, graph, tags, opts)
    for i, object_id in enumerate(env.settings.admin_object_ids):
        azuread.AppRoleAssignment(
            f"entra-admin-{i}",
            app_role_id=role_id,
            principal_object_id=object_id,
            resource_object_id=api_sp.object_id,
            opts=opts,
        )
    return EntraApps(provider, api, storefront, backend, scope_id, role_id)


def _api_app(
    prefix: str, scope_id: str, role_id: str, admin_role: str, tags: list[str], opts: pulumi.ResourceOptions
) -> tuple[azuread.Application, azuread.ServicePrincipal]:
    api = azuread.Application(
        "entra-api",
        display_name=f"{prefix} API",
        sign_in_audience="AzureADMyOrg",
        api=azuread.ApplicationApiArgs(
            requested_access_token_version=2,  # iss = https://<tenant>.ciamlogin.com/<tenant>/v2.0, aud = client id
            oauth2_permission_scopes=[
                azuread.ApplicationApiOauth2PermissionScopeArgs(
                    id=scope_id,
                    value=API_SCOPE,
                    type="User",
                    enabled=True,
                    admin_consent_display_name="Use the shop as the signed-in customer",
                    admin_consent_description="Lets the storefront call the shop API for the signed-in customer.",
                    user_consent_display_name="Use the shop",
                    user_consent_description="Lets the storefront call the shop API for you.",
                )
            ],
        ),
        app_roles=[
            azuread.ApplicationAppRoleArgs(
                id=role_id,
                value=admin_role,
                display_name="Shop administrator",
                description="Manages the catalog and all orders (the admin routes).",
                allowed_member_types=["User"],
                enabled=True,
            )
        ],
        tags=tags,
        # ApplicationIdentifierUri below owns the URI (it needs the client id first).
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["identifierUris"])),
    )
    azuread.ApplicationIdentifierUri(
        "entra-api-uri", application_id=api.id, identifier_uri=pulumi.Output.concat("api://", api.client_id), opts=opts
    )
    return api, azuread.ServicePrincipal("entra-api-sp", client_id=api.client_id, tags=tags, opts=opts)


def _storefront_app(
    prefix: str,
    api: azuread.Application,
    api_sp: azuread.ServicePrincipal,
    graph: pulumi.Output[azuread.GetServicePrincipalResult],
    scope_id: str,
    tags: list[str],
    opts: pulumi.ResourceOptions,
) -> azuread.Application:
    storefront = azuread.Application(
        "entra-storefront",
        display_name=f"{prefix} storefront",
        sign_in_audience="AzureADMyOrg",
        fallback_public_client_enabled=True,  # public client: the accounts service signs in with ROPC
        required_resource_accesses=[
            _access(api.client_id, (scope_id, "Scope")),
            _access(GRAPH_APP_ID, (GRAPH_OPENID, "Scope"), (GRAPH_OFFLINE_ACCESS, "Scope")),
        ],
        tags=tags,
        # register_site_redirects owns the SPA redirect URIs (the site URL exists after the CDN).
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["singlePageApplication"])),
    )
    storefront_sp = azuread.ServicePrincipal(
        "entra-storefront-sp", client_id=storefront.client_id, tags=tags, opts=opts
    )
    # ROPC cannot show a consent prompt: the tenant consents for every user, once.
    azuread.ServicePrincipalDelegatedPermissionGrant(
        "entra-storefront-api-consent",
        service_principal_object_id=storefront_sp.object_id,
        resource_service_principal_object_id=api_sp.object_id,
        claim_values=[API_SCOPE],
        opts=opts,
    )
    azuread.ServicePrincipalDelegatedPermissionGrant(
        "entra-storefront-graph-consent",
        service_principal_object_id=storefront_sp.object_id,
        resource_service_principal_object_id=graph.object_id,
        claim_values=["openid", "offline_access"],
        opts=opts,
    )
    return storefront


def _backend_app(
    prefix: str,
    graph: pulumi.Output[azuread.GetServicePrincipalResult],
    tags: list[str],
    opts: pulumi.ResourceOptions,
) -> azuread.Application:
    backend = azuread.Application(
        "entra-backend",
        display_name=f"{prefix} backend",
        sign_in_audience="AzureADMyOrg",
        required_resource_accesses=[
            _access(GRAPH_APP_ID, (GRAPH_USER_READWRITE_ALL, "Role"), (GRAPH_AUTH_METHODS_READ_ALL, "Role"))
        ],
        tags=tags,
        opts=opts,
    )
    backend_sp = azuread.ServicePrincipal("entra-backend-sp", client_id=backend.client_id, tags=tags, opts=opts)
    consents = {
        "entra-backend-graph-consent": GRAPH_USER_READWRITE_ALL,
        "entra-backend-graph-auth-methods": GRAPH_AUTH_METHODS_READ_ALL,
    }
    for name, permission in consents.items():
        azuread.AppRoleAssignment(
            name,
            app_role_id=permission,
            principal_object_id=backend_sp.object_id,
            resource_object_id=graph.object_id,
            opts=opts,
        )
    return backend


def _access(app_id: pulumi.Input[str], *accesses: tuple[str, str]) -> azuread.ApplicationRequiredResourceAccessArgs:
    """A required resource access: (permission id, "Scope" | "Role") pairs on one app."""
    return azuread.ApplicationRequiredResourceAccessArgs(
        resource_app_id=app_id,
        resource_accesses=[
            azuread.ApplicationRequiredResourceAccessResourceAccessArgs(id=i, type=t) for i, t in accesses
        ],
    )


def register_site_redirects(
    auth: AzureAuth, site_url: pulumi.Input[str], parent: pulumi.Resource
) -> azuread.ApplicationRedirectUris | None:
    """The storefront's SPA redirect URI is the site root; None when the apps are referenced."""
    if auth.apps is None:
        return None
    return azuread.ApplicationRedirectUris(
        "entra-storefront-spa",
        application_id=auth.apps.storefront.id,
        type="SPA",
        redirect_uris=[pulumi.Output.from_input(site_url).apply(lambda u: u.rstrip("/") + "/")],
        opts=pulumi.ResourceOptions(parent=parent, provider=auth.apps.provider),
    )
