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
