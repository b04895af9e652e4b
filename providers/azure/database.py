"""Database: Cosmos DB for NoSQL, serverless, TLS 1.2, local (key) auth disabled, reachable
only from the function subnets (service endpoints) and Azure's own services; one SQL
database and the container of datamodel.COSMOS_CONTAINER (partition key path, default TTL).
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


def create_database(
    env: AzureEnv, args: specs.DatabaseArgs, parent: pulumi.Resource, network: specs.NetworkResult | None
) -> specs.DatabaseResult:
    import pulumi_azure_native.cosmosdb as cosmosdb

    protect = pulumi.ResourceOptions(parent=parent, protect=args.deletion_protection)
    # Prod: a private endpoint only (private_endpoints.py); dev: the function subnets' service endpoints.
    private = private_only(env)
    subnets = list(network.native.function_subnets.values()) if network is not None and not private else []
    account = cosmosdb.DatabaseAccount(
        "cosmos",
        resource_group_name=env.rg_name,
        location=env.location,
        kind="GlobalDocumentDB",
        database_account_offer_type="Standard",
        capabilities=[{"name": "EnableServerless"}],
        locations=[{"location_name": env.location, "failover_priority": 0, "is_zone_redundant": False}],
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
        tags=env.tags,
        opts=protect,
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
