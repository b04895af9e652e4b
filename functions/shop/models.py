"""API models: the JSON contract (camelCase) for requests and responses.

Inputs are strict: unknown fields are rejected, integers must be JSON integers (no
floats, strings or booleans), strings are bounded. The route table names these classes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pydantic.alias_generators import to_camel

from . import ports
from .datamodel import MAX_LINE_QUANTITY
from .push import MAX_TOKEN_LENGTH, TOKEN_PATTERN

# Deliberately simple (no extra package): one @, no spaces, a dot in the domain. The
# identity provider is the final judge; this only keeps garbage away from it.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"
# Single-line text: no control characters (they end up in e-mails, logs and HTML).
LINE = r"^[^\x00-\x1f\x7f]*$"
# Multi-line text: tabs and newlines allowed, other control characters not.
MULTILINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
SLUG = r"^[a-z0-9][a-z0-9-]*$"

Cents = Annotated[StrictInt, Field(ge=0, le=100_000_000, description="integer minor units (cents)")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, upper case")]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=LINE)]
Quantity = Annotated[StrictInt, Field(ge=0, le=MAX_LINE_QUANTITY)]
StockLevel = Annotated[StrictInt, Field(ge=0, le=1_000_000)]


# defer_build: a model's validator is built on its first use, not at import, so a cold
# start pays only for the two or three models its request touches.


class _In(BaseModel):
    model_config = ConfigDict(
        defer_build=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, str_strip_whitespace=True
    )


class _Out(BaseModel):
    # Responses always carry every field (null when empty): say so in the JSON schema.
    model_config = ConfigDict(
        defer_build=True,
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_serialization_defaults_required=True,
    )


# --- accounts ---------------------------------------------------------------


class SignUpRequest(_In):
    email: Email
    password: Annotated[str, Field(min_length=8, max_length=256)]


class SignUpResponse(_Out):
    """The same answer whether or not the address already has an account (no enumeration)."""

    status: str  # "pending": a code was e-mailed (or the account exists); sign in after confirming
    confirmed: bool  # true only where the stack confirms sign-ups itself (local)


class ConfirmRequest(_In):
    email: Email
    code: Annotated[str, Field(min_length=1, max_length=16, pattern=LINE)]


DeviceData = Annotated[
    str | None,
    Field(max_length=16384, pattern=LINE, description="Cognito advanced-security EncodedData, passed on as is"),
]


class LoginRequest(_In):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=256)]
    device_data: DeviceData = None


class ChallengeResponse(_Out):
    challenge: str  # SOFTWARE_TOKEN_MFA | MFA_SETUP
    session: str


class MfaRequest(_In):
    email: Email
    session: Annotated[str, Field(min_length=20, max_length=8192, pattern=LINE)]
    code: Annotated[str, Field(pattern=r"^[0-9]{6,8}$")]
    device_data: DeviceData = None


class MfaSetupResponse(_Out):
    secret_code: str  # base32 key to type into the authenticator app
    otpauth_uri: str  # the same as an otpauth:// URI (what a QR code would hold)
    session: str | None  # send back with the first code (Identity Platform)


class MfaVerifyRequest(_In):
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    session: Annotated[str | None, Field(max_length=8192)] = None


class RefreshRequest(_In):
    refresh_token: Annotated[str, Field(min_length=1, max_length=8192)]


class TokensResponse(_Out):
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int


class MeResponse(_Out):
    user_id: str
    email: str
    groups: list[str]


# --- push devices -------------------------------------------------------------

DeviceToken = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH, pattern=TOKEN_PATTERN)]


class RegisterDeviceRequest(_In):
    token: DeviceToken = Field(description="the device's FCM registration token")
    platform: Literal["android", "ios", "web"]


class DeviceOut(_Out):
    token: str
    platform: str
    registered_at: str


class DeviceList(_Out):
    items: list[DeviceOut]


class StatusResponse(_Out):
    status: str


class HealthResponse(_Out):
    status: str
    cloud: str


# --- catalog ------------------------------------------------------------------


class CategoryOut(_Out):
    model_config = ConfigDict(title="Category")  # its name in the OpenAPI document

    category_id: str
    name: str


class CategoryList(_Out):
    items: list[CategoryOut]


class ProductOut(_Out):
    model_config = ConfigDict(title="Product")  # its name in the OpenAPI document

    product_id: str
    name: str
    description: str
    category: str
    price: int
    currency: str
    stock: int
    image_url: str | None = None

    @classmethod
    def of(cls, p: ports.Product) -> ProductOut:
        return cls(
            product_id=p.product_id,
            name=p.name,
            description=p.description,
            category=p.category,
            price=p.price,
            currency=p.currency,
            stock=p.stock,
            image_url=p.image_url,
        )


class ProductList(_Out):
    items: list[ProductOut]
    next_cursor: str | None


# --- cart -----------------------------------------------------------------------


class CartItem(_Out):
    product_id: str
    name: str
    unit_price: int
    quantity: int
    line_total: int
    stock: int


class Cart(_Out):
    items: list[CartItem]
    subtotal: int
    currency: str


class SetCartItemRequest(_In):
    quantity: Quantity


class GuestCartItem(_In):
    product_id: Annotated[str, Field(min_length=1, max_length=64, pattern=LINE)]
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_LINE_QUANTITY)]


class MergeCartRequest(_In):
    items: Annotated[list[GuestCartItem], Field(max_length=100)] = Field(
        description="the guest cart kept by the storefront; a product named twice counts once with the sum"
    )


class CartAdjustment(_Out):
    product_id: str
    requested: int
    added: int
    reason: Literal["STOCK", "LINE_QUANTITY_LIMIT", "CART_FULL", "UNKNOWN_PRODUCT"] = Field(
        description="STOCK: capped at what is in stock; LINE_QUANTITY_LIMIT: capped at the most one line "
        "holds; CART_FULL: the cart already holds the most different products; UNKNOWN_PRODUCT: no such "
        "product (skipped)"
    )


class MergedCart(Cart):
    adjusted: list[CartAdjustment] = Field(description="every guest line not added in full, and why")


# --- orders ---------------------------------------------------------------------


class ShippingAddress(_In):
    name: Text
    line1: Text
    line2: Annotated[str, Field(max_length=200, pattern=LINE)] | None = None
    city: Text
    region: Annotated[str, Field(max_length=100, pattern=LINE)] | None = Field(
        None,
        description="state / province / prefecture: required in US, CA, AU, BR, MX, IN, JP, CN "
        "(functions/shop/addresses.py REGION_REQUIRED)",
    )
    postal_code: Annotated[str, Field(min_length=1, max_length=20, pattern=LINE)] = Field(
        description="checked against the national format in US (5 or 9 digits), CA and GB"
    )
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, upper case")]
    phone: Annotated[str, Field(max_length=32, pattern=r"^\+?[0-9][0-9 ().-]{3,30}$")] | None = Field(
        None, description="for the carrier: digits, spaces, ( ) . - and an optional leading +"
    )

    def to_port(self) -> ports.Address:
        return ports.Address(
            name=self.name,
            line1=self.line1,
            line2=self.line2 or None,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
            region=self.region or None,
            phone=self.phone or None,
        )


class PlaceOrderRequest(_In):
    shipping_address: ShippingAddress


class OrderItem(_Out):
    product_id: str
    name: str
    unit_price: int
    quantity: int
    line_total: int


class AddressOut(_Out):
    name: str
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str
    phone: str | None = None


class OrderCustomer(_Out):
    """Whose order it is and where it goes (admin views only)."""

    email: str | None = Field(description="the customer's e-mail at checkout (null if the token had none)")
    name: str = Field(description="the ship-to name")
    city: str = Field(description="ship-to city")
    region: str | None = Field(None, description="ship-to state / province, where the country uses one")
    country: str = Field(description="ship-to country, ISO 3166-1 alpha-2")


class OrderOut(_Out):
    model_config = ConfigDict(title="Order")  # its name in the OpenAPI document

    order_id: str
    status: str
    items: list[OrderItem]
    total: int
    currency: str
    created_at: str
    updated_at: str
    shipping_address: AddressOut
    user_id: str | None = None  # filled for admin views
    customer: OrderCustomer | None = Field(None, description="admin views only: whose order it is and where it goes")

    @classmethod
    def of(cls, o: ports.Order, *, admin: bool = False) -> OrderOut:
        a = o.shipping_address
        return cls(
            order_id=o.order_id,
            status=o.status,
            items=[
                OrderItem(
                    product_id=li.product_id,
                    name=li.name,
                    unit_price=li.unit_price,
                    quantity=li.quantity,
                    line_total=li.line_total,
                )
                for li in o.lines
            ],
            total=o.total,
            currency=o.currency,
            created_at=o.created_at,
            updated_at=o.updated_at,
            shipping_address=AddressOut(
                name=a.name,
                line1=a.line1,
                line2=a.line2,
                city=a.city,
                region=a.region,
                postal_code=a.postal_code,
                country=a.country,
                phone=a.phone,
            ),
            user_id=o.user_id if admin else None,
            customer=OrderCustomer(email=o.email, name=a.name, city=a.city, region=a.region, country=a.country)
            if admin
            else None,
        )


class OrderList(_Out):
    items: list[OrderOut]
    next_cursor: str | None


# --- payments ---------------------------------------------------------------------


class PayRequest(_In):
    test_card: Annotated[str, Field(min_length=12, max_length=23, pattern=r"^[0-9 ]+$")] | None = Field(
        None,
        description="simulated processor only (make dev): a test card to pay with, e.g. 4242 4242 4242 4242; "
        "with Stripe the browser confirms the payment with Stripe.js and the clientSecret",
    )
    complete_action: bool | None = Field(
        None, description="simulated processor only: pass (true) or fail (false) the extra confirmation step"
    )


class PaymentResponse(_Out):
    payment_id: str
    order_id: str
    amount: int
    currency: str
    status: Literal["requires_payment_method", "requires_action", "succeeded", "declined"]
    client_secret: str | None
    decline_reason: str | None = Field(description="why the card was declined (card_declined, ...)")
    order_status: str = Field(description="PAID once the processor's verified event arrived")


# --- admin ------------------------------------------------------------------------


class ProductInput(_In):
    # Create: generated from the name unless given. Update: must match the path if given.
    product_id: Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG)] | None = None
    name: Text
    description: Annotated[str, Field(max_length=2000, pattern=MULTILINE)] = ""
    category: Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG)]
    price: Cents
    currency: Currency
    stock: StockLevel = Field(0, description="used on create only; the stock route changes it later")
    image_url: Annotated[str, Field(max_length=1024, pattern=r"^(https?://|/)[^\s]*$")] | None = None


class StockInput(_In):
    stock: StockLevel


class ImageUploadRequest(_In):
    content_type: Literal["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"]  # datamodel.IMAGE_TYPES


class ImageUploadResponse(_Out):
    upload_url: str
    upload_method: Literal["POST", "PUT"] = Field(
        description="POST: multipart/form-data of uploadFields, then the file as the field 'file'; "
        "PUT: the file as the body, with uploadHeaders"
    )
    upload_fields: dict[str, str]
    upload_headers: dict[str, str]
    image_url: str
    content_type: str
    max_bytes: int


class OrderStatusInput(_In):
    status: Literal["PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]  # ports.ORDER_STATUSES


class ErrorBody(_Out):
    code: str
    message: str


class Error(_Out):
    error: ErrorBody
