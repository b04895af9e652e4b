"""Grants -> role assignments: each function identity gets exactly its service's datamodel
grants (``grant_plan``), every one on exactly the resource the grant names:
  table read         Cosmos DB Built-in Data Reader       on the container (dbs/shop/colls/shop)
  table read,write   Cosmos DB Built-in Data Contributor  on the container
  topic publish      Azure Service Bus Data Sender         on the topic
  queue consume      Azure Service Bus Data Receiver       on the subscription
  email send         shop email sender (custom role)       on the Communication Services resource
                     + Key Vault Secrets User              on the Notification Hub send-key secret (push)
  identity *         Key Vault Secrets User                on the identity client-secret secret
  payments read      Key Vault Secrets User                on each of Stripe's two secrets (nothing when
                                                           the stack takes no cards)
  media write        Storage Blob Data Contributor         on the uploads account's $web, condition:
                                                           path starts with media/ (never the site account)
                     + Storage Blob Delegator              on the uploads account (user-delegation SAS)
plus the platform baseline every Function App needs (``PLATFORM_PLAN``): Storage Blob Data
Contributor on its own deployment container (packages live in their own account: no app can
write another app's code), Storage Blob Data Owner on the host-storage account (no packages
there), and Monitoring Metrics Publisher on Application Insights (local auth is off there too).
Cosmos DB's data roles cannot be narrowed below a container, so the per-item scoping AWS has
(dynamodb:LeadingKeys) has no equivalent here: a service that only reads gets the Reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.cosmosdb as cosmosdb

from functions.shop import datamodel as dm
from providers.azure.env import AzureEnv

# Azure built-in roles (ids are the same in every tenant).
KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_BLOB_DELEGATOR = "db58b8e5-c6ad-4a2a-8342-4190687cbf4a"
SERVICE_BUS_DATA_SENDER = "69a216fc-b8fb-44d8-bc22-1f3c2552ae39"
SERVICE_BUS_DATA_RECEIVER = "4f6d3b08-988c-4c96-84cd-1d3c8d2b8a4d"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"

# Cosmos DB for NoSQL data-plane roles (account-relative ids, assigned with sqlRoleAssignments).
COSMOS_DATA_READER = "00000000-0000-0000-0000-000000000001"
COSMOS_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"
COSMOS_ROLES = (COSMOS_DATA_READER, COSMOS_DATA_CONTRIBUTOR)
# The plan's name for the custom role of the e-mail sender (made per stack: ``email_sender_role``).
EMAIL_SENDER = "email-sender"

ROLE_NAMES = {
    KEY_VAULT_ADMINISTRATOR: "Key Vault Administrator",
    KEY_VAULT_SECRETS_USER: "Key Vault Secrets User",
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER: "Key Vault Crypto Service Encryption User",
    STORAGE_BLOB_DATA_CONTRIBUTOR: "Storage Blob Data Contributor",
    STORAGE_BLOB_DATA_OWNER: "Storage Blob Data Owner",
    STORAGE_BLOB_DELEGATOR: "Storage Blob Delegator",
    SERVICE_BUS_DATA_SENDER: "Azure Service Bus Data Sender",
    SERVICE_BUS_DATA_RECEIVER: "Azure Service Bus Data Receiver",
    MONITORING_METRICS_PUBLISHER: "Monitoring Metrics Publisher",
}

# What every Function App needs whatever its grants: (label, role, target).
PLATFORM_PLAN: tuple[tuple[str, str, str], ...] = (
    # reads its package (and OneDeploy writes it) in its own deployment container only
    ("deploy", STORAGE_BLOB_DATA_CONTRIBUTOR, "deploy-container"),
    # the Functions host's leases and keys (identity-based AzureWebJobsStorage needs Owner)
    ("host", STORAGE_BLOB_DATA_OWNER, "host-account"),
    ("insights", MONITORING_METRICS_PUBLISHER, "insights"),
)


# The grant targets of Stripe's secrets (datamodel.PAYMENT_SECRETS name -> target); they exist
# only when the stack takes cards.
PAYMENT_TARGETS: Mapping[str, str] = {
    dm.STRIPE_SECRET_KEY: "stripe-secret-key",
    dm.STRIPE_WEBHOOK_SECRET: "stripe-webhook-secret",
}


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role
    )


def assign(
    name: str,
    *,
    scope: pulumi.Input[str],
    role: str | pulumi.Output[str],
    principal_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
    principal_type: str | None = "ServicePrincipal",
    condition: str | None = None,
    description: str | None = None,
) -> authorization.RoleAssignment:
    """One RBAC role assignment of `role` (built-in id, or a custom role's full definition id) on exactly `scope`."""
    builtin = isinstance(role, str) and "/" not in role
    definition = role_definition_id(subscription_id, role) if builtin and isinstance(role, str) else role
    return authorization.RoleAssignment(
        name,
        scope=scope,
        role_definition_id=definition,
        principal_id=principal_id,
        principal_type=principal_type,
        condition=condition,
        condition_version="2.0" if condition else None,
        description=description or (ROLE_NAMES.get(role, "custom role") if isinstance(role, str) else None),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def assign_to_deployer(
    env: AzureEnv, name: str, scope: pulumi.Input[str], role: str, parent: pulumi.Resource, description: str
) -> authorization.RoleAssignment:
    """A role of the principal running `pulumi up` (a user or a service principal: no principal type)."""
    return assign(
        name,
        scope=scope,
        role=role,
        principal_id=env.client.object_id,
        principal_type=None,
        subscription_id=env.subscription_id,
        parent=parent,
        description=description,
    )


def grant_plan(service: dm.ServiceSpec) -> list[tuple[str, str]]:
    """(role, target) pairs for a service's neutral grants; target names the exact resource."""
    plan: list[tuple[str, str]] = []
    if service.table_access:
        writes = service.table_access == "write"
        plan.append((COSMOS_DATA_CONTRIBUTOR if writes else COSMOS_DATA_READER, "container"))
    for grant in service.grants:
        if grant.resource == dm.TABLE:
            continue
        elif grant.resource == dm.TOPIC:
            plan.append((SERVICE_BUS_DATA_SENDER, "topic"))
        elif grant.resource == dm.QUEUE:
            plan.append((SERVICE_BUS_DATA_RECEIVER, "subscription"))
        elif grant.resource == dm.EMAIL:
            plan.append((EMAIL_SENDER, "communication"))
            plan.append((KEY_VAULT_SECRETS_USER, "hub-key-secret"))  # push through Notification Hubs
        elif grant.resource == dm.IDENTITY:
            plan.append((KEY_VAULT_SECRETS_USER, "identity-secret"))
        elif grant.resource == dm.MEDIA:
            plan.append((STORAGE_BLOB_DATA_CONTRIBUTOR, "media"))
            plan.append((STORAGE_BLOB_DELEGATOR, "uploads-account"))
        elif grant.resource == dm.PUSH:
            continue  # Notification Hubs: the hub key secret, granted with e-mail above
        elif grant.resource == dm.PAYMENTS:
            plan.extend((KEY_VAULT_SECRETS_USER, target) for target in PAYMENT_TARGETS.values())
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


def email_sender_role(env: AzureEnv, parent: pulumi.Resource) -> authorization.RoleDefinition:
    return authorization.RoleDefinition(
        "role-email-sender",
        role_definition_id=env.guid("role", EMAIL_SENDER),
        role_name=f"{env.context.name_prefix} email sender",
        description="Send e-mail through one Communication Services resource (least privilege)",
        # Custom roles are definable down to a resource group (not a resource); the
        # assignment is what limits it to the one Communication Services resource.
        scope=env.resource_group.id,
        assignable_scopes=[env.resource_group.id],
        permissions=[
            authorization.PermissionArgs(
                actions=[
                    "Microsoft.Communication/CommunicationServices/Read",
                    "Microsoft.Communication/CommunicationServices/Write",
                    "Microsoft.Communication/EmailServices/write",
                ],
                not_actions=[],
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class GrantScopes:
    """The exact resources a function identity's roles may land on."""

    #: grant_plan / PLATFORM_PLAN target -> resource id
    targets: Mapping[str, pulumi.Input[str]]
    cosmos_account: cosmosdb.DatabaseAccount
    email_role: authorization.RoleDefinition | None
    media_prefix: str


def grant_service_roles(
    env: AzureEnv,
    service: dm.ServiceSpec,
    principal_id: pulumi.Output[str],
    scopes: GrantScopes,
    parent: pulumi.Resource,
) -> list[pulumi.CustomResource]:
    """Every role assignment one service's identity gets: its grants, then the platform baseline."""
    name = service.name
    given: list[pulumi.CustomResource] = []

    def grant(label: str, target: str, role: str | pulumi.Output[str], condition: str | None = None) -> None:
        given.append(
            assign(
                f"ra-{name}-{label}",
                scope=scopes.targets[target],
                role=role,
                principal_id=principal_id,
                subscription_id=env.subscription_id,
                parent=parent,
                condition=condition,
            )
        )

    for role, target in grant_plan(service):
        if target in PAYMENT_TARGETS.values() and target not in scopes.targets:
            continue  # the stack takes no cards: no secrets to read
        if role in COSMOS_ROLES:
            given.append(_cosmos_assignment(env, name, role, principal_id, scopes, parent))
        elif role == EMAIL_SENDER:
            if scopes.email_role is None:
                raise ValueError(f"{name} sends e-mail: the email sender role must be made first")
            grant("email", target, scopes.email_role.id)
        elif target == "media":
            grant("media", target, role, media_condition(scopes.media_prefix))
        else:
            grant(target, target, role)
    for label, role, target in PLATFORM_PLAN:
        grant(label, target, role)
    return given


def _cosmos_assignment(
    env: AzureEnv, name: str, role: str, principal_id: pulumi.Output[str], scopes: GrantScopes, parent: pulumi.Resource
) -> cosmosdb.SqlResourceSqlRoleAssignment:
    account = scopes.cosmos_account
    return cosmosdb.SqlResourceSqlRoleAssignment(
        f"ra-{name}-cosmos",
        resource_group_name=env.rg_name,
        role_assignment_id=env.guid("cosmos", name),
        account_name=account.name,
        role_definition_id=pulumi.Output.concat(account.id, "/sqlRoleDefinitions/", role),
        principal_id=principal_id,
        scope=scopes.targets["container"],
        opts=pulumi.ResourceOptions(parent=parent),
    )
