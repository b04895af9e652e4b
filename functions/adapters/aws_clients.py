"""boto3 clients, created once per container and only when first used.

Importing boto3 costs ~0.2 s, so nothing imports it at module level: a function that
never touches a service never pays for it. Endpoints honour AWS_ENDPOINT_URL (moto locally).

Deployed, each function is its own process and its role's credentials decide what a call
may do. The local stack and the tests run every function in one process: ``acting_as``
names the function whose role the calls of an invocation run under, and ``add_hook``
lets them see every call (functions/local/iam_policy.py checks each one against that
function's generated IAM policy).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_clients: dict[str, object] = {}
_lock = threading.Lock()
_hooks: list[tuple[str, Callable]] = []
_function: ContextVar[str | None] = ContextVar("shop_aws_function", default=None)


def current_function() -> str | None:
    """The function (datamodel.SERVICES name) whose invocation is running, if any."""
    return _function.get()


@contextmanager
def acting_as(function: str | None) -> Iterator[None]:
    token = _function.set(function)
    try:
        yield
    finally:
        _function.reset(token)


def add_hook(event: str, handler: Callable) -> None:
    """Register a botocore event handler on every client, cached or created later."""
    with _lock:
        _hooks.append((event, handler))
        for c in _clients.values():
            c.meta.events.register(event, handler)  # type: ignore[attr-defined]


def remove_hook(event: str, handler: Callable) -> None:
    with _lock:
        if (event, handler) in _hooks:
            _hooks.remove((event, handler))
        for c in _clients.values():
            c.meta.events.unregister(event, handler)  # type: ignore[attr-defined]


def new_client(service: str, **kwargs):
    """An uncached client (e.g. another endpoint), with the registered hooks."""
    import boto3

    c = boto3.session.Session().client(service, **kwargs)
    for event, handler in list(_hooks):
        c.meta.events.register(event, handler)
    return c


def client(service: str):
    c = _clients.get(service)
    if c is None:
        with _lock:
            c = _clients.get(service)
            if c is None:
                from botocore.config import Config

                # Short timeouts and few retries: an API request has a 30 s budget and the
                # client (or the queue) retries the whole operation with its idempotency key.
                config = Config(
                    connect_timeout=2,
                    read_timeout=5,
                    retries={"mode": "standard", "max_attempts": 3},
                    max_pool_connections=64,
                )
                import boto3

                c = boto3.session.Session().client(service, config=config)
                for event, handler in _hooks:
                    c.meta.events.register(event, handler)
                _clients[service] = c
    return c


def reset() -> None:
    """Forget cached clients (tests that switch endpoints or credentials)."""
    with _lock:
        _clients.clear()
