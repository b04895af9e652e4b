"""The route table is the only place a route is declared: the gateway follows it."""

from __future__ import annotations

from functions.shop import routes
from functions.shop.routes import ADMIN, Route

from .conftest import DEV_CONFIG, build_stack


def test_a_new_route_in_the_handlers_becomes_a_gateway_route(monkeypatch):
    new = Route(
        "GET", "/api/admin/reports/{day}", "adminDailyReport", "admin:daily_report", ADMIN, "admin", "Daily report"
    )
    monkeypatch.setattr(routes, "ROUTES", (*routes.ROUTES, new))

    stack = build_stack(DEV_CONFIG, "dev")

    gateway = {r.inputs["routeKey"]: r.inputs for r in stack.of_type("aws:apigatewayv2/route:Route")}
    assert len(gateway) == len(routes.ROUTES)
    added = gateway["GET /api/admin/reports/{day}"]
    assert added["authorizationType"] == "JWT" and added["authorizerId"]
    assert added["operationName"] == "adminDailyReport"
    # Served by the admin function's integration, like every other admin route.
    existing_admin = gateway["POST /api/admin/products"]
    assert added["target"] == existing_admin["target"]
