"""Reference apps for the comparisons: the same product-list route in FastAPI behind Mangum
and in AWS Lambda Powertools' APIGatewayHttpResolver."""

from __future__ import annotations

PRODUCTS = [
    {
        "productId": f"p{i}",
        "name": f"Product {i}",
        "description": "d",
        "category": "books",
        "price": 1000 + i,
        "currency": "USD",
        "stock": 5,
        "imageUrl": None,
    }
    for i in range(20)
]


def fastapi_handler():
    from fastapi import FastAPI
    from mangum import Mangum
    from pydantic import BaseModel

    app = FastAPI()

    class Address(BaseModel):
        name: str
        line1: str
        city: str
        postalCode: str
        country: str

    class Body(BaseModel):
        shippingAddress: Address

    @app.get("/api/products")
    def products():
        return {"items": PRODUCTS, "nextCursor": None}

    @app.post("/api/orders", status_code=201)
    def orders(body: Body):
        return {
            "orderId": "o1",
            "status": "PLACED",
            "total": 1000,
            "shippingAddress": body.shippingAddress.model_dump(),
        }

    return Mangum(app, lifespan="off")


def powertools_handler():
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    app = APIGatewayHttpResolver()

    @app.get("/api/products")
    def products():
        return {"items": PRODUCTS, "nextCursor": None}

    @app.post("/api/orders")
    def orders():
        body = app.current_event.json_body
        return {"orderId": "o1", "status": "PLACED", "total": 1000, "shippingAddress": body["shippingAddress"]}

    return lambda event, context=None: app.resolve(event, context)
