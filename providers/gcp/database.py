"""Database: a Firestore (native mode) database per stack, with the composite indexes and
the TTL policy the Firestore store's queries need (datamodel.FIRESTORE_INDEXES and
FIRESTORE_TTL_FIELDS), encrypted with a customer-managed key: the stack key when the
database lives in the key's region, else a key of its own in the database's Cloud KMS
location (multi-regions nam5 and eur3 take the KMS multi-regions us and europe), rotated
like the stack key and usable by the Firestore agent only; point-in-time recovery and
delete protection in prod.

The logical table (datamodel.SHOP_TABLE) is the root document shops/<name> inside that
database; ENV_TABLE carries that name, the FIRESTORE_DATABASE setting the database id.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from functions.shop import datamodel as dm
from providers.gcp.encryption import CLOUDKMS, ENCRYPTER_DECRYPTER, GcpEncryption, cmek_opts, stack_key
from providers.gcp.env import GcpEnv

FIRESTORE = "firestore.googleapis.com"
# Firestore multi-region -> the Cloud KMS location its CMEK key must be in.
KMS_LOCATION = {"nam5": "us", "eur3": "europe"}


@dataclass(frozen=True)
class GcpDatabase:
    database: gcp.firestore.Database
    location: str
    indexes: tuple[gcp.firestore.Index, ...]
    ttl_fields: tuple[gcp.firestore.Field, ...]

    @property
    def database_id(self) -> pulumi.Output[str]:
        return self.database.name

    @property
    def result(self) -> specs.DatabaseResult:
        table = dm.SHOP_TABLE.name
        return specs.DatabaseResult(
            table_names={table: pulumi.Output.from_input(table)}, table_ids={table: self.database.id}
        )


def _database_key(
    env: GcpEnv, encryption: GcpEncryption, kms_location: str, parent: pulumi.Resource
) -> tuple[pulumi.Input[str], pulumi.ResourceOptions]:
    """The key Firestore encrypts with, and the options that create the database after its grant."""
    if kms_location == env.region:
        return encryption.key_id, cmek_opts(env, encryption, "firestore", parent, FIRESTORE)
    ring = gcp.kms.KeyRing(
        "keyring-firestore", project=env.project, location=kms_location, opts=env.opts(parent, CLOUDKMS)
    )
    key = stack_key(env, parent, "key-firestore", ring)
    grant = gcp.kms.CryptoKeyIAMMember(
        "key-firestore-user",
        crypto_key_id=key.id,
        role=ENCRYPTER_DECRYPTER,
        member=encryption.agent_members["firestore"],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return key.id, env.opts(parent, FIRESTORE, depends_on=[grant])


def _database(env: GcpEnv, args: specs.DatabaseArgs, location: str, encryption: GcpEncryption,
              parent: pulumi.Resource) -> gcp.firestore.Database:  # fmt: skip
    # Firestore CMEK needs the key in the database's location.
    key_id, key_opts = _database_key(env, encryption, KMS_LOCATION.get(location, location), parent)
    protected = args.deletion_protection
    return gcp.firestore.Database(
        "firestore",
        project=env.project,
        name=env.resource_id("db", max_len=63),
        location_id=location,
        type="FIRESTORE_NATIVE",
        concurrency_mode="OPTIMISTIC",  # checkout is one transaction with preconditions
        app_engine_integration_mode="DISABLED",
        point_in_time_recovery_enablement=(
            "POINT_IN_TIME_RECOVERY_ENABLED" if protected else "POINT_IN_TIME_RECOVERY_DISABLED"
        ),
        delete_protection_state="DELETE_PROTECTION_ENABLED" if protected else "DELETE_PROTECTION_DISABLED",
        deletion_policy="ABANDON" if protected else "DELETE",
        cmek_config={"kms_key_name": key_id},
        opts=key_opts,
    )


def create_database(
    env: GcpEnv, args: specs.DatabaseArgs, parent: pulumi.Resource, encryption: GcpEncryption
) -> GcpDatabase:
    location = env.settings.firestore_location or env.region
    database = _database(env, args, location, encryption, parent)
    child = pulumi.ResourceOptions(parent=parent)
    indexes = tuple(
        gcp.firestore.Index(
            f"index-{index.collection_group}-{i}",
            project=env.project,
            database=database.name,
            collection=index.collection_group,
            query_scope="COLLECTION",
            fields=[{"field_path": f.field, "order": f.order} for f in index.fields],
            opts=child,
        )
        for i, index in enumerate(dm.FIRESTORE_INDEXES)
    )
    ttl_fields = tuple(
        gcp.firestore.Field(
            f"ttl-{collection}",
            project=env.project,
            database=database.name,
            collection=collection,
            field=ttl_field,
            ttl_config={},
            # A TTL timestamp is never queried: skip its single-field indexes (write cost).
            index_config={},
            opts=child,
        )
        for collection, ttl_field in dm.FIRESTORE_TTL_FIELDS
    )
    return GcpDatabase(database=database, location=location, indexes=indexes, ttl_fields=ttl_fields)
