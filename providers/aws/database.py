"""DynamoDB tables from the shared TableSpecs: on-demand, PITR, stack-key encryption, TTL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi_aws as aws

from components.specs import DatabaseArgs, DatabaseResult
from providers.aws.env import AwsEnv
from providers.base import Parent


@dataclass(frozen=True)
class AwsDatabase:
    tables: Mapping[str, aws.dynamodb.Table]  # TableSpec.name -> table

    @property
    def result(self) -> DatabaseResult:
        return DatabaseResult(
            table_names={name: t.name for name, t in self.tables.items()},
            table_ids={name: t.arn for name, t in self.tables.items()},
        )


def create_database(env: AwsEnv, args: DatabaseArgs, parent: Parent) -> AwsDatabase:
    tables: dict[str, aws.dynamodb.Table] = {}
    for spec in args.tables:
        key_names = dict.fromkeys(
            [spec.partition_key, spec.sort_key, *(k for i in spec.indexes for k in (i.partition_key, i.sort_key))]
        )
        tables[spec.name] = aws.dynamodb.Table(
            spec.name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=spec.partition_key,
            range_key=spec.sort_key,
            attributes=[aws.dynamodb.TableAttributeArgs(name=k, type="S") for k in key_names],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=idx.name,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=idx.partition_key, key_type="HASH"
                        ),
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=idx.sort_key, key_type="RANGE"
                        ),
                    ],
                    projection_type="ALL",
                )
                for idx in spec.indexes
            ],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True)
            if spec.ttl_attribute
            else None,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=args.encryption.key_id
            ),
            deletion_protection_enabled=args.deletion_protection,
            opts=env.opts(parent, protect=args.deletion_protection),
        )
    return AwsDatabase(tables)
