"""The store contract suite runs against every Store implementation.

Registry: STORES maps a name to a context manager yielding a fresh, empty store. To add
an implementation, add an entry; every test in this folder then runs against it.
"""

from __future__ import annotations

import contextlib

import pytest


@contextlib.contextmanager
def memory_store():
    from functions.adapters.memory import MemoryStore

    yield MemoryStore()


@contextlib.contextmanager
def dynamodb_store():
    from tests.fakes.backends import dynamodb_store as make

    with make() as s:
        yield s


@contextlib.contextmanager
def cosmos_store():
    from tests.fakes.backends import cosmos_store as make

    with make() as s:
        yield s


@contextlib.contextmanager
def firestore_store():
    """Google's Firestore emulator: the reference (skipped, loudly, where it cannot run)."""
    from tests.fakes.backends import firestore_store as make

    with make(emulator=True) as s:
        yield s


@contextlib.contextmanager
def firestore_fake():
    from tests.fakes.backends import firestore_store as make

    with make(emulator=False) as s:
        yield s


STORES = {
    "memory": memory_store,
    "dynamodb": dynamodb_store,
    "cosmos": cosmos_store,
    "firestore": firestore_store,
    "firestore-fake": firestore_fake,
}


@pytest.fixture(params=sorted(STORES))
def store(request):
    with STORES[request.param]() as s:
        yield s
