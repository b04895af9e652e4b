"""Database: a Firestore (native mode) database per stack, with the composite indexes and
the TTL policy the Firestore store's queries need (datamodel.FIRESTORE_INDEXES and
FIRESTORE_TTL_FIELDS), encrypted with the stack key when it lives in the key's region,
point-in-time recovery and delete protection in prod.

The logical table (datamodel.SHOP_TABLE) is the root document shops/<name> inside that
database; ENV_TABLE carries that name, GcpEnv.FIRESTORE_DATABASE the database id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from functions.shop import datamodel as dm
from providers.gcp.env import GcpEnv
from providers.gcp.kms import cmek_opts

FIRESTORE = "firestore.googleapis.com"


@dataclass
class DatabaseNative:
    database: Any
    database_id: pulumi.Output[str]
    location: str
    indexes: list[Any] = field(default_factory=list)
    ttl_fields: list[Any] = field(default_factory=list)


def create_database(env: GcpEnv, args: specs.DatabaseArgs, parent: pulumi.Resource) -> specs.DatabaseResult:
    import pulumi_gcp as gcp

    location = env.settings.firestore_location or env.region
    # Firestore CMEK needs the key in the database's location; multi-regions keep Google's keys.
    same_region = location == env.region
    database = gcp.firestore.Database(
        "firestore",
        project=env.project,
        name=env.resource_id("db", max_len=63),
        location_id=location,
        type="FIRESTORE_NATIVE",
        concurrency_mode="OPTIMISTIC",  # checkout is one transaction with preconditions
        app_engine_integration_mode="DISABLED",
        point_in_time_recovery_enablement=(
            "POINT_IN_TIME_RECOVERY_ENABLED" if args.deletion_protection else "POINT_IN_TIME_RECOVERY_DISABLED"
        ),
        delete_protection_state="DELETE_PROTECTION_ENABLED"
        if args.deletion_protection
        else "DELETE_PROTECTION_DISABLED",
        deletion_policy="ABANDON" if args.deletion_protection else "DELETE",
        cmek_config={"kms_key_name": args.encryption.key_id} if same_region else None,
        opts=cmek_opts(env, args.encryption, "firestore", parent, FIRESTORE)
        if same_region
        else env.opts(parent, FIRESTORE),
    )
    native = DatabaseNative(database=database, database_id=database.name, location=location)
    for i, index in enumerate(dm.FIRESTORE_INDEXES):
        native.indexes.append(
            gcp.firestore.Index(
                f"index-{index.collection_group}-{i}",
                project=env.project,
                database=database.name,
                collection=index.collection_group,
                query_scope="COLLECTION",
                fields=[{"field_path": f.field, "order": f.order} for f in index.fields],
                opts=pulumi.ResourceOptions(parent=parent),
            )
        )
    for collection, ttl_field in dm.FIRESTORE_TTL_FIELDS:
        native.ttl_fields.append(
            gcp.firestore.Field(
                f"ttl-{collection}",
                project=env.project,
                database=database.name,
                collection=collection,
                field=ttl_field,
                ttl_config={},
                # A TTL timestamp is never queried: skip its single-field indexes (write cost).
                index_config={},
                opts=pulumi.ResourceOptions(parent=parent),
            )
        )
    table = dm.SHOP_TABLE.name
    return specs.DatabaseResult(
        table_names={table: pulumi.Output.from_input(table)},
        table_ids={table: database.id},
        native=native,
    )
