"""CreateTable arguments from the shared table definition (tests and the local stack;
the Pulumi program builds the same table from the same spec)."""

from __future__ import annotations

from functions.shop.datamodel import TableSpec


def create_table_kwargs(spec: TableSpec, name: str) -> dict:
    attrs = [spec.partition_key, spec.sort_key]
    for ix in spec.indexes:
        attrs += [ix.partition_key, ix.sort_key]
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in dict.fromkeys(attrs)],
        "KeySchema": [
            {"AttributeName": spec.partition_key, "KeyType": "HASH"},
            {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": ix.name,
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": ix.partition_key, "KeyType": "HASH"},
                    {"AttributeName": ix.sort_key, "KeyType": "RANGE"},
                ],
            }
            for ix in spec.indexes
        ],
    }
