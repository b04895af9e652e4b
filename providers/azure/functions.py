"""Functions: one Flex Consumption Function App (Python 3.12) per datamodel.SERVICES entry,
each on its own FC1 plan, with its own user-assigned managed identity (its roles: iam.py),
VNet integration on its own delegated subnet, HTTPS only, TLS 1.2, FTP off, and the same
package (one blob per app in its own deployment container of a shared, key-less storage
account). Telemetry goes to one Log Analytics workspace through Application Insights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.applicationinsights as applicationinsights
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.operationalinsights as operationalinsights
import pulumi_azure_native.storage as storage
import pulumi_azure_native.web as web

from components import specs
from functions.shop import datamodel as dm
from providers.azure import iam
from providers.azure.auth import AzureAuth
from providers.azure.configuration import secret_name, secret_uri, vault_secret
from providers.azure.database import AzureDatabase
from providers.azure.encryption import AzureEncryption
from providers.azure.env import AzureEnv
from providers.azure.network import AzureNetwork, private_only, storage_network_rules
from providers.azure.notifications import AzureNotifications
from providers.azure.packaging import PACKAGE_BLOB, package_archive
from providers.azure.static_site import AzureStaticSite, secure_account

IDENTITY_SECRET = "identityClientSecret"
# What each app registers (function_app.py's SHOP_AZURE_TRIGGERS), per datamodel trigger.
APP_TRIGGERS: Mapping[str, str] = {"http": "http", "queue": "notifications", "schedule": "expiry"}
FLEX_MEMORY_SIZES = (512, 2048, 4096)


@dataclass(frozen=True)
class Upstream:
    """The handles of the components the functions use (grant targets, settings, subnets)."""

    network: AzureNetwork
    encryption: AzureEncryption
    database: AzureDatabase
    notifications: AzureNotifications
    auth: AzureAuth
    site: AzureStaticSite


@dataclass(frozen=True)
class FunctionApp:
    service: str
    trigger: str
    app: web.WebApp
    identity: managedidentity.UserAssignedIdentity
    plan: web.AppServicePlan
    assignments: list[pulumi.CustomResource]  # its role assignments

    @property
    def result(self) -> specs.FunctionResult:
        return specs.FunctionResult(
            service=self.service,
            name=self.app.name,
            function_id=self.app.id,
            invoke_ref=self.app.default_host_name.apply(lambda h: f"https://{h}/api"),
            identity_ref=self.identity.id,
            trigger=self.trigger,
        )


@dataclass(frozen=True)
class AzureFunctions:
    apps: dict[str, FunctionApp]
    workspace: operationalinsights.Workspace
    insights: applicationinsights.Component
    package_account: storage.StorageAccount
    host_account: storage.StorageAccount  # AzureWebJobsStorage of every app (no packages in it)
    email_role: authorization.RoleDefinition | None
    payment_secrets: Mapping[str, keyvault.Secret]  # Stripe's keys; empty when the stack takes no cards

    @property
    def result(self) -> specs.FunctionsResult:
        return specs.FunctionsResult(functions={name: fn.result for name, fn in self.apps.items()})


@dataclass(frozen=True)
class _Shared:
    """What every app of the stack shares."""

    insights: applicationinsights.Component
    package_account: storage.StorageAccount
    host_account: storage.StorageAccount
    settings: Mapping[str, pulumi.Input[str]]  # app settings every app gets
    identity_secret_ref: pulumi.Output[str]  # Key Vault reference to the Graph app's client secret
    payment_refs: Mapping[str, pulumi.Output[str]]  # setting -> Key Vault reference to a Stripe secret
    scopes: iam.GrantScopes
    archive: pulumi.AssetArchive | None  # None: the operator deploys the package (key-less)


def flex_memory(memory_mb: int) -> int:
    return next((m for m in FLEX_MEMORY_SIZES if memory_mb <= m), FLEX_MEMORY_SIZES[-1])


def function_timeout(seconds: int) -> str:
    """host.json's functionTimeout is a hh:mm:ss time span."""
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def key_vault_reference(uri: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat("@Microsoft.KeyVault(SecretUri=", uri, ")")


def create_functions(env: AzureEnv, args: specs.FunctionsArgs, parent: pulumi.Resource, up: Upstream) -> AzureFunctions:
    opts = pulumi.ResourceOptions(parent=parent)
    workspace, insights = _observability(env, args, opts)
    # Packages and host storage in separate accounts: each app may write only its own
    # deployment container, so no app can replace another's code; the host account holds
    # only the Functions host's leases and keys. Prod: both deny by default, the apps reach
    # them through private endpoints (network.py).
    rules = storage_network_rules(env) if private_only(env) else None
    package_account = secure_account(env, "fnpkg", parent, encryption=up.encryption, network_rules=rules)
    host_account = secure_account(env, "fnhost", parent, encryption=up.encryption, network_rules=rules)
    # The Graph app's client secret: created empty here (never in Pulumi state), set by the
    # operator with `az keyvault secret set` (docs/deploy-azure.md); apps read it through a
    # Key Vault reference with their own identity.
    identity_secret_name = secret_name(env, IDENTITY_SECRET)
    identity_secret = vault_secret(
        env,
        "identity-client-secret",
        identity_secret_name,
        "set-me: az keyvault secret set",
        up.encryption,
        pulumi.ResourceOptions(parent=parent, ignore_changes=["properties.value"]),
    )
    payments = _payment_secrets(env, args, up.encryption, parent)
    needs_email = any(g.resource == dm.EMAIL for s in args.services for g in s.grants)
    email_role = iam.email_sender_role(env, parent) if needs_email else None
    targets: dict[str, pulumi.Input[str]] = {
        "container": up.database.container_scope,
        "topic": up.notifications.bus.topic.id,
        "subscription": up.notifications.bus.subscription.id,
        "communication": up.notifications.email.communication.id,
        "identity-secret": identity_secret.id,
        "hub-key-secret": up.notifications.push.key_secret.id,
        "media": pulumi.Output.concat(
            up.site.uploads.account.id, "/blobServices/default/containers/", up.site.uploads.container
        ),
        "uploads-account": up.site.uploads.account.id,
        "host-account": host_account.id,
        "insights": insights.id,
        **{iam.PAYMENT_TARGETS[name]: secret.id for name, secret in payments.items()},
    }
    shared = _Shared(
        insights=insights,
        package_account=package_account,
        host_account=host_account,
        settings=_common_settings(args, up, host_account),
        identity_secret_ref=key_vault_reference(secret_uri(up.encryption, identity_secret_name)),
        # Versioned: a new key changes the setting, so `pulumi up` restarts the app on it (a
        # versionless reference is refreshed only within a day).
        payment_refs={
            dm.PaymentSettingNames.BY_SECRET[name]: key_vault_reference(
                # the URI names the secret, never its value
                pulumi.Output.unsecret(secret.properties.apply(lambda p: p.secret_uri_with_version))
            )
            for name, secret in payments.items()
        },
        scopes=iam.GrantScopes(targets, up.database.account, email_role, args.targets.media_prefix),
        archive=package_archive(args.code) if env.settings.shared_key_uploads else None,
    )
    apps = {s.name: _function_app(env, args, s, shared, up, parent) for s in args.services}
    return AzureFunctions(apps, workspace, insights, package_account, host_account, email_role, payments)


def _payment_secrets(
    env: AzureEnv, args: specs.FunctionsArgs, encryption: AzureEncryption, parent: pulumi.Resource
) -> dict[str, keyvault.Secret]:
    """Stripe's keys as Key Vault secrets (datamodel.PAYMENT_SECRETS name -> secret); none without Stripe.
    The functions granted payments read them through Key Vault references with their own identity."""
    if args.payments is None:
        return {}
    opts = pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["properties"])
    return {
        name: vault_secret(env, f"secret-{name}", secret_name(env, name), value, encryption, opts, enabled=True)
        for name, value in args.payments.values.items()
    }


