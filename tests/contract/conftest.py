"""The store contract suite runs against every Store implementation.

Registry: STORES maps a name to a context manager yielding a fresh, empty store. To add
an implementation, add an entry; every test in this folder then runs against it.
"""

from __future__ import annotations

import contextlib
import os

import pytest


@contextlib.contextmanager
def memory_store():
    from functions.adapters.memory import MemoryStore

    yield MemoryStore()


@contextlib.contextmanager
def dynamodb_store():
    from moto import mock_aws

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        import boto3

        from functions.adapters.dynamodb_schema import create_table_kwargs
        from functions.adapters.dynamodb_store import DynamoDBStore
        from functions.shop.datamodel import SHOP_TABLE

        client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
        client.create_table(**create_table_kwargs(SHOP_TABLE, "shop-test"))
        yield DynamoDBStore("shop-test", client=client)


@contextlib.contextmanager
def cosmos_store():
    from tests.fakes.backends import cosmos_store as make

    with make() as s:
        yield s


@contextlib.contextmanager
def firestore_store():
    from tests.fakes.backends import firestore_store as make

    with make() as s:
        yield s


STORES = {"memory": memory_store, "dynamodb": dynamodb_store, "cosmos": cosmos_store, "firestore": firestore_store}


@pytest.fixture(params=sorted(STORES))
def store(request):
    with STORES[request.param]() as s:
        yield s
