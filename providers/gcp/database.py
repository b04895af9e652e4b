"""Database: a Firestore (native mode) database per stack, with the composite indexes and
the TTL policy the Firestore store's queries need (datamodel.FIRESTORE_INDEXES and
FIRESTORE_TTL_FIELDS), encrypted with a customer-managed key: the stack key when the
database lives in the key's region, else a key of its own in the database's Cloud KMS
location (multi-regions nam5 and eur3 take the KMS multi-regions us and europe), rotated
like the stack key and usable by the Firestore agent only; point-in-time recovery and
delete protection in prod.

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
# Firestore multi-region -> the Cloud KMS location its CMEK key must be in.
KMS_LOCATION = {"nam5": "us", "eur3": "europe"}


@dataclass
class DatabaseNative:
    database: Any
    database_id: pulumi.Output[str]
    location: str
    indexes: list[Any] = field(default_factory=list)
    ttl_fields: list[Any] = field(default_factory=list)


def _database_key(
    env: GcpEnv, encryption: specs.EncryptionResult, kms_location: str, parent: pulumi.Resource
) -> tuple[pulumi.Input[str], pulumi.ResourceOptions]:
    """The key Firestore encrypts with, and the options that create the database after its grant."""
    import pulumi_gcp as gcp

    from providers.gcp.kms import ENCRYPTER_DECRYPTER, ROTATION_PERIOD

    if kms_location == env.region:
        return encryption.key_id, cmek_opts(env, encryption, "firestore", parent, FIRESTORE)
    kms = "cloudkms.googleapis.com"
    ring = gcp.kms.KeyRing("keyring-firestore", project=env.project, location=kms_location, opts=env.opts(parent, kms))
    key = gcp.kms.CryptoKey(
        "key-firestore",
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=ROTATION_PERIOD,
        destroy_scheduled_duration="2592000s" if env.context.is_prod else "86400s",
        labels=env.labels,
        opts=env.opts(parent, kms, protect=env.context.is_prod),
    )
    grant = gcp.kms.CryptoKeyIAMMember(
        "key-firestore-user",
        crypto_key_id=key.id,
        role=ENCRYPTER_DECRYPTER,
        member=encryption.native.agent_members["firestore"],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return key.id, env.opts(parent, FIRESTORE, depends_on=[grant])


def create_database(env: GcpEnv, args: specs.DatabaseArgs, parent: pulumi.Resource) -> specs.DatabaseResult:
    import pulumi_gcp as gcp

    location = env.settings.firestore_location or env.region
    # Firestore CMEK needs the key in the database's location.
    key_id, key_opts = _database_key(env, args.encryption, KMS_LOCATION.get(location, location), parent)
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
        cmek_config={"kms_key_name": key_id},
        opts=key_opts,
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
