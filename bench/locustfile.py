"""A browse/cart/checkout mix of shoppers with think time (`make bench` runs it headless
against a local stack; point --host at any deployment to load that instead).

Shoppers browse anonymously and sign up + sign in when they first add to the cart, as on
the storefront: sign-ups spread over the run instead of all landing in the ramp-up.
BENCH_THINK="min,max" sets the think time in seconds (default 1,5)."""

from __future__ import annotations

import os
import random
import uuid

from locust import HttpUser, between, task

ADDRESS = {"shippingAddress": {"name": "Load Tester", "line1": "1 Bench St", "city": "Loopback", "region": "IL",
                               "postalCode": "12345", "country": "US"}}  # fmt: skip
CATEGORIES = ["books", "kitchen", "outdoor", "electronics", "home", "toys"]
THINK = tuple(float(x) for x in os.environ.get("BENCH_THINK", "1,5").split(","))


class Shopper(HttpUser):
    wait_time = between(*THINK)

    def on_start(self):
        self.auth: dict[str, str] | None = None
        self.products: list[str] = []

    def signed_in(self) -> bool:
        if self.auth is None:
            email = f"load-{uuid.uuid4().hex[:12]}@example.com"
            body = {"email": email, "password": "Load-test-123!"}
            self.client.post("/api/auth/signup", json=body, name="signup")
            r = self.client.post("/api/auth/login", json=body, name="login")
            self.auth = {"Authorization": "Bearer " + r.json().get("accessToken", "")} if r.ok else {}
        return bool(self.auth)

    @task(6)
    def browse(self):
        r = self.client.get("/api/products", params={"category": random.choice(CATEGORIES), "limit": 12},
                            name="GET /api/products")  # fmt: skip
        if r.ok:
            self.products = [p["productId"] for p in r.json()["items"] if p["stock"] > 0] or self.products

    @task(2)
    def product(self):
        if self.products:
            self.client.get(f"/api/products/{random.choice(self.products)}", name="GET /api/products/{id}")

    @task(3)
    def add_to_cart(self):
        if self.products and self.signed_in():
            self.client.put(f"/api/cart/items/{random.choice(self.products)}", json={"quantity": 1},
                            headers=self.auth, name="PUT /api/cart/items/{id}")  # fmt: skip

    @task(1)
    def checkout(self):
        if self.auth is None:  # nothing in the cart yet
            return
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        with self.client.post("/api/orders", json=ADDRESS, headers=headers, name="POST /api/orders",
                              catch_response=True) as r:  # fmt: skip
            # sold out or an empty cart are correct answers under load, not failures
            if r.status_code in (201, 409):
                r.success()