def _observability(
    env: AzureEnv, args: specs.FunctionsArgs, opts: pulumi.ResourceOptions
) -> tuple[operationalinsights.Workspace, applicationinsights.Component]:
    workspace = operationalinsights.Workspace(
        "logs",
        resource_group_name=env.rg_name,
        location=env.location,
        sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
        retention_in_days=max(30, min(args.log_retention_days, 730)),
        opts=opts,
    )
    insights = applicationinsights.Component(
        "appinsights",
        resource_group_name=env.rg_name,
        location=env.location,
        kind="web",
        application_type="web",
        workspace_resource_id=workspace.id,
        ingestion_mode="LogAnalytics",
        disable_local_auth=True,
        opts=opts,
    )
    return workspace, insights


def _common_settings(
    args: specs.FunctionsArgs, up: Upstream, host_account: storage.StorageAccount
) -> dict[str, pulumi.Input[str]]:
    auth, db, notes = up.auth, up.database, up.notifications
    settings: dict[str, pulumi.Input[str]] = {
        **args.environment,
        dm.AzureSettingNames.COSMOS_ENDPOINT: db.endpoint,
        dm.AzureSettingNames.COSMOS_DATABASE: db.database_name,
        dm.AzureSettingNames.SERVICEBUS_NAMESPACE: notes.bus.namespace_host,
        dm.AzureSettingNames.EMAIL_ENDPOINT: notes.email.endpoint,
        dm.AzureSettingNames.STORAGE_ACCOUNT: up.site.uploads.account.name,
        dm.AzureSettingNames.IDENTITY_AUTHORITY: auth.authority,
        dm.AzureSettingNames.IDENTITY_TENANT_DOMAIN: auth.tenant_domain,
        dm.AzureSettingNames.IDENTITY_SCOPE: auth.scope,
        dm.TokenEnv.GATEWAY_VALIDATED_JWT: "false",  # the app is reachable without APIM: verify again
        dm.TokenEnv.JWKS_URL: auth.jwks_url,
        dm.TokenEnv.JWT_ISSUER: auth.issuer,
        dm.TokenEnv.JWT_AUDIENCE: auth.audience,
        "AzureWebJobsStorage__accountName": host_account.name,
        "AzureWebJobsStorage__credential": "managedidentity",
    }
    if auth.backend_client_id:
        settings[dm.AzureSettingNames.IDENTITY_BACKEND_CLIENT_ID] = auth.backend_client_id
    return settings


