"""A browse/cart/checkout mix of shoppers with think time (`make bench` runs it headless
against a local stack; point --host at any deployment to load that instead)."""

from __future__ import annotations

import os
import random
import uuid

from locust import HttpUser, between, task

ADDRESS = {"shippingAddress": {"name": "Load Tester", "line1": "1 Bench St", "city": "Loopback",
                               "postalCode": "12345", "country": "US"}}
CATEGORIES = ["books", "kitchen", "outdoor", "electronics", "home", "toys"]


class Shopper(HttpUser):
    wait_time = between(*(float(x) for x in os.environ.get("BENCH_THINK", "1,5").split(",")))

    def on_start(self):
        email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.client.post("/api/auth/signup", json={"email": email, "password": "Load-test-123!"}, name="signup")
        r = self.client.post("/api/auth/login", json={"email": email, "password": "Load-test-123!"}, name="login")
        self.auth = {"Authorization": "Bearer " + r.json().get("accessToken", "")} if r.ok else {}
        self.products: list[str] = []

    @task(6)
    def browse(self):
        r = self.client.get("/api/products", params={"category": random.choice(CATEGORIES), "limit": 12},
                            name="GET /api/products")
        if r.ok:
            self.products = [p["productId"] for p in r.json()["items"] if p["stock"] > 0] or self.products

    @task(2)
    def product(self):
        if self.products:
            self.client.get(f"/api/products/{random.choice(self.products)}", name="GET /api/products/{id}")

    @task(3)
    def add_to_cart(self):
        if self.products and self.auth:
            self.client.put(f"/api/cart/items/{random.choice(self.products)}", json={"quantity": 1},
                            headers=self.auth, name="PUT /api/cart/items/{id}")

    @task(1)
    def checkout(self):
        if not self.auth:
            return
        with self.client.post("/api/orders", json=ADDRESS, headers={**self.auth, "Idempotency-Key": uuid.uuid4().hex},
                              name="POST /api/orders", catch_response=True) as r:
            # sold out or an empty cart are correct answers under load, not failures
            if r.status_code in (201, 409):
                r.success()
