"""Store backends for the contract and runtime tests: the fakes by default, the real
emulators (or accounts) when the environment says so. See docs/multicloud-testing.md.

  SHOP_TEST_COSMOS_ENDPOINT=https://localhost:8081/ [SHOP_TEST_COSMOS_KEY=...]
      -> a fresh container in database "shop-tests" on that Cosmos DB (emulator), dropped after
  FIRESTORE_EMULATOR_HOST=localhost:8080 [SHOP_TEST_FIRESTORE_PROJECT=shop-test]
      -> a fresh shops/<random> root on the Firestore emulator, deleted after
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from functions.adapters.cosmos_store import CosmosStore
from functions.adapters.dynamodb_store import DynamoDBStore
from functions.adapters.firestore_store import FirestoreStore
from functions.shop import datamodel

from .cosmos import FakeContainer
from .firestore import FakeFirestoreClient


@contextmanager
def dynamodb_store(table: str = "shop-test") -> Iterator[DynamoDBStore]:
    """A fresh SHOP_TABLE on moto's in-process mock; its botocore client is `store.client`."""
    from moto import mock_aws

    with mock_aws():
        import boto3

        from functions.adapters.dynamodb_schema import create_table_kwargs

        client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
        client.create_table(**create_table_kwargs(datamodel.SHOP_TABLE, table))
        yield DynamoDBStore(table, client=client)


# The emulator's published well-known key (not a secret).
COSMOS_EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


def using_real_cosmos() -> bool:
    return bool(os.environ.get("SHOP_TEST_COSMOS_ENDPOINT"))


def using_real_firestore() -> bool:
    return bool(os.environ.get("FIRESTORE_EMULATOR_HOST"))


@contextmanager
def cosmos_container() -> Iterator[object]:
    if not using_real_cosmos():
        yield FakeContainer(
            datamodel.COSMOS_CONTAINER.partition_key_path, default_ttl=datamodel.COSMOS_CONTAINER.default_ttl
        )
        return
    from azure.cosmos import CosmosClient, PartitionKey

    client = CosmosClient(
        os.environ["SHOP_TEST_COSMOS_ENDPOINT"],
        credential=os.environ.get("SHOP_TEST_COSMOS_KEY", COSMOS_EMULATOR_KEY),
        connection_verify=os.environ.get("SHOP_TEST_COSMOS_VERIFY_TLS", "false").lower() == "true",
    )
    db = client.create_database_if_not_exists("shop-tests")
    name = f"shop-{uuid.uuid4().hex[:12]}"
    container = db.create_container(
        id=name,
        partition_key=PartitionKey(path=datamodel.COSMOS_CONTAINER.partition_key_path),
        default_ttl=datamodel.COSMOS_CONTAINER.default_ttl,
    )
    try:
        yield container
    finally:
        db.delete_container(name)


@contextmanager
def firestore_client() -> Iterator[tuple[object, str]]:
    """(client, root document id) for one test."""
    if not using_real_firestore():
        yield FakeFirestoreClient(datamodel.FIRESTORE_INDEXES), datamodel.SHOP_TABLE.name
        return
    from google.cloud import firestore

    client = firestore.Client(project=os.environ.get("SHOP_TEST_FIRESTORE_PROJECT", "shop-test"))
    root = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield client, root
    finally:
        client.recursive_delete(client.collection(datamodel.FIRESTORE_ROOT_COLLECTION).document(root))


@contextmanager
def cosmos_store() -> Iterator[CosmosStore]:
    with cosmos_container() as container:
        yield CosmosStore(container)


@contextmanager
def firestore_store() -> Iterator[FirestoreStore]:
    with firestore_client() as (client, root):
        yield FirestoreStore(client, root=root)
