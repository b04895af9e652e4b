"""boto3 clients, created once per container and only when first used.

Importing boto3 costs ~0.2 s, so nothing imports it at module level: a function that
never touches a service never pays for it. Endpoints honour AWS_ENDPOINT_URL (moto locally).
"""

from __future__ import annotations

import threading

_clients: dict[str, object] = {}
_lock = threading.Lock()


def client(service: str):
    c = _clients.get(service)
    if c is None:
        with _lock:
            c = _clients.get(service)
            if c is None:
                import boto3
                from botocore.config import Config

                # Short timeouts and few retries: an API request has a 30 s budget and the
                # client (or the queue) retries the whole operation with its idempotency key.
                config = Config(
                    connect_timeout=2,
                    read_timeout=5,
                    retries={"mode": "standard", "max_attempts": 3},
                    max_pool_connections=64,
                )
                c = boto3.session.Session().client(service, config=config)
                _clients[service] = c
    return c


def reset() -> None:
    """Forget cached clients (tests that switch endpoints or credentials)."""
    with _lock:
        _clients.clear()