def _app_settings(
    args: specs.FunctionsArgs,
    service: dm.ServiceSpec,
    shared: _Shared,
    up: Upstream,
    identity: managedidentity.UserAssignedIdentity,
) -> dict[str, pulumi.Input[str]]:
    settings: dict[str, pulumi.Input[str]] = {
        **shared.settings,
        dm.AzureSettingNames.TRIGGERS: APP_TRIGGERS[service.trigger],
        # shop:functionTimeoutSeconds, as host.json's functionTimeout (app settings override host.json).
        "AzureFunctionsJobHost__functionTimeout": function_timeout(args.timeout_seconds),
        "AZURE_CLIENT_ID": identity.client_id,
        "AzureWebJobsStorage__clientId": identity.client_id,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": shared.insights.connection_string,
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": identity.client_id.apply(
            lambda c: f"Authorization=AAD;ClientId={c}"
        ),
    }
    notes = up.notifications
    if service.trigger == "schedule":
        settings[dm.AzureSettingNames.EXPIRY_SCHEDULE] = f"0 */{dm.EXPIRY_SCHEDULE_MINUTES} * * * *"
    if service.trigger == "queue":
        settings[dm.AzureSettingNames.SUBSCRIPTION] = notes.bus.subscription.name
        settings[dm.AzureSettingNames.SERVICEBUS_CONNECTION] = notes.bus.namespace_host
        settings["SHOP_SERVICEBUS__credential"] = "managedidentity"
        settings["SHOP_SERVICEBUS__clientId"] = identity.client_id
    if any(g.resource == dm.EMAIL for g in service.grants):
        settings[dm.AzureSettingNames.NOTIFICATION_HUB] = notes.push.hub_ref
        settings[dm.AzureSettingNames.NOTIFICATION_HUB_KEY] = key_vault_reference(notes.push.key_secret_uri)
    if any(g.resource == dm.IDENTITY for g in service.grants):
        settings[dm.AzureSettingNames.IDENTITY_CLIENT_SECRET] = shared.identity_secret_ref
    if any(g.resource == dm.PAYMENTS for g in service.grants):
        settings.update(shared.payment_refs)
    return settings


