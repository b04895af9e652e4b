"""Database: Cosmos DB for NoSQL, serverless, TLS 1.2, local (key) auth disabled, reachable
only from the function subnets (service endpoints) and Azure's own services; one SQL
database and the container of datamodel.COSMOS_CONTAINER (partition key path, default TTL).

Prod: zone-redundant (set at creation only: an existing account is replaced), encrypted with
the stack's Key Vault key through the CMK identity (Cosmos DB requires a purge-protected
vault, which only prod has), continuous backup with 30 days of point-in-time restore (dev:
7 days, Microsoft-managed keys, one zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components import specs
from functions.shop import datamodel
from providers.azure.env import AzureEnv
from providers.azure.private_endpoints import private_only

DATABASE_NAME = "shop"


@dataclass(frozen=True)
class DatabaseNative:
    account: Any
    database: Any
    container: Any
    endpoint: pulumi.Output[str]
    database_name: str
    container_name: str


def customer_managed_key(encryption: specs.EncryptionResult | None) -> dict[str, Any]:
    """Account arguments that encrypt with the stack key through the CMK identity (versionless
    key URI: Cosmos DB follows the key's rotation)."""
    if encryption is None or encryption.native is None:
        return {}
    kv = encryption.native
    return {
        "key_vault_key_uri": kv.key.key_uri,
        "identity": {"type": "UserAssigned", "user_assigned_identities": [kv.cmk_identity.id]},
        "default_identity": pulumi.Output.concat("UserAssignedIdentity=", kv.cmk_identity.id),
    }


def _cmk_grant(args: specs.DatabaseArgs, prod: bool) -> list[Any]:
    # The identity must be able to unwrap the key before the account is created with it.
    native = args.encryption.native if args.encryption is not None else None
    return [native.cmk_grant] if prod and native is not None else []


def create_database(
    env: AzureEnv, args: specs.DatabaseArgs, parent: pulumi.Resource, network: specs.NetworkResult | None
) -> specs.DatabaseResult:
    import pulumi_azure_native.cosmosdb as cosmosdb

    protect = pulumi.ResourceOptions(parent=parent, protect=args.deletion_protection)
    # Prod: a private endpoint only (private_endpoints.py); dev: the function subnets' service endpoints.
    private = private_only(env)
    subnets = list(network.native.function_subnets.values()) if network is not None and not private else []
    prod = env.context.is_prod
    account = cosmosdb.DatabaseAccount(
        "cosmos",
        resource_group_name=env.rg_name,
        location=env.location,
        kind="GlobalDocumentDB",
        database_account_offer_type="Standard",
        capabilities=[{"name": "EnableServerless"}],
        locations=[{"location_name": env.location, "failover_priority": 0, "is_zone_redundant": prod}],
        consistency_policy={"default_consistency_level": "Session"},
        minimal_tls_version="Tls12",
        disable_local_auth=True,
        disable_key_based_metadata_write_access=True,
        public_network_access="Enabled" if subnets else "Disabled",
        is_virtual_network_filter_enabled=bool(subnets),
        virtual_network_rules=[{"id": s.id, "ignore_missing_v_net_service_endpoint": False} for s in subnets],
        network_acl_bypass="AzureServices",
        backup_policy={
            "type": "Continuous",
            "continuous_mode_properties": {
                "tier": "Continuous30Days" if args.deletion_protection else "Continuous7Days"
            },
        },
        **customer_managed_key(args.encryption if prod else None),
        tags=env.tags,
        opts=pulumi.ResourceOptions.merge(protect, pulumi.ResourceOptions(depends_on=_cmk_grant(args, prod))),
    )
    spec = datamodel.COSMOS_CONTAINER
    database = cosmosdb.SqlResourceSqlDatabase(
        "cosmos-db",
        resource_group_name=env.rg_name,
        account_name=account.name,
        database_name=DATABASE_NAME,
        resource={"id": DATABASE_NAME},
        tags=env.tags,
        opts=protect,
    )
    container = cosmosdb.SqlResourceSqlContainer(
        f"container-{spec.name}",
        resource_group_name=env.rg_name,
        account_name=account.name,
        database_name=database.name,
        container_name=spec.name,
        resource={
            "id": spec.name,
            "partition_key": {"paths": [spec.partition_key_path], "kind": "Hash", "version": 2},
            "default_ttl": spec.default_ttl,
            "indexing_policy": {
                "indexing_mode": "consistent",
                "automatic": True,
                "included_paths": [{"path": "/*"}],
                "excluded_paths": [{"path": '/"_etag"/?'}],
            },
        },
        tags=env.tags,
        opts=protect,
    )
    native = DatabaseNative(account, database, container, account.document_endpoint, DATABASE_NAME, spec.name)
    names = {t.name: pulumi.Output.from_input(spec.name) for t in args.tables}
    ids = {t.name: container.id for t in args.tables}
    return specs.DatabaseResult(table_names=names, table_ids=ids, native=native)
