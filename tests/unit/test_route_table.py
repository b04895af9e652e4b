from functions.shop import datamodel
from functions.shop.routes import AUTH_LEVELS, ROUTES, allowed_methods, match


def test_every_route_is_unique_and_served_by_a_known_http_service():
    keys = [r.route_key for r in ROUTES]
    assert len(keys) == len(set(keys)), "duplicate route keys"
    ops = [r.operation_id for r in ROUTES]
    assert len(ops) == len(set(ops)), "duplicate operation ids"
    http_services = {s.name for s in datamodel.SERVICES if s.trigger == "http"}
    for r in ROUTES:
        assert r.path.startswith("/api/"), f"{r.route_key} is not under /api"
        assert r.auth in AUTH_LEVELS, f"{r.route_key} has unknown auth {r.auth}"
        assert r.service in http_services, f"{r.route_key} served by unknown service {r.service}"


def test_match_extracts_path_parameters_and_reports_other_methods():
    route, params = match("PUT", "/api/cart/items/p-42")
    assert route.operation_id == "setCartItem" and params == {"productId": "p-42"}
    assert match("PATCH", "/api/cart/items/p-42") is None
    assert allowed_methods("/api/cart/items/p-42") == ["DELETE", "PUT"]


def test_each_path_segment_names_the_modules_that_declare_its_routes():
    # A deployed function's first request loads only the hinted modules: a wrong hint would
    # still be served (the whole table is the fallback), but load every service's code.
    from functions.shop.routes import SEGMENT_MODULES

    for r in ROUTES:
        segment = r.path.split("/")[2]
        module = r.handler.__module__.rsplit(".", 1)[-1]
        assert module in SEGMENT_MODULES.get(segment, ()), f"{r.route_key}: /api/{segment} does not hint {module}"


def test_a_route_outside_the_hints_is_still_found(monkeypatch):
    from functions.shop import routes

    monkeypatch.setattr(routes, "SEGMENT_MODULES", {})
    route, params = match("GET", "/api/products/p-1")
    assert route.operation_id == "getProduct" and params == {"productId": "p-1"}
    assert routes.find("GET /api/products/{productId}") is route
