"""Store backends for the contract and runtime tests: the fakes by default, the real
emulators (or accounts) when the environment says so. See docs/multicloud-testing.md.

  SHOP_TEST_COSMOS_ENDPOINT=https://localhost:8081/ [SHOP_TEST_COSMOS_KEY=...]
      -> a fresh container in database "shop-tests" on that Cosmos DB (emulator), dropped after
Firestore: `firestore_client(emulator=True)` (the reference) uses Google's Firestore
emulator, started once per session by tests/emulators.py, and skips with the install hint
when it cannot run; `emulator=False` is the in-memory fake for quick unit runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from functions.adapters.cosmos_store import CosmosStore
from functions.adapters.dynamodb_store import DynamoDBStore
from functions.adapters.firestore_store import FirestoreStore
from functions.shop import datamodel
from tests import emulators

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


def firestore_emulator_host() -> str:
    """host:port of the session's Firestore emulator; skips the test when it cannot run."""
    try:
        return emulators.FIRESTORE.ensure()
    except emulators.EmulatorMissing as e:
        pytest.skip(f"Firestore emulator unavailable: {e}")


@contextmanager
def firestore_client(*, emulator: bool = True) -> Iterator[tuple[object, str]]:
    """(client, root document id) for one test: a fresh root on the emulator, or the fake."""
    if not emulator:
        yield FakeFirestoreClient(datamodel.FIRESTORE_INDEXES), datamodel.SHOP_TABLE.name
        return
    firestore_emulator_host()
    from google.cloud import firestore

    client = firestore.Client(project="shop-test")
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
def firestore_store(*, emulator: bool = True) -> Iterator[FirestoreStore]:
    with firestore_client(emulator=emulator) as (client, root):
        yield FirestoreStore(client, root=root)
