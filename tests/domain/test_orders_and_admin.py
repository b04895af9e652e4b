"""My orders, cancelling, the admin's catalog and order management."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from functions.shop import ports

PRODUCT = {
    "name": "Desk Lamp!",
    "description": "Warm light",
    "category": "home",
    "price": 1500,
    "currency": "USD",
    "stock": 4,
}


# --- my orders -----------------------------------------------------------------------


def test_my_orders_paginate_newest_first(shop, customer):
    ids = [shop.order(customer, {"b2": 1}, key=f"k{i}")["orderId"] for i in range(5)]
    first = shop.ok("GET", "/api/orders", who=customer, query={"limit": "2"})
    assert [o["orderId"] for o in first["items"]] == [ids[4], ids[3]]
    rest = []
    cursor = first["nextCursor"]
    while cursor:
        page = shop.ok("GET", "/api/orders", who=customer, query={"limit": "2", "cursor": cursor})
        rest += [o["orderId"] for o in page["items"]]
        cursor = page["nextCursor"]
    assert rest == [ids[2], ids[1], ids[0]]
    shop.fails("GET", "/api/orders", who=customer, query={"limit": "500"}, status=400)


def test_another_customers_order_does_not_exist_for_me(shop, customer, other):
    oid = shop.order(customer, {"b1": 1})["orderId"]
    assert shop.ok("GET", f"/api/orders/{oid}", who=customer)["orderId"] == oid
    shop.fails("GET", f"/api/orders/{oid}", who=other, status=404, code="NOT_FOUND")
    shop.fails("POST", f"/api/orders/{oid}/cancel", who=other, status=404, code="NOT_FOUND")
    assert shop.ok("GET", "/api/orders", who=other)["items"] == []
    assert shop.store.find_order(oid).status == "PLACED" and shop.stock("b1") == 2


def test_cancelling_restocks_and_notifies(shop, customer):
    order = shop.order(customer, {"b1": 2, "b2": 1})
    cancelled = shop.ok("POST", f"/api/orders/{order['orderId']}/cancel", who=customer)
    assert cancelled["status"] == "CANCELLED"
    assert (shop.stock("b1"), shop.stock("b2")) == (3, 10)
    assert [e.type for e in shop.notifier.events] == ["OrderPlaced", "OrderCancelled"]
    assert "cancelled" in shop.notifier.outbox[-1]["subject"]
    # twice: refused, and no second restock
    shop.fails("POST", f"/api/orders/{order['orderId']}/cancel", who=customer, status=409, code="NOT_CANCELLABLE")
    assert shop.stock("b1") == 3


def test_a_paid_order_can_be_cancelled_a_shipped_one_cannot(shop, customer, admin):
    paid = shop.order(customer, {"b2": 1}, key="a")["orderId"]
    shipped = shop.order(customer, {"b2": 1}, key="b")["orderId"]
    for status in ("PAID", "SHIPPED"):
        shop.ok("PUT", f"/api/admin/orders/{shipped}/status", {"status": status}, who=admin)
    shop.ok("PUT", f"/api/admin/orders/{paid}/status", {"status": "PAID"}, who=admin)
    assert shop.ok("POST", f"/api/orders/{paid}/cancel", who=customer)["status"] == "CANCELLED"
    err = shop.fails("POST", f"/api/orders/{shipped}/cancel", who=customer, status=409, code="NOT_CANCELLABLE")
    assert "SHIPPED" in err["message"]
    assert shop.stock("b2") == 9


def test_a_lost_race_is_a_409_conflict(shop, customer):
    order = shop.store.find_order(shop.order(customer, {"b2": 1})["orderId"])
    shop.store.transition_order(order, "PAID", restock=False)  # someone else moved it meanwhile
    real_get = shop.store.get_order
    shop.store.get_order = lambda user_id, order_id: order  # the handler read the old status
    err = shop.fails("POST", f"/api/orders/{order.order_id}/cancel", who=customer, status=409, code="CONFLICT")
    assert err["message"]
    shop.store.get_order = real_get
    assert shop.stock("b2") == 9, "a stale cancel restocked"


# --- admin: orders ----------------------------------------------------------------------


def test_the_status_lifecycle_with_an_email_at_each_step(shop, customer, admin):
    oid = shop.order(customer, {"b1": 1})["orderId"]
    for status in ("PAID", "SHIPPED", "DELIVERED"):
        body = shop.ok("PUT", f"/api/admin/orders/{oid}/status", {"status": status}, who=admin)
        assert body["status"] == status and body["userId"] == customer.user_id
    assert [e.status for e in shop.notifier.events] == ["PLACED", "PAID", "SHIPPED", "DELIVERED"]
    subjects = [m["subject"] for m in shop.notifier.outbox]
    assert [s.split(oid)[1].strip() for s in subjects] == ["was placed", "is paid", "has shipped", "was delivered"]
    assert shop.stock("b1") == 2


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((), "SHIPPED"),
        ((), "DELIVERED"),
        (("PAID", "SHIPPED"), "CANCELLED"),
        (("CANCELLED",), "PAID"),
        (("PAID", "SHIPPED", "DELIVERED"), "PLACED"),
    ],
)
def test_invalid_transitions_are_refused(shop, customer, admin, path, target):
    oid = shop.order(customer, {"b1": 1})["orderId"]
    for status in path:
        shop.ok("PUT", f"/api/admin/orders/{oid}/status", {"status": status}, who=admin)
    before = shop.store.find_order(oid)
    err = shop.fails(
        "PUT", f"/api/admin/orders/{oid}/status", {"status": target}, who=admin, status=409, code="INVALID_TRANSITION"
    )
    assert before.status in err["message"] and target in err["message"]
    assert shop.store.find_order(oid) == before


def test_setting_the_current_status_again_is_a_no_op(shop, customer, admin):
    oid = shop.order(customer, {"b1": 1})["orderId"]
    shop.ok("PUT", f"/api/admin/orders/{oid}/status", {"status": "PAID"}, who=admin)
    assert shop.ok("PUT", f"/api/admin/orders/{oid}/status", {"status": "PAID"}, who=admin)["status"] == "PAID"
    assert [e.status for e in shop.notifier.events] == ["PLACED", "PAID"]


def test_an_admin_cancel_restocks(shop, customer, admin):
    oid = shop.order(customer, {"b1": 3})["orderId"]
    assert shop.stock("b1") == 0
    shop.ok("PUT", f"/api/admin/orders/{oid}/status", {"status": "CANCELLED"}, who=admin)
    assert shop.stock("b1") == 3 and shop.notifier.events[-1].type == "OrderCancelled"


def test_admin_lists_orders_by_status(shop, customer, other, admin):
    a = shop.order(customer, {"b2": 1})["orderId"]
    b = shop.order(other, {"b2": 1})["orderId"]
    shop.ok("PUT", f"/api/admin/orders/{a}/status", {"status": "PAID"}, who=admin)
    placed = shop.ok("GET", "/api/admin/orders", who=admin, query={"status": "PLACED"})
    assert [o["orderId"] for o in placed["items"]] == [b] and placed["items"][0]["userId"] == other.user_id
    assert [
        o["orderId"] for o in shop.ok("GET", "/api/admin/orders", who=admin, query={"status": "paid"})["items"]
    ] == [a]
    for query in ({}, {"status": "LOST"}, {"status": "PAID", "limit": "0"}):
        shop.fails("GET", "/api/admin/orders", who=admin, query=query, status=400, code="BAD_REQUEST")


def test_the_admin_list_says_whose_order_it_is_and_where_it_goes(shop, customer, admin):
    shop.fill(customer, {"b2": 1})
    us = {"name": "Abe Lincoln", "line1": "8th St", "city": "Springfield", "region": "IL", "postalCode": "62704"}
    assert shop.checkout(customer, body={"shippingAddress": {**us, "country": "US"}}).status == 201
    listed = shop.ok("GET", "/api/admin/orders", who=admin, query={"status": "PLACED"})["items"][0]
    assert listed["customer"] == {
        "email": "c@example.com",
        "name": "Abe Lincoln",
        "city": "Springfield",
        "region": "IL",
        "country": "US",
    }, listed
    mine = shop.ok("GET", "/api/orders", who=customer)["items"][0]
    assert mine["customer"] is None and mine["userId"] is None, "customer views must not carry the admin fields"


def test_admin_status_of_an_unknown_order_is_404(shop, admin):
    shop.fails("PUT", "/api/admin/orders/nope/status", {"status": "PAID"}, who=admin, status=404)


# --- admin: catalog ----------------------------------------------------------------------


def test_create_generates_a_readable_unique_id(shop, admin):
    a = shop.ok("POST", "/api/admin/products", PRODUCT, who=admin, status=201)
    b = shop.ok("POST", "/api/admin/products", PRODUCT, who=admin, status=201)
    assert re.fullmatch(r"desk-lamp-[0-9a-f]{6}", a["productId"]) and a["productId"] != b["productId"]
    assert {k: a[k] for k in PRODUCT} == PRODUCT and a["imageUrl"] is None
    assert shop.ok("GET", f"/api/products/{a['productId']}") == a


def test_create_with_a_chosen_id_and_its_conflict(shop, admin):
    assert (
        shop.ok("POST", "/api/admin/products", {**PRODUCT, "productId": "lamp-1"}, who=admin, status=201)["productId"]
        == "lamp-1"
    )
    shop.fails(
        "POST", "/api/admin/products", {**PRODUCT, "productId": "lamp-1"}, who=admin, status=409, code="ALREADY_EXISTS"
    )


def test_a_new_category_appears_in_the_category_list(shop, admin):
    shop.ok("POST", "/api/admin/products", {**PRODUCT, "category": "garden-tools"}, who=admin, status=201)
    cats = shop.ok("GET", "/api/categories")["items"]
    assert {"categoryId": "garden-tools", "name": "Garden Tools"} in cats
    assert {"categoryId": "books", "name": "Books"} in cats, "an existing category was renamed"


def test_products_must_be_in_the_shop_currency(shop, admin):
    err = shop.fails("POST", "/api/admin/products", {**PRODUCT, "currency": "EUR"}, who=admin, status=422)
    assert err["details"] == [{"field": "currency", "message": "this shop sells in USD"}]
    shop.fails("PUT", "/api/admin/products/b1", {**PRODUCT, "currency": "EUR"}, who=admin, status=422)
    assert shop.store.get_product("b1").currency == "USD"


def test_update_replaces_fields_but_keeps_stock_and_image(shop, admin):
    shop.store.update_product(ports.Product("b1", "Book b1", "d", "books", 4500, "USD", 3, "/media/b1.png"))
    updated = shop.ok("PUT", "/api/admin/products/b1", {**PRODUCT, "stock": 99}, who=admin)
    assert updated["name"] == "Desk Lamp!" and updated["price"] == 1500
    assert updated["stock"] == 3, "an update overwrote stock"
    assert updated["imageUrl"] == "/media/b1.png", "an update without imageUrl dropped the image"
    shop.fails("PUT", "/api/admin/products/b1", {**PRODUCT, "productId": "b2"}, who=admin, status=422)
    shop.fails("PUT", "/api/admin/products/nope", PRODUCT, who=admin, status=404)


def test_set_stock_and_delete(shop, admin):
    assert shop.ok("PUT", "/api/admin/products/b3/stock", {"stock": 12}, who=admin)["stock"] == 12
    shop.fails("PUT", "/api/admin/products/b3/stock", {"stock": -1}, who=admin, status=422)
    shop.fails("PUT", "/api/admin/products/nope/stock", {"stock": 1}, who=admin, status=404)
    assert shop.ok("DELETE", "/api/admin/products/b3", who=admin) == {"status": "deleted"}
    shop.fails("GET", "/api/products/b3", status=404)
    shop.fails("DELETE", "/api/admin/products/b3", who=admin, status=404)


def test_image_upload_signs_a_fresh_key_and_points_the_product_at_it(shop, admin):
    up = shop.ok("POST", "/api/admin/products/b1/image", {"contentType": "image/webp"}, who=admin)
    assert re.fullmatch(r"/media/products/b1/[0-9a-f]{32}\.webp", up["imageUrl"]), up
    key = up["imageUrl"].removeprefix("/media/")
    assert (up["uploadMethod"], up["uploadUrl"], up["uploadHeaders"]) == ("POST", "https://uploads.invalid/", {})
    assert up["uploadFields"] == {
        "key": key,
        "Content-Type": "image/webp",
        "max-bytes": str(5 * 1024 * 1024),
        "expires": "300",
    }, "the form must be signed for this key, type, the size cap and a short lifetime"
    assert up["maxBytes"] == 5 * 1024 * 1024 and up["contentType"] == "image/webp"
    assert shop.ok("GET", "/api/products/b1")["imageUrl"] == up["imageUrl"]
    assert shop.stock("b1") == 3
    again = shop.ok("POST", "/api/admin/products/b1/image", {"contentType": "image/avif"}, who=admin)
    assert again["imageUrl"].endswith(".avif") and again["imageUrl"] != up["imageUrl"]
    for refused in ("text/html", "image/svg+xml"):
        shop.fails("POST", "/api/admin/products/b1/image", {"contentType": refused}, who=admin, status=422)
    shop.fails("POST", "/api/admin/products/nope/image", {"contentType": "image/png"}, who=admin, status=404)


# --- accounts ----------------------------------------------------------------------------


def test_sign_up_log_in_refresh_and_me(shop):
    assert shop.ok("POST", "/api/auth/signup", {"email": "new@example.com", "password": "password123"}, status=202) == {
        "status": "pending",
        "confirmed": True,
    }
    tokens = shop.ok("POST", "/api/auth/login", {"email": "new@example.com", "password": "password123"})
    assert set(tokens) == {"idToken", "accessToken", "refreshToken", "expiresIn"} and tokens["expiresIn"] > 0
    refreshed = shop.ok("POST", "/api/auth/refresh", {"refreshToken": tokens["refreshToken"]})
    assert refreshed["accessToken"] != tokens["accessToken"]
    who = shop.services.identity.principal_for(refreshed["accessToken"])
    me = shop.ok("GET", "/api/me", who=who)
    assert me == {"userId": who.user_id, "email": "new@example.com", "groups": []}


def test_account_errors(shop):
    creds = {"email": "dup@example.com", "password": "password123"}
    shop.ok("POST", "/api/auth/signup", creds, status=202)
    shop.fails("POST", "/api/auth/login", {**creds, "password": "wrong-password"}, status=401, code="NOT_AUTHORIZED")
    shop.fails("POST", "/api/auth/refresh", {"refreshToken": "forged"}, status=401, code="NOT_AUTHORIZED")
    shop.fails("POST", "/api/auth/signup", {"email": "x@example.com", "password": "short"}, status=422)
    shop.fails("POST", "/api/auth/signup", {"email": "x@example.com"}, status=422)


def test_confirmation_is_needed_where_the_identity_provider_asks_for_it(shop):
    shop.services.identity.auto_confirm = False
    creds = {"email": "slow@example.com", "password": "password123"}
    assert shop.ok("POST", "/api/auth/signup", creds, status=202)["confirmed"] is False
    shop.fails("POST", "/api/auth/login", creds, status=403, code="USER_NOT_CONFIRMED")
    shop.fails("POST", "/api/auth/confirm", {"email": creds["email"], "code": "000000"}, status=400)
    assert shop.ok("POST", "/api/auth/confirm", {"email": creds["email"], "code": "123456"}) == {"status": "confirmed"}
    assert shop.ok("POST", "/api/auth/login", creds)["accessToken"]


def test_me_shows_the_admin_group(shop, admin):
    assert shop.ok("GET", "/api/me", who=admin)["groups"] == ["admin"]


def test_the_admin_list_asks_the_identity_service_for_an_email_the_token_lacked(shop, customer, admin):
    """Cognito's access tokens carry no e-mail, so the order records none: the admin list looks
    the customer's verified address up, once per customer on the page."""
    tokenless = replace(customer, email=None)
    first = shop.order(tokenless, {"b2": 1}, key="k-1")["orderId"]
    second = shop.order(tokenless, {"b2": 1}, key="k-2")["orderId"]
    asked: list[str] = []
    real = shop.services.identity.lookup_email

    def counting(user_id: str) -> str | None:
        asked.append(user_id)
        return real(user_id)

    shop.services.identity.lookup_email = counting
    listed = shop.ok("GET", "/api/admin/orders", who=admin, query={"status": "PLACED"})["items"]
    assert {o["orderId"] for o in listed} == {first, second}
    assert {o["customer"]["email"] for o in listed} == {"c@example.com"}, listed
    assert asked == [customer.user_id], f"one look-up per customer on the page, got {asked}"


def test_a_failed_email_look_up_leaves_the_address_out_not_the_list(shop, customer, admin):
    shop.order(replace(customer, email=None), {"b2": 1})

    def down(user_id: str) -> str | None:
        raise ports.IdentityError("IDENTITY_UNAVAILABLE", "the identity service did not answer", 503)

    shop.services.identity.lookup_email = down
    (listed,) = shop.ok("GET", "/api/admin/orders", who=admin, query={"status": "PLACED"})["items"]
    assert listed["customer"]["email"] is None and listed["customer"]["name"], listed
