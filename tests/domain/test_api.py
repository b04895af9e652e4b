"""The API through the dispatcher, on the in-memory adapters."""

from __future__ import annotations

import threading

from functions.shop.openapi import build
from functions.shop.routes import ROUTES

from .conftest import ADDRESS


def test_catalog_routes(shop):
    assert shop.call("GET", "/api/categories").body == {"items": [{"categoryId": "books", "name": "Books"}]}
    page = shop.call("GET", "/api/products", query={"category": "books", "limit": "2"}).body
    assert [p["productId"] for p in page["items"]] == ["b1", "b2"] and page["nextCursor"]
    assert shop.call("GET", "/api/products/b1").body["price"] == 4500
    assert shop.call("GET", "/api/products/zzz").status == 404
    assert shop.call("GET", "/api/products", query={"limit": "0"}).status == 400
    assert shop.call("GET", "/api/products", query={"cursor": "!!"}).status == 400


def test_auth_is_required_and_admin_group_enforced(shop):
    assert shop.call("GET", "/api/cart").status == 401
    customer = shop.user()
    r = shop.call("POST", "/api/admin/products", {"name": "x", "category": "books", "price": 1, "currency": "USD"},
                  who=customer)
    assert r.status == 403 and r.body["error"]["code"] == "FORBIDDEN"


def test_checkout_uses_catalog_prices_and_is_idempotent(shop):
    me = shop.user()
    shop.call("PUT", "/api/cart/items/b1", {"quantity": 2}, who=me)
    cart = shop.call("PUT", "/api/cart/items/b2", {"quantity": 1}, who=me).body
    assert cart["subtotal"] == 2 * 4500 + 1999
    assert shop.call("POST", "/api/orders", ADDRESS, who=me).status == 400  # no key
    r = shop.call("POST", "/api/orders", ADDRESS, who=me, headers={"idempotency-key": "k"})
    assert r.status == 201 and r.body["total"] == 10999
    assert shop.services.store.get_product("b1").stock == 1
    assert shop.call("GET", "/api/cart", who=me).body["items"] == []
    again = shop.call("POST", "/api/orders", ADDRESS, who=me, headers={"idempotency-key": "k"})
    assert again.status == 200 and again.body["orderId"] == r.body["orderId"]
    other = {"shippingAddress": {**ADDRESS["shippingAddress"], "city": "Paris"}}
    assert shop.call("POST", "/api/orders", other, who=me, headers={"idempotency-key": "k"}).status == 409
    assert shop.call("POST", "/api/orders", ADDRESS, who=me, headers={"idempotency-key": "new"}).body["error"][
        "code"] == "CART_EMPTY"
    assert shop.services.notifier.outbox[0]["to"] == "c@example.com"


def test_insufficient_stock_names_products_and_changes_nothing(shop):
    me = shop.user()
    shop.call("PUT", "/api/cart/items/b1", {"quantity": 5}, who=me)
    shop.call("PUT", "/api/cart/items/b3", {"quantity": 1}, who=me)
    r = shop.call("POST", "/api/orders", ADDRESS, who=me, headers={"idempotency-key": "k"})
    assert r.status == 409 and sorted(r.body["error"]["productIds"]) == ["b1", "b3"]
    assert shop.services.store.get_product("b1").stock == 3
    assert len(shop.call("GET", "/api/cart", who=me).body["items"]) == 2


def test_publish_failure_never_fails_the_order(shop):
    me = shop.user()
    shop.services.notifier.fail_publish = True
    shop.call("PUT", "/api/cart/items/b2", {"quantity": 1}, who=me)
    r = shop.call("POST", "/api/orders", ADDRESS, who=me, headers={"idempotency-key": "k"})
    assert r.status == 201 and shop.call("GET", "/api/orders", who=me).body["items"][0]["orderId"] == r.body["orderId"]


def test_order_lifecycle_and_ownership(shop):
    me, other, admin = shop.user("a@example.com"), shop.user("b@example.com"), shop.user("adm@example.com", admin=True)
    shop.call("PUT", "/api/cart/items/b2", {"quantity": 4}, who=me)
    oid = shop.call("POST", "/api/orders", ADDRESS, who=me, headers={"idempotency-key": "k"}).body["orderId"]
    assert shop.call("GET", f"/api/orders/{oid}", who=other).status == 404
    assert shop.call("POST", f"/api/orders/{oid}/cancel", who=other).status == 404
    set_status = lambda s: shop.call("PUT", f"/api/admin/orders/{oid}/status", {"status": s}, who=admin)  # noqa: E731
    assert set_status("DELIVERED").status == 409
    assert set_status("PAID").body["status"] == "PAID"
    assert shop.call("GET", "/api/admin/orders", query={"status": "PAID"}, who=admin).body["items"][0]["orderId"] == oid
    assert shop.call("POST", f"/api/orders/{oid}/cancel", who=me).body["status"] == "CANCELLED"
    assert shop.services.store.get_product("b2").stock == 10
    assert set_status("SHIPPED").status == 409
    subjects = [m["subject"] for m in shop.services.notifier.outbox]
    assert any("cancelled" in s for s in subjects) and any("is paid" in s for s in subjects)


def test_admin_products_and_images(shop):
    admin = shop.user("adm@example.com", admin=True)
    body = {"name": "New Thing", "description": "", "category": "books", "price": 1234, "currency": "USD", "stock": 3}
    created = shop.call("POST", "/api/admin/products", body, who=admin)
    assert created.status == 201
    pid = created.body["productId"]
    assert shop.call("PUT", f"/api/admin/products/{pid}", {**body, "stock": 99, "price": 50}, who=admin).body == {
        **created.body, "price": 50}
    assert shop.call("PUT", f"/api/admin/products/{pid}/stock", {"stock": 7}, who=admin).body["stock"] == 7
    up = shop.call("POST", f"/api/admin/products/{pid}/image", {"contentType": "image/png"}, who=admin).body
    assert up["imageUrl"].startswith("/media/products/") and shop.call("GET", f"/api/products/{pid}").body[
        "imageUrl"] == up["imageUrl"]
    assert shop.call("POST", f"/api/admin/products/{pid}/image", {"contentType": "text/html"}, who=admin).status == 422
    assert shop.call("POST", "/api/admin/products", {**body, "price": 1.5}, who=admin).status == 422
    assert shop.call("DELETE", f"/api/admin/products/{pid}", who=admin).status == 200
    assert shop.call("DELETE", f"/api/admin/products/{pid}", who=admin).status == 404


def test_concurrent_checkouts_on_the_memory_store(shop):
    users = [shop.user(f"u{i}@example.com") for i in range(20)]
    shop.services.store.set_stock("b2", 5)
    for u in users:
        shop.call("PUT", "/api/cart/items/b2", {"quantity": 1}, who=u)
    codes = []
    threads = [threading.Thread(target=lambda u=u: codes.append(
        shop.call("POST", "/api/orders", ADDRESS, who=u, headers={"idempotency-key": "k"}).status)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] * 5 + [409] * 15 and shop.services.store.get_product("b2").stock == 0


def test_openapi_documents_every_route(shop):
    doc = shop.call("GET", "/api/openapi.json").body
    assert doc == build()
    for r in ROUTES:
        op = doc["paths"][r.path][r.method.lower()]
        assert op["operationId"] == r.operation_id
        assert (op["security"] == []) == (r.auth == "public"), r.route_key
