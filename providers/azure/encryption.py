"""Encryption: Key Vault (RBAC, soft delete, purge protection in prod) and the stack key.

In prod the key is the customer-managed key of the storage accounts (through a user-assigned
"cmk" identity holding Key Vault Crypto Service Encryption User on exactly that key); Azure
Storage takes a CMK only from a purge-protected vault, and dev vaults stay purgeable.
Cosmos DB, Service Bus Standard and App Insights encrypt at rest with Microsoft-managed keys
(always on); see docs/deploy-azure.md for why CMK is not forced on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.managedidentity as managedidentity

from components import specs
from providers.azure import iam
from providers.azure.env import AzureEnv
from providers.azure.network import vault_network_acls


@dataclass(frozen=True)
class StackKey:
    """The key the stack encrypts with: its own, or the one shop:existingKeyId names."""

    resource_id: pulumi.Output[str]  # ARM id: the scope of the CMK identity's role
    name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]  # of the key's vault, https://<vault>.vault.azure.net/
    key_uri: pulumi.Output[str]  # versionless: services follow the key's rotation


@dataclass(frozen=True)
class AzureEncryption:
    vault: keyvault.Vault  # the stack's vault: its secrets, and its key unless one is given
    key: StackKey
    cmk_identity: managedidentity.UserAssignedIdentity
    cmk_grant: authorization.RoleAssignment  # the identity's role on the key: storage CMK must wait for it

    @property
    def vault_uri(self) -> pulumi.Output[str]:
        return self.vault.properties.vault_uri

    @property
    def result(self) -> specs.EncryptionResult:
        return specs.EncryptionResult(key_id=self.key.key_uri)


def existing_key(resource_id: str) -> StackKey:
    """shop:existingKeyId (/subscriptions/.../vaults/<vault>/keys/<key>, checked by components.config)."""
    vault_name, key_name = resource_id.split("/")[-3], resource_id.split("/")[-1]
    vault_uri = f"https://{vault_name}.vault.azure.net/"
    out = pulumi.Output.from_input
    return StackKey(out(resource_id), out(key_name), out(vault_uri), out(f"{vault_uri}keys/{key_name}"))


def create_encryption(env: AzureEnv, args: specs.EncryptionArgs, parent: pulumi.Resource) -> AzureEncryption:
    vault = _vault(env, parent)
    # The deployer manages keys and secrets through RBAC (no access policies).
    deployer_admin = iam.assign_to_deployer(
        env, "vault-deployer-admin", vault.id, iam.KEY_VAULT_ADMINISTRATOR, parent,
        "the deploying principal manages the stack key and secrets",
    )  # fmt: skip
    if args.existing_key_id:
        key = existing_key(args.existing_key_id)
    else:
        key = _stack_key(env, args, vault, deployer_admin, parent)
    cmk_identity = managedidentity.UserAssignedIdentity(
        "id-cmk", resource_group_name=env.rg_name, location=env.location, opts=pulumi.ResourceOptions(parent=parent)
    )
    cmk_grant = iam.assign(
        "cmk-key-user",
        scope=key.resource_id,
        role=iam.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
        principal_id=cmk_identity.principal_id,
        subscription_id=env.subscription_id,
        parent=parent,
    )
    return AzureEncryption(vault=vault, key=key, cmk_identity=cmk_identity, cmk_grant=cmk_grant)


def _stack_key(
    env: AzureEnv,
    args: specs.EncryptionArgs,
    vault: keyvault.Vault,
    deployer_admin: authorization.RoleAssignment,
    parent: pulumi.Resource,
) -> StackKey:
    rotation = [
        keyvault.LifetimeActionArgs(
            action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.ROTATE),
            trigger=keyvault.TriggerArgs(time_after_create="P1Y"),
        ),
        keyvault.LifetimeActionArgs(
            action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.NOTIFY),
            trigger=keyvault.TriggerArgs(time_before_expiry="P30D"),
        ),
    ]
    key = keyvault.Key(
        "key",
        resource_group_name=env.rg_name,
        vault_name=vault.name,
        properties=keyvault.KeyPropertiesArgs(
            kty="RSA",
            key_size=3072,
            key_ops=["wrapKey", "unwrapKey", "encrypt", "decrypt"],
            rotation_policy=keyvault.RotationPolicyArgs(
                attributes=keyvault.KeyRotationPolicyAttributesArgs(expiry_time="P2Y"),
                lifetime_actions=rotation if args.rotation else [],
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[deployer_admin]),
    )
    return StackKey(key.id, key.name, vault.properties.vault_uri, key.key_uri)


def _vault(env: AzureEnv, parent: pulumi.Resource) -> keyvault.Vault:
    prod = env.context.is_prod
    return keyvault.Vault(
        "vault",
        resource_group_name=env.rg_name,
        location=env.location,
        properties=keyvault.VaultPropertiesArgs(
            tenant_id=env.client.tenant_id,
            sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
            enable_rbac_authorization=True,
            enable_soft_delete=True,
            soft_delete_retention_in_days=90 if prod else 7,
            # Purge protection cannot be turned off again; dev stacks must be able to purge.
            enable_purge_protection=True if prod else None,
            enabled_for_deployment=False,
            enabled_for_disk_encryption=False,
            enabled_for_template_deployment=False,
            # Prod: deny by default, reached through a private endpoint (network.py).
            public_network_access="Enabled",
            network_acls=vault_network_acls(env),
        ),
        opts=pulumi.ResourceOptions(parent=parent, protect=prod),
    )
