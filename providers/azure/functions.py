"""Functions: one Flex Consumption Function App (Python 3.12) per datamodel.SERVICES entry,
each on its own FC1 plan, with its own user-assigned managed identity, VNet integration on its
own delegated subnet, HTTPS only, TLS 1.2, FTP off, and the same package (one blob per app in
its own deployment container of a shared, key-less storage account).

Each identity gets exactly its service's grants (``grant_plan``), every one on exactly the
resource the grant names:
  table read         Cosmos DB Built-in Data Reader       on the container (dbs/shop/colls/shop)
  table read,write   Cosmos DB Built-in Data Contributor  on the container
  topic publish      Azure Service Bus Data Sender         on the topic
  queue consume      Azure Service Bus Data Receiver       on the subscription
  email send         shop email sender (custom role)       on the Communication Services resource
                     + Key Vault Secrets User              on the Notification Hub send-key secret (push)
  identity *         Key Vault Secrets User                on the identity client-secret secret
  media write        Storage Blob Data Contributor         on $web, condition: path starts with media/
                     + Storage Blob Delegator              on the site account (user-delegation SAS)
plus the platform baseline every Function App needs (``PLATFORM_PLAN``): Storage Blob Data
Contributor on its own deployment container (packages live in their own account: no app can
write another app's code), Storage Blob Data Owner on the host-storage account (no packages
there), and Monitoring Metrics Publisher on Application Insights (local auth is off there too).
Cosmos DB's data roles cannot be narrowed below a container, so the per-item scoping AWS has
(dynamodb:LeadingKeys) has no equivalent here: a service that only reads gets the Reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from functions.shop import datamodel as dm
from providers.azure import roles
from providers.azure.env import AzureEnv
from providers.azure.packaging import PACKAGE_BLOB, package_archive
from providers.azure.private_endpoints import private_only, storage_network_rules
from providers.azure.static_site import secure_account

IDENTITY_SECRET = "identityClientSecret"
FLEX_MEMORY_SIZES = (512, 2048, 4096)


@dataclass
class FunctionsNative:
    apps: dict[str, Any]
    identities: dict[str, Any]
    plans: dict[str, Any]
    workspace: Any
    insights: Any
    package_account: Any
    assignments: dict[str, list[Any]] = field(default_factory=dict)  # service -> its role assignments
    email_role: Any = None
    host_account: Any = None  # AzureWebJobsStorage of every app (no packages in it)
    private_endpoints: dict[str, Any] = field(default_factory=dict)  # prod: private_endpoints.py


def flex_memory(memory_mb: int) -> int:
    return next((m for m in FLEX_MEMORY_SIZES if memory_mb <= m), FLEX_MEMORY_SIZES[-1])


# What every Function App needs whatever its grants: (label, role, target).
PLATFORM_PLAN: tuple[tuple[str, str, str], ...] = (
    # reads its package (and OneDeploy writes it) in its own deployment container only
    ("deploy", roles.STORAGE_BLOB_DATA_CONTRIBUTOR, "deploy-container"),
    # the Functions host's leases and keys (identity-based AzureWebJobsStorage needs Owner)
    ("host", roles.STORAGE_BLOB_DATA_OWNER, "host-account"),
    ("insights", roles.MONITORING_METRICS_PUBLISHER, "insights"),
)


def function_timeout(seconds: int) -> str:
    """host.json's functionTimeout is a hh:mm:ss time span."""
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def grant_plan(service: dm.ServiceSpec) -> list[tuple[str, str]]:
    """(role, target) pairs for a service's neutral grants; target names the exact resource."""
    plan: list[tuple[str, str]] = []
    if service.table_access:
        writes = service.table_access == "write"
        plan.append((roles.COSMOS_DATA_CONTRIBUTOR if writes else roles.COSMOS_DATA_READER, "container"))
    for grant in service.grants:
        if grant.resource == dm.TABLE:
            continue
        elif grant.resource == dm.TOPIC:
            plan.append((roles.SERVICE_BUS_DATA_SENDER, "topic"))
        elif grant.resource == dm.QUEUE:
            plan.append((roles.SERVICE_BUS_DATA_RECEIVER, "subscription"))
        elif grant.resource == dm.EMAIL:
            plan.append(("email-sender", "communication"))
            plan.append((roles.KEY_VAULT_SECRETS_USER, "hub-key-secret"))  # push through Notification Hubs
        elif grant.resource == dm.IDENTITY:
            plan.append((roles.KEY_VAULT_SECRETS_USER, "identity-secret"))
        elif grant.resource == dm.MEDIA:
            plan.append((roles.STORAGE_BLOB_DATA_CONTRIBUTOR, "media"))
            plan.append((roles.STORAGE_BLOB_DELEGATOR, "site-account"))
        else:  # pragma: no cover - datamodel.Grant validates resources
            raise ValueError(f"no Azure mapping for grant {grant}")
    return plan