def _function_app(
    env: AzureEnv,
    args: specs.FunctionsArgs,
    service: dm.ServiceSpec,
    shared: _Shared,
    up: Upstream,
    parent: pulumi.Resource,
) -> FunctionApp:
    name = service.name
    opts = pulumi.ResourceOptions(parent=parent)
    identity = managedidentity.UserAssignedIdentity(
        f"id-{name}", resource_group_name=env.rg_name, location=env.location, opts=opts
    )
    container, blob = _deployment(env, name, shared, opts)
    scopes = iam.GrantScopes(
        {**shared.scopes.targets, "deploy-container": container.id},
        shared.scopes.cosmos_account,
        shared.scopes.email_role,
        shared.scopes.media_prefix,
    )
    given = iam.grant_service_roles(env, service, identity.principal_id, scopes, parent)
    plan = web.AppServicePlan(
        f"plan-{name}",
        resource_group_name=env.rg_name,
        location=env.location,
        kind="functionapp",
        reserved=True,  # Linux
        sku=web.SkuDescriptionArgs(name="FC1", tier="FlexConsumption"),
        opts=opts,
    )
    settings = _app_settings(args, service, shared, up, identity)
    app = web.WebApp(
        f"fn-{name}",
        resource_group_name=env.rg_name,
        location=env.location,
        kind="functionapp,linux",
        server_farm_id=plan.id,
        https_only=True,
        client_cert_enabled=False,
        public_network_access="Enabled",  # API Management Consumption has no VNet: it calls over HTTPS
        identity=web.ManagedServiceIdentityArgs(
            type=web.ManagedServiceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
        ),
        key_vault_reference_identity=identity.id,
        virtual_network_subnet_id=up.network.function_subnet_ids[name],
        outbound_vnet_routing=web.OutboundVnetRoutingArgs(all_traffic=True),
        # SiteConfigArgs would add its own defaults (.NET version, local MySQL): only these go.
        site_config=web.SiteConfigArgsDict(
            min_tls_version="1.2",
            scm_min_tls_version="1.2",
            ftps_state="Disabled",
            http20_enabled=True,
            app_settings=[web.NameValuePairArgsDict(name=k, value=v) for k, v in sorted(settings.items())],
        ),
        function_app_config=_flex_config(args, identity, shared.package_account, container),
        tags={"service": name},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*([blob] if blob else []), *given]),
    )
    return FunctionApp(name, service.trigger, app, identity, plan, given)


def _deployment(
    env: AzureEnv, name: str, shared: _Shared, opts: pulumi.ResourceOptions
) -> tuple[storage.BlobContainer, storage.Blob | None]:
    """The app's own deployment container, and its package blob when Pulumi uploads it."""
    container = storage.BlobContainer(
        f"deploy-{name}",
        resource_group_name=env.rg_name,
        account_name=shared.package_account.name,
        public_access=storage.PublicAccess.NONE,
        opts=opts,
    )
    if shared.archive is None:
        return container, None
    blob = storage.Blob(
        f"package-{name}",
        resource_group_name=env.rg_name,
        account_name=shared.package_account.name,
        container_name=container.name,
        blob_name=PACKAGE_BLOB,
        type=storage.BlobType.BLOCK,
        source=shared.archive,
        content_type="application/zip",
        opts=opts,
    )
    return container, blob


def _flex_config(
    args: specs.FunctionsArgs,
    identity: managedidentity.UserAssignedIdentity,
    account: storage.StorageAccount,
    container: storage.BlobContainer,
) -> web.FunctionAppConfigArgs:
    """Flex Consumption: the package in the app's deployment container, read with its identity."""
    container_url = pulumi.Output.concat("https://", account.name, ".blob.core.windows.net/", container.name)
    return web.FunctionAppConfigArgs(
        deployment=web.FunctionsDeploymentArgs(
            storage=web.FunctionsDeploymentStorageArgs(
                type="blobContainer",
                value=container_url,
                authentication=web.FunctionsDeploymentStorageAuthenticationArgs(
                    type="UserAssignedIdentity", user_assigned_identity_resource_id=identity.id
                ),
            )
        ),
        runtime=web.FunctionsRuntimeArgs(name="python", version=args.code.python_version),
        scale_and_concurrency=web.FunctionsScaleAndConcurrencyArgs(
            instance_memory_mb=flex_memory(args.memory_mb),
            maximum_instance_count=args.reserved_concurrency or 100,
        ),
    )
