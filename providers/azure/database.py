"""Database: Cosmos DB for NoSQL, serverless, TLS 1.2, local (key) auth disabled, reachable
only from the function subnets (service endpoints) and Azure's own services; one SQL
database and the container of datamodel.COSMOS_CONTAINER (partition key path, default TTL).

Prod: zone-redundant (set at creation only: an existing account is replaced), encrypted with
the stack's Key Vault key through the CMK identity (Cosmos DB requires a purge-protected
vault, which only prod has), continuous backup with 30 days of point-in-time restore (dev:
7 days, Microsoft-managed keys, one zone), reached through a private endpoint only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.cosmosdb as cosmosdb

from components import specs
from functions.shop import datamodel
from providers.azure.encryption import AzureEncryption
from providers.azure.env import AzureEnv
from providers.azure.network import AzureNetwork, private_only

DATABASE_NAME = "shop"


@dataclass(frozen=True)
class AzureDatabase:
    account: cosmosdb.DatabaseAccount
    database: cosmosdb.SqlResourceSqlDatabase
    container: cosmosdb.SqlResourceSqlContainer
    table_names: tuple[str, ...]  # every neutral table lives in the one container
    database_name: str = DATABASE_NAME
    container_name: str = datamodel.COSMOS_CONTAINER.name

    @property
    def endpoint(self) -> pulumi.Output[str]:
        return self.account.document_endpoint

    @property
    def container_scope(self) -> pulumi.Output[str]:
        """The container's data-plane scope (role assignments)."""
        return pulumi.Output.concat(self.account.id, "/dbs/", self.database_name, "/colls/", self.container_name)

    @property
    def result(self) -> specs.DatabaseResult:
        names = {t: pulumi.Output.from_input(self.container_name) for t in self.table_names}
        return specs.DatabaseResult(table_names=names, table_ids={t: self.container.id for t in self.table_names})


def create_database(
    env: AzureEnv, args: specs.DatabaseArgs, parent: pulumi.Resource, network: AzureNetwork, encryption: AzureEncryption
) -> AzureDatabase:
    account = _account(env, args, parent, network, encryption)
    protect = pulumi.ResourceOptions(parent=parent, protect=args.deletion_protection)
    spec = datamodel.COSMOS_CONTAINER
    database = cosmosdb.SqlResourceSqlDatabase(
        "cosmos-db",
        resource_group_name=env.rg_name,
        account_name=account.name,
        database_name=DATABASE_NAME,
        resource=cosmosdb.SqlDatabaseResourceArgs(id=DATABASE_NAME),
        opts=protect,
    )
    container = cosmosdb.SqlResourceSqlContainer(
        f"container-{spec.name}",
        resource_group_name=env.rg_name,
        account_name=account.name,
        database_name=database.name,
        container_name=spec.name,
        resource=cosmosdb.SqlContainerResourceArgs(
            id=spec.name,
            partition_key=cosmosdb.ContainerPartitionKeyArgs(paths=[spec.partition_key_path], kind="Hash", version=2),
            default_ttl=spec.default_ttl,
            indexing_policy=cosmosdb.IndexingPolicyArgs(
                indexing_mode="consistent",
                automatic=True,
                included_paths=[cosmosdb.IncludedPathArgs(path="/*")],
                excluded_paths=[cosmosdb.ExcludedPathArgs(path='/"_etag"/?')],
            ),
        ),
        opts=protect,
    )
    return AzureDatabase(account, database, container, tuple(t.name for t in args.tables))


def _account(
    env: AzureEnv, args: specs.DatabaseArgs, parent: pulumi.Resource, network: AzureNetwork, encryption: AzureEncryption
) -> cosmosdb.DatabaseAccount:
    # Prod: a private endpoint only (network.py); dev: the function subnets' service endpoints.
    subnets = [] if private_only(env) else list(network.function_subnet_ids.values())
    prod = env.context.is_prod
    # Prod encrypts with the stack key through the CMK identity (versionless key URI: Cosmos DB
    # follows the key's rotation), which must be able to unwrap the key before the account exists.
    cmk = encryption.cmk_identity
    return cosmosdb.DatabaseAccount(
        "cosmos",
        resource_group_name=env.rg_name,
        location=env.location,
        kind="GlobalDocumentDB",
        database_account_offer_type=cosmosdb.DatabaseAccountOfferType.STANDARD,
        capabilities=[cosmosdb.CapabilityArgs(name="EnableServerless")],
        locations=[cosmosdb.LocationArgs(location_name=env.location, failover_priority=0, is_zone_redundant=prod)],
        consistency_policy=cosmosdb.ConsistencyPolicyArgs(
            default_consistency_level=cosmosdb.DefaultConsistencyLevel.SESSION
        ),
        minimal_tls_version="Tls12",
        disable_local_auth=True,
        disable_key_based_metadata_write_access=True,
        public_network_access="Enabled" if subnets else "Disabled",
        is_virtual_network_filter_enabled=bool(subnets),
        virtual_network_rules=[
            cosmosdb.VirtualNetworkRuleArgs(id=s, ignore_missing_v_net_service_endpoint=False) for s in subnets
        ],
        network_acl_bypass=cosmosdb.NetworkAclBypass.AZURE_SERVICES,
        backup_policy=cosmosdb.ContinuousModeBackupPolicyArgs(
            type="Continuous",
            continuous_mode_properties=cosmosdb.ContinuousModePropertiesArgs(
                tier="Continuous30Days" if args.deletion_protection else "Continuous7Days"
            ),
        ),
        key_vault_key_uri=encryption.key.key_uri if prod else None,
        identity=cosmosdb.ManagedServiceIdentityArgs(
            type=cosmosdb.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[cmk.id]
        )
        if prod
        else None,
        default_identity=pulumi.Output.concat("UserAssignedIdentity=", cmk.id) if prod else None,
        opts=pulumi.ResourceOptions(
            parent=parent, protect=args.deletion_protection, depends_on=[encryption.cmk_grant] if prod else []
        ),
    )
