"""Which function's role an invocation's AWS calls run under, where every function shares one
process (the local stack, the tests): the one that serves the route, or the queue consumer."""

from __future__ import annotations

import json

from functions.adapters import aws_clients
from functions.adapters.memory import memory_services
from functions.runtimes import aws_http, aws_notifications
from functions.shop import routes
from functions.shop.ports import Category

from .events import claims, http_event, sqs_record


class _Watching:
    """Services whose store notes the function current at each call."""

    def __init__(self) -> None:
        self.inner = memory_services()
        self.inner.store.put_category(Category("books", "Books"))
        self.seen: list[str | None] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @property
    def store(self):
        watcher = self

        class Store:
            def __getattr__(self, name):
                watcher.seen.append(aws_clients.current_function())
                return getattr(watcher.inner.store, name)

        return Store()


def test_each_route_runs_under_the_function_that_serves_it():
    for method, path, service in (("GET", "/api/categories", "catalog"), ("GET", "/api/cart", "cart"),
                                  ("GET", "/api/orders", "orders")):  # fmt: skip
        services = _Watching()
        event = http_event(method, path, jwt_claims=claims())
        result = aws_http.handler(event, None, services_factory=lambda s=services: s)
        assert result["statusCode"] == 200, result
        assert services.seen and set(services.seen) == {service}, (path, services.seen)
        assert routes.ROUTES_BY_KEY[f"{method} {path}"].service == service
    assert aws_clients.current_function() is None, "the role ends with the invocation"


def test_an_unrouted_request_runs_under_no_function_and_a_queue_batch_under_the_consumer():
    request = aws_http.request_from_event(http_event("GET", "/api/nowhere", route_key="$default"), "r")
    assert aws_http.function_of(request) == ""

    seen = []

    class Identity:
        def lookup_email(self, user_id):
            seen.append(aws_clients.current_function())
            return None  # nothing to send

    services = memory_services()
    services.identity = Identity()
    body = json.dumps({"type": "OrderPlaced", "orderId": "o-1", "userId": "u-1", "status": "PLACED", "total": 1,
                       "currency": "USD", "lines": []})  # fmt: skip
    assert aws_notifications.handler({"Records": [sqs_record(body)]}, None, services=services) == {
        "batchItemFailures": []
    }
    assert seen == ["notifications"]
