"""Built-in role definition ids and role-assignment helpers (least privilege, exact scopes)."""

from __future__ import annotations

import pulumi

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


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role
    )


def assign(
    name: str,
    *,
    scope: pulumi.Input[str],
    role: str | pulumi.Input[str],
    principal_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
    principal_type: str | None = "ServicePrincipal",
    condition: str | None = None,
    description: str | None = None,
) -> pulumi.CustomResource:
    """One RBAC role assignment of `role` (built-in id or full role definition id) on exactly `scope`."""
    import pulumi_azure_native.authorization as authorization

    definition = role_definition_id(subscription_id, role) if isinstance(role, str) and "/" not in role else role
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
