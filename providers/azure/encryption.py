"""Encryption: Key Vault (RBAC, soft delete, purge protection in prod) and the stack key.

In prod the key is the customer-managed key of the storage accounts (through a user-assigned
"cmk" identity holding Key Vault Crypto Service Encryption User on exactly that key); Azure
Storage takes a CMK only from a purge-protected vault, and dev vaults stay purgeable.
Cosmos DB, Service Bus Standard and App Insights encrypt at rest with Microsoft-managed keys
(always on); see docs/deploy-azure.md for why CMK is not forced on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components import specs
from providers.azure import roles
from providers.azure.env import AzureEnv
from providers.azure.private_endpoints import vault_network_acls


@dataclass(frozen=True)
class KeyVaultNative:
    vault: Any
    key: Any
    cmk_identity: Any
    cmk_grant: Any  # the identity's role on the key: storage CMK must wait for it
    vault_uri: pulumi.Output[str]


def create_encryption(env: AzureEnv, args: specs.EncryptionArgs, parent: pulumi.Resource) -> specs.EncryptionResult:
    import pulumi_azure_native.keyvault as keyvault
    import pulumi_azure_native.managedidentity as managedidentity

    env.ensure_resource_group(parent)
    opts = pulumi.ResourceOptions(parent=parent)
    vault = keyvault.Vault(
        "vault",
        resource_group_name=env.rg_name,
        location=env.location,
        tags=env.tags,
        properties={
            "tenant_id": env.client.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enable_rbac_authorization": True,
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": 90 if env.context.is_prod else 7,
            # Purge protection cannot be turned off again; dev stacks must be able to purge.
            "enable_purge_protection": True if env.context.is_prod else None,
            "enabled_for_deployment": False,
            "enabled_for_disk_encryption": False,
            "enabled_for_template_deployment": False,
            # Prod: deny by default, reached through a private endpoint (private_endpoints.py).
            "public_network_access": "Enabled",
            "network_acls": vault_network_acls(env),
        },
        opts=pulumi.ResourceOptions(parent=parent, protect=env.context.is_prod),
    )
    # The deployer manages keys and secrets through RBAC (no access policies).
    deployer_admin = roles.assign(
        "vault-deployer-admin",
        scope=vault.id,
        role=roles.KEY_VAULT_ADMINISTRATOR,
        principal_id=env.client.object_id,
        principal_type=None,
        subscription_id=env.client.subscription_id,
        parent=parent,
        description="the deploying principal manages the stack key and secrets",
    )
    key = keyvault.Key(
        "key",
        resource_group_name=env.rg_name,
        vault_name=vault.name,
        tags=env.tags,
        properties={
            "kty": "RSA",
            "key_size": 3072,
            "key_ops": ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
            "rotation_policy": {
                "attributes": {"expiry_time": "P2Y"},
                "lifetime_actions": [
                    {"action": {"type": "rotate"}, "trigger": {"time_after_create": "P1Y"}},
                    {"action": {"type": "notify"}, "trigger": {"time_before_expiry": "P30D"}},
                ]
                if args.rotation
                else [],
            },
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[deployer_admin]),
    )
    cmk_identity = managedidentity.UserAssignedIdentity(
        "id-cmk", resource_group_name=env.rg_name, location=env.location, tags=env.tags, opts=opts
    )
    cmk_grant = roles.assign(
        "cmk-key-user",
        scope=key.id,
        role=roles.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
        principal_id=cmk_identity.principal_id,
        subscription_id=env.client.subscription_id,
        parent=parent,
    )
    native = KeyVaultNative(
        vault=vault, key=key, cmk_identity=cmk_identity, cmk_grant=cmk_grant, vault_uri=vault.properties.vault_uri
    )
    return specs.EncryptionResult(key_id=key.key_uri, native=native)


def create_configuration(
    env: AzureEnv, args: specs.ConfigurationArgs, parent: pulumi.Resource
) -> specs.ConfigurationResult:
    """Each setting is a Key Vault secret named <project>-<stack>-<name> (Key Vault names allow
    only letters, digits and dashes: the path /shop/dev/ becomes the prefix shop-dev-)."""
    import pulumi_azure_native.keyvault as keyvault

    vault: KeyVaultNative = args.encryption.native
    prefix = env.context.parameters_path.strip("/").replace("/", "-")
    names: dict[str, pulumi.Output[str]] = {}
    secrets: dict[str, Any] = {}
    for spec in args.parameters:
        secret_name = f"{prefix}-{spec.name}"
        secret = keyvault.Secret(
            f"setting-{spec.name}",
            resource_group_name=env.rg_name,
            vault_name=vault.vault.name,
            secret_name=secret_name,
            tags={**env.tags, "secret": str(spec.secret).lower()},
            properties={
                "value": pulumi.Output.secret(spec.value) if spec.secret else spec.value,
                "content_type": "text/plain",
                "attributes": {"enabled": True},
            },
            opts=pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["properties"]),
        )
        secrets[spec.name] = secret
        names[spec.name] = pulumi.Output.from_input(secret_name)
    return specs.ConfigurationResult(path=env.context.parameters_path, parameter_names=names, native=secrets)