def media_condition(prefix: str) -> str:
    """ABAC condition: blob writes only under the media prefix of $web."""
    return (
        "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'}) "
        "AND !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'})) "
        "OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] "
        f"StringStartsWith '{prefix}'))"
    )


def create_functions(env: AzureEnv, args: specs.FunctionsArgs, parent: pulumi.Resource) -> specs.FunctionsResult:
    import pulumi_azure_native.applicationinsights as applicationinsights
    import pulumi_azure_native.authorization as authorization
    import pulumi_azure_native.keyvault as keyvault
    import pulumi_azure_native.managedidentity as managedidentity
    import pulumi_azure_native.operationalinsights as operationalinsights
    import pulumi_azure_native.storage as storage
    import pulumi_azure_native.web as web

    opts = pulumi.ResourceOptions(parent=parent)
    t = args.targets
    db = t.database.native
    notes = t.notifications.native
    site = t.site.native
    kv = t.encryption.native
    auth = t.auth.native
    sub_id = env.client.subscription_id

    workspace = operationalinsights.Workspace(
        "logs",
        resource_group_name=env.rg_name,
        location=env.location,
        sku={"name": "PerGB2018"},
        retention_in_days=max(30, min(args.log_retention_days, 730)),
        tags=env.tags,
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
        tags=env.tags,
        opts=opts,
    )
    # Packages and host storage in separate accounts: each app may write only its own
    # deployment container, so no app can replace another's code; the host account holds
    # only the Functions host's leases and keys. Prod: both deny by default, the apps reach
    # them through private endpoints (private_endpoints.py).
    rules = storage_network_rules(env) if private_only(env) else None
    package_account = secure_account(env, "fnpkg", parent, encryption=t.encryption, network_rules=rules)
    host_account = secure_account(env, "fnhost", parent, encryption=t.encryption, network_rules=rules)
    # The Graph app's client secret: created empty here (never in Pulumi state), set by the
    # operator with `az keyvault secret set` (docs/deploy-azure.md); apps read it through a
    # Key Vault reference with their own identity.
    secret_name = f"{env.context.parameters_path.strip('/').replace('/', '-')}-{IDENTITY_SECRET}"
    identity_secret = keyvault.Secret(
        "identity-client-secret",
        resource_group_name=env.rg_name,
        vault_name=kv.vault.name,
        secret_name=secret_name,
        properties={"value": "set-me: az keyvault secret set", "content_type": "text/plain"},
        tags=env.tags,
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["properties.value"]),
    )
    needs_email = any(g.resource == dm.EMAIL for s in args.services for g in s.grants)
    email_role = None
    if needs_email:
        email_role = authorization.RoleDefinition(
            "role-email-sender",
            role_definition_id=env.guid("role", "email-sender"),
            role_name=f"{env.context.name_prefix} email sender",
            description="Send e-mail through one Communication Services resource (least privilege)",
            # Custom roles are definable down to a resource group (not a resource); the
            # assignment below is what limits it to the one Communication Services resource.
            scope=env.resource_group.id,
            assignable_scopes=[env.resource_group.id],
            permissions=[
                {
                    "actions": [
                        "Microsoft.Communication/CommunicationServices/Read",
                        "Microsoft.Communication/CommunicationServices/Write",
                        "Microsoft.Communication/EmailServices/write",
                    ],
                    "not_actions": [],
                }
            ],
            opts=opts,
        )

    targets = {
        "container": pulumi.Output.concat(db.account.id, "/dbs/", db.database_name, "/colls/", db.container_name),
        "topic": notes.topic.id,
        "subscription": notes.subscription.id,
        "communication": notes.communication.id,
        "identity-secret": identity_secret.id,
        "hub-key-secret": notes.hub_key_secret.id,
        "media": pulumi.Output.concat(site.account.id, "/blobServices/default/containers/", site.container),
        "site-account": site.account.id,
    }
    identity_settings = {
        dm.AzureEnv.IDENTITY_AUTHORITY: auth.authority,
        dm.AzureEnv.IDENTITY_TENANT_DOMAIN: auth.tenant_domain,
        dm.AzureEnv.IDENTITY_SCOPE: auth.scope,
        dm.TokenEnv.GATEWAY_VALIDATED_JWT: "false",  # the app is reachable without APIM: verify again
        dm.TokenEnv.JWKS_URL: auth.jwks_url,
        dm.TokenEnv.JWT_ISSUER: auth.issuer,
        dm.TokenEnv.JWT_AUDIENCE: auth.audience,
    }
    if auth.backend_client_id:
        identity_settings[dm.AzureEnv.IDENTITY_BACKEND_CLIENT_ID] = auth.backend_client_id
    common: dict[str, pulumi.Input[str]] = {
        **args.environment,
        dm.AzureEnv.COSMOS_ENDPOINT: db.endpoint,
        dm.AzureEnv.COSMOS_DATABASE: db.database_name,
        dm.AzureEnv.SERVICEBUS_NAMESPACE: notes.namespace_host,
        dm.AzureEnv.EMAIL_ENDPOINT: notes.email_endpoint,
        dm.AzureEnv.STORAGE_ACCOUNT: site.account.name,
        **identity_settings,
        "AzureWebJobsStorage__accountName": host_account.name,
        "AzureWebJobsStorage__credential": "managedidentity",
    }
    archive = package_archive(args.code) if env.settings.shared_key_uploads else None
    apps: dict[str, Any] = {}
    identities: dict[str, Any] = {}
    plans: dict[str, Any] = {}
    assignments: dict[str, list[Any]] = {}
    results: dict[str, specs.FunctionResult] = {}
    for service in args.services:
        name = service.name
        identity = managedidentity.UserAssignedIdentity(
            f"id-{name}", resource_group_name=env.rg_name, location=env.location, tags=env.tags, opts=opts
        )
        container = storage.BlobContainer(
            f"deploy-{name}",
            resource_group_name=env.rg_name,
            account_name=package_account.name,
            public_access="None",
            opts=opts,
        )
        blob = None
        if env.settings.shared_key_uploads:
            blob = storage.Blob(
                f"package-{name}",
                resource_group_name=env.rg_name,
                account_name=package_account.name,
                container_name=container.name,
                blob_name=PACKAGE_BLOB,
                type="Block",
                source=archive,
                content_type="application/zip",
                opts=opts,
            )
        given: list[Any] = []

        def grant(
            label: str, scope: pulumi.Input[str], role: Any, condition: str | None = None,
            given: list[Any] = given, name: str = name, identity: Any = identity,
        ) -> None:  # fmt: skip
            given.append(
                roles.assign(
                    f"ra-{name}-{label}",
                    scope=scope,
                    role=role,
                    principal_id=identity.principal_id,
                    subscription_id=sub_id,
                    parent=parent,
                    condition=condition,
                )
            )

        for role, target in grant_plan(service):
            if role in (roles.COSMOS_DATA_READER, roles.COSMOS_DATA_CONTRIBUTOR):
                import pulumi_azure_native.cosmosdb as cosmosdb

                given.append(
                    cosmosdb.SqlResourceSqlRoleAssignment(
                        f"ra-{name}-cosmos",
                        resource_group_name=env.rg_name,
                        role_assignment_id=env.guid("cosmos", name),
                        account_name=db.account.name,
                        role_definition_id=pulumi.Output.concat(db.account.id, "/sqlRoleDefinitions/", role),
                        principal_id=identity.principal_id,
                        scope=targets[target],
                        opts=opts,
                    )
                )
            elif target == "communication":
                grant("email", targets[target], email_role.id)
            elif target == "media":
                grant("media", targets[target], role, media_condition(args.targets.media_prefix))
            else:
                grant(target, targets[target], role)
        for label, role, target in PLATFORM_PLAN:
            grant(label, {"deploy-container": container.id, "host-account": host_account.id,
                          "insights": insights.id}[target], role)  # fmt: skip
        assignments[name] = given

        plan = web.AppServicePlan(
            f"plan-{name}",
            resource_group_name=env.rg_name,
            location=env.location,
            kind="functionapp",
            reserved=True,  # Linux
            sku={"name": "FC1", "tier": "FlexConsumption"},
            tags=env.tags,
            opts=opts,
        )
        settings: dict[str, pulumi.Input[str]] = {
            **common,
            dm.AzureEnv.TRIGGERS: "notifications" if service.trigger == "queue" else "http",
            # shop:functionTimeoutSeconds, as host.json's functionTimeout (app settings override host.json).
            "AzureFunctionsJobHost__functionTimeout": function_timeout(args.timeout_seconds),
            "AZURE_CLIENT_ID": identity.client_id,
            "AzureWebJobsStorage__clientId": identity.client_id,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": insights.connection_string,
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": identity.client_id.apply(
                lambda c: f"Authorization=AAD;ClientId={c}"
            ),
        }
        if service.trigger == "queue":
            settings[dm.AzureEnv.SUBSCRIPTION] = notes.subscription.name
            settings[dm.AzureEnv.SERVICEBUS_CONNECTION] = notes.namespace_host
            settings["SHOP_SERVICEBUS__credential"] = "managedidentity"
            settings["SHOP_SERVICEBUS__clientId"] = identity.client_id
        if any(g.resource == dm.EMAIL for g in service.grants):
            settings[dm.AzureEnv.NOTIFICATION_HUB] = notes.hub_ref
            settings[dm.AzureEnv.NOTIFICATION_HUB_KEY] = pulumi.Output.concat(
                "@Microsoft.KeyVault(SecretUri=", notes.hub_key_secret_uri, ")"
            )
        if any(g.resource == dm.IDENTITY for g in service.grants):
            settings[dm.AzureEnv.IDENTITY_CLIENT_SECRET] = pulumi.Output.concat(
                "@Microsoft.KeyVault(SecretUri=", kv.vault_uri, "secrets/", secret_name, "/)"
            )
        container_url = pulumi.Output.concat(
            "https://", package_account.name, ".blob.core.windows.net/", container.name
        )
        app = web.WebApp(
            f"fn-{name}",
            resource_group_name=env.rg_name,
            location=env.location,
            kind="functionapp,linux",
            server_farm_id=plan.id,
            https_only=True,
            client_cert_enabled=False,
            public_network_access="Enabled",  # API Management Consumption has no VNet: it calls over HTTPS
            identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
            key_vault_reference_identity=identity.id,
            virtual_network_subnet_id=args.network.native.function_subnets[name].id,
            outbound_vnet_routing={"all_traffic": True},
            site_config={
                "min_tls_version": "1.2",
                "scm_min_tls_version": "1.2",
                "ftps_state": "Disabled",
                "http20_enabled": True,
                "app_settings": [{"name": k, "value": v} for k, v in sorted(settings.items(), key=lambda kv_: kv_[0])],
            },
            function_app_config={
                "deployment": {
                    "storage": {
                        "type": "blobContainer",
                        "value": container_url,
                        "authentication": {
                            "type": "UserAssignedIdentity",
                            "user_assigned_identity_resource_id": identity.id,
                        },
                    }
                },
                "runtime": {"name": "python", "version": args.code.python_version},
                "scale_and_concurrency": {
                    "instance_memory_mb": flex_memory(args.memory_mb),
                    "maximum_instance_count": args.reserved_concurrency or 100,
                },
            },
            tags={**env.tags, "service": name},
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[*([blob] if blob else []), *given]),
        )
        apps[name] = app
        identities[name] = identity
        plans[name] = plan
        results[name] = specs.FunctionResult(
            service=name,
            name=app.name,
            function_id=app.id,
            invoke_ref=app.default_host_name.apply(lambda h: f"https://{h}/api"),
            identity_ref=identity.id,
            trigger=service.trigger,
            native=app,
        )
    native = FunctionsNative(
        apps, identities, plans, workspace, insights, package_account, assignments, email_role, host_account
    )
    return specs.FunctionsResult(functions=results, native=native)
