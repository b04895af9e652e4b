"""Ports: what the domain needs from the outside world, and the records it exchanges.

The domain (catalog, cart, orders, accounts, admin) talks only to these. Each cloud
provides adapters (functions/adapters/): DynamoDB/SNS/SES/Cognito, Cosmos DB, Firestore,
and an in-memory set for tests and local runs. Every store adapter passes the same
contract tests (tests/contract/).

Stdlib only: this module is on every function's cold-start path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from .push import DeviceStore

T = TypeVar("T")

# Order status lifecycle: PLACED -> PAID -> SHIPPED -> DELIVERED, or CANCELLED before SHIPPED.
PLACED, PAID, SHIPPED, DELIVERED, CANCELLED = "PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"
ORDER_STATUSES = (PLACED, PAID, SHIPPED, DELIVERED, CANCELLED)
NEXT_STATUS = {
    PLACED: (PAID, CANCELLED),
    PAID: (SHIPPED, CANCELLED),
    SHIPPED: (DELIVERED,),
    DELIVERED: (),
    CANCELLED: (),
}
CANCELLABLE = (PLACED, PAID)


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    category_id: str
    name: str


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    description: str
    category: str
    price: int  # minor units (cents)
    currency: str  # ISO 4217, upper case
    stock: int
    image_url: str | None = None
    updated_at: str = ""  # ISO 8601 UTC


@dataclass(frozen=True)
class CartLine:
    product_id: str
    quantity: int
    # The catalog entry when the line was last set (stores with `checks_catalog` keep it):
    # checkout can then build the order from the cart alone and let its one transaction
    # verify the catalog still says the same (functions/shop/orders.py).
    name: str | None = None
    unit_price: int | None = None
    currency: str | None = None
    # A fresh token each time the line is set: checkout orders exactly the lines it read,
    # and each version at most once (Order.cart_versions). Not part of equality.
    version: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    line2: str | None = None
    region: str | None = None  # state / province / prefecture, where the country uses one
    phone: str | None = None


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    name: str
    unit_price: int
    quantity: int

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Order:
    order_id: str  # sorts by creation time
    user_id: str
    status: str
    lines: tuple[OrderLine, ...]
    total: int
    currency: str
    created_at: str  # ISO 8601 UTC
    updated_at: str
    shipping_address: Address
    email: str | None = None  # where notifications go, when known at checkout
    idempotency_key: str | None = None
    # (productId, CartLine.version) of the cart lines this order was built from: the store
    # writes the order only if each line still has that version, and deletes the lines in
    # the same atomic write, so one cart becomes at most one order. Not stored.
    cart_versions: tuple[tuple[str, str], ...] = ()


SORTS = ("name", "price", "-price", "newest")


@dataclass(frozen=True)
class Browse:
    """Filters and order of a product listing (besides category and name search)."""

    sort: str = "name"  # one of SORTS; "newest": most recently added or edited first
    min_price: int | None = None  # cents, inclusive
    max_price: int | None = None  # cents, inclusive
    in_stock: bool = False  # only products with stock > 0

    def matches(self, p: Product) -> bool:
        return (
            (self.min_price is None or p.price >= self.min_price)
            and (self.max_price is None or p.price <= self.max_price)
            and (not self.in_stock or p.stock > 0)
        )

    def scope(self) -> str:
        """What a cursor of this listing is bound to, besides the category and search."""
        return f"{self.sort}|{self.min_price}|{self.max_price}|{int(self.in_stock)}"


BROWSE_DEFAULT = Browse()


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None  # opaque; None at the end


@dataclass(frozen=True)
class Principal:
    """The caller, from the gateway-verified token's claims."""

    user_id: str  # the token's `sub`
    groups: tuple[str, ...] = ()
    email: str | None = None  # access tokens usually lack it
    username: str | None = None
    access_token: str | None = None  # for identity calls made on the user's behalf (me)
    # The token says a second factor was used (Entra `amr` has "mfa", Identity Platform
    # `firebase.sign_in_second_factor`); None: the token cannot say (Cognito), ask the service.
    mfa: bool | None = None


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int


# Sign-in challenges (the names Cognito uses; every adapter answers with these).
MFA_CODE = "SOFTWARE_TOKEN_MFA"  # enter the code from the authenticator app
MFA_SETUP = "MFA_SETUP"  # an admin without a second factor: enrol one first


@dataclass(frozen=True)
class Challenge:
    """Sign-in is not finished: answer `name`. For MFA_CODE `session` goes back with the code;
    for MFA_SETUP it is a bearer access token for the enrolment routes (customer level: admin
    routes refuse it until the second factor is on)."""

    name: str
    session: str


@dataclass(frozen=True)
class MfaSecret:
    secret: str  # base32 TOTP key, for the authenticator app
    session: str | None = None  # sent back with the first code where the service needs it (GCP)


@dataclass(frozen=True)
class ClientContext:
    """The signing-in client as the edge saw it, for the identity service's risk checks."""

    ip: str | None = None
    user_agent: str | None = None
    host: str | None = None
    path: str | None = None
    device_data: str | None = None  # Cognito's advanced-security EncodedData, when the client collected it


@dataclass(frozen=True)
class UserInfo:
    user_id: str
    email: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderEvent:
    """Published to the order-events topic; the notifications function consumes it."""

    type: str  # "OrderPlaced" | "OrderStatusChanged" | "OrderCancelled"
    order_id: str
    user_id: str
    status: str
    total: int
    currency: str
    lines: tuple[OrderLine, ...]
    email: str | None = None
    occurred_at: str = ""
    shipping_address: Address | None = None  # shown in the e-mail


@dataclass(frozen=True)
class PlaceOrderResult:
    order: Order
    created: bool  # False: the idempotency key was seen before with the same request


# Payment states a processor reports (Stripe's PaymentIntent statuses, reduced).
PAYMENT_SUCCEEDED, PAYMENT_DECLINED, PAYMENT_REQUIRES_ACTION, PAYMENT_PENDING = (
    "succeeded",
    "declined",
    "requires_action",
    "requires_payment_method",
)


@dataclass(frozen=True)
class Payment:
    """One payment attempt for one order (a Stripe PaymentIntent)."""

    payment_id: str
    order_id: str
    amount: int  # minor units
    currency: str
    status: str  # PAYMENT_*
    client_secret: str | None = None  # what the browser confirms the payment with
    decline_reason: str | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """A processor's verified statement about a payment (a webhook, signature checked)."""

    event_id: str
    type: str  # "payment.succeeded" | "payment.failed"
    payment_id: str
    order_id: str
    user_id: str
    amount: int
    currency: str
    reason: str | None = None  # why a payment failed


# ---------------------------------------------------------------------------
# Errors the ports raise (the API maps them to 4xx/5xx JSON errors)
# ---------------------------------------------------------------------------


class StoreError(Exception):
    """Base class for store failures the domain understands."""


class NotFound(StoreError):
    pass


class AlreadyExists(StoreError):
    pass


@dataclass
class InsufficientStock(StoreError):
    product_ids: list[str] = field(default_factory=list)
    # What is left of each short product, and its name, when the raiser knows them (the
    # domain fills them in before answering: the API names each product and what is left).
    available: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"insufficient stock for {', '.join(self.product_ids)}"

    def explained(self) -> str:
        """ "Not enough stock: Lantern: 3 left; Kettle: sold out"."""
        parts = []
        for pid in self.product_ids:
            left = self.available.get(pid, 0)
            parts.append(f"{self.names.get(pid, pid)}: {f'{left} left' if left > 0 else 'sold out'}")
        return "not enough stock: " + "; ".join(parts)


@dataclass
class IdempotencyConflict(StoreError):
    """The key was used before with a different request."""

    order_id: str = ""


@dataclass
class StaleState(StoreError):
    """A conditional write lost: the item changed (order status, price, cart) since it was read."""

    detail: str = ""


@dataclass
class CartChanged(StoreError):
    """The cart lines an order was built from changed or were ordered already (nothing written)."""

    product_ids: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"the cart changed while checking out: {', '.join(self.product_ids)}"


class Unavailable(StoreError):
    """A transient backend failure (throttling, timeouts, contention): safe to retry."""


class PaymentSignatureError(Exception):
    """A payment event whose signature does not verify (forged, altered or too old)."""


class IdentityError(Exception):
    """Sign-up/sign-in failures with a client-facing code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------


class CatalogStore(Protocol):
    def list_categories(self) -> list[Category]: ...
    def put_category(self, category: Category) -> None: ...
    def list_products(
        self,
        *,
        category: str | None,
        query: str | None,
        limit: int,
        cursor: str | None,
        browse: Browse = BROWSE_DEFAULT,
    ) -> Page[Product]:
        """Products of one category (or all), optionally filtered by a case-insensitive
        substring of the name, in `browse.sort` order (default: by name), filtered by
        `browse`'s price range and stock. ONE database query per page without `query`: a
        page may then hold fewer than `limit` products (filters the index cannot apply are
        applied to the documents the page's query read) and `next_cursor` says whether more
        may follow. Raises ValueError on a cursor this same listing did not issue."""
        ...

    def get_product(self, product_id: str) -> Product | None: ...
    def get_products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        """One round trip for many products; missing ids are absent from the result."""
        ...

    def create_product(self, product: Product) -> None:
        """Raises AlreadyExists."""
        ...

    def update_product(self, product: Product) -> Product:
        """Replace every field but stock (kept as stored). Raises NotFound. Returns the stored product."""
        ...

    def delete_product(self, product_id: str) -> None:
        """Raises NotFound."""
        ...

    def set_stock(self, product_id: str, stock: int) -> Product:
        """Raises NotFound."""
        ...


class CartStore(Protocol):
    def get_cart(self, user_id: str) -> list[CartLine]: ...
    def set_cart_line(self, user_id: str, product_id: str, quantity: int, product: Product | None = None) -> None:
        """quantity 0 removes the line. `product`: the catalog entry just read, kept with the
        line by stores with `checks_catalog` (others ignore it)."""
        ...

    def clear_cart(self, user_id: str) -> None: ...
    def delete_cart_lines(self, user_id: str, product_ids: Sequence[str]) -> None:
        """Delete these lines where present (for stores whose checkout commit cannot)."""
        ...


class OrderStore(Protocol):
    def get_order(self, user_id: str, order_id: str) -> Order | None: ...
    def find_order(self, order_id: str) -> Order | None:
        """Any user's order (admin)."""
        ...

    def list_orders(self, user_id: str, *, limit: int, cursor: str | None) -> Page[Order]:
        """Newest first."""
        ...

    def list_orders_by_status(self, status: str, *, limit: int, cursor: str | None) -> Page[Order]:
        """Newest first."""
        ...


@dataclass(frozen=True)
class IdempotencyRecord:
    """What a checkout's Idempotency-Key is bound to while it lives."""

    order_id: str
    request_hash: str


class IdempotencyStore(Protocol):
    def idempotency_record(self, user_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        """The live record of this key (an expired one counts as absent), or None."""
        ...


# Checkout and restock: the rules live in functions/shop/checkout.py; a store reads the
# state they decide on and commits the plans they make, each in ONE atomic write of its own
# kind (so the rules cannot differ between clouds).


@dataclass(frozen=True)
class StockTake:
    """Take `quantity` of a product, if that much is left. `name` and `unit_price` are
    what the order charges: a store with `checks_catalog` also requires the catalog to
    still say them (and the order's currency)."""

    product_id: str
    quantity: int
    name: str
    unit_price: int


@dataclass(frozen=True)
class CheckoutPlan:
    """One checkout, all or nothing: every take, the order (new id), the idempotency record
    (new key), and the deletion of the ordered cart lines, each line of
    `order.cart_versions` only if it still has that version."""

    order: Order
    request_hash: str
    takes: tuple[StockTake, ...]  # one per product

    @property
    def ordered(self) -> tuple[str, ...]:
        return tuple(t.product_id for t in self.takes)


@dataclass(frozen=True)
class CheckoutState:
    """What a checkout's conditions depend on, as stored now. With `recorded` set the rest
    may be left empty (the key decides). `token`: whatever the store's commit compares
    against (e.g. the versions read), opaque to the rules."""

    recorded: IdempotencyRecord | None
    products: Mapping[str, Product] = field(default_factory=dict)
    cart_versions: Mapping[str, str | None] = field(default_factory=dict)  # product -> line version now
    token: object = None


@dataclass(frozen=True)
class TransitionPlan:
    """Move `order` from its status as read to `new_status`, returning `restock` to the
    products (product -> quantity; only products that still exist)."""

    order: Order
    new_status: str
    updated_at: str
    restock: Mapping[str, int]


@dataclass(frozen=True)
class OrderState:
    """An order's status as stored now (None: no such order) and which of the products a
    transition would restock still exist."""

    status: str | None
    present: frozenset[str] = frozenset()
    token: object = None


@dataclass(frozen=True)
class CommitPolicy:
    """How the rules run a store's conditional commit. `read_first`: read the state, decide,
    then commit against it (a lost race re-reads and decides again); otherwise commit
    blind and read only to explain a loss. A lost race (and, with `retry_unavailable`, a
    transient failure) is tried again, with a jittered pause doubling from `pause_s` up
    to `pause_cap_s`, at most `attempts` times and for at most `budget_s`; then
    Unavailable(`gave_up`)."""

    read_first: bool
    gave_up: str
    attempts: int | None = None
    budget_s: float | None = None
    pause_s: float = 0.0
    pause_cap_s: float = 1.0
    retry_unavailable: bool = False


@dataclass
class LostRace(StoreError):
    """A commit's condition did not hold: nothing was written. `ordered`: cart lines the
    store saw already ordered (a version can become at most one order)."""

    ordered: list[str] = field(default_factory=list)


class CheckoutStore(Protocol):
    """The primitives the checkout and restock rules run on."""

    checks_catalog: bool  # the checkout commit verifies each take's name, price and currency
    cart_in_commit: bool  # the ordered cart lines go in the commit; else deleted right after it

    @property
    def checkout_policy(self) -> CommitPolicy: ...
    @property
    def transition_policy(self) -> CommitPolicy: ...

    def read_checkout(self, plan: CheckoutPlan) -> CheckoutState: ...
    def commit_checkout(self, plan: CheckoutPlan, state: CheckoutState | None) -> None:
        """Everything in `plan` or nothing; raises LostRace when a condition failed."""
        ...

    def read_order_state(self, plan: TransitionPlan) -> OrderState: ...
    def commit_transition(self, plan: TransitionPlan, state: OrderState | None) -> None:
        """The status compare-and-set and the restock, or nothing; raises LostRace."""
        ...


class Store(CatalogStore, CartStore, OrderStore, IdempotencyStore, CheckoutStore, DeviceStore, Protocol):
    """What a store adapter implements; the order methods below come with
    functions.shop.checkout.OrderRules, written once over the primitives."""

    def place_order(self, order: Order, *, request_hash: str) -> PlaceOrderResult:
        """One atomic write: for every line, decrement stock only if enough remains; create
        the order only if (user, order.idempotency_key) is new; delete the ordered cart lines.
        Same key + same request_hash -> PlaceOrderResult(existing, created=False).
        Same key + other hash -> IdempotencyConflict. Not enough stock -> InsufficientStock
        naming every short product (nothing written). Contention -> Unavailable.
        Stores with `checks_catalog = True` also write nothing unless every product's name,
        price and currency still equal the order line's (else StaleState)."""
        ...

    def find_idempotent_order(self, user_id: str, idempotency_key: str) -> tuple[Order, str] | None:
        """(order, request_hash) recorded for this key, or None."""
        ...

    def transition_order(self, order: Order, new_status: str, *, restock: bool) -> Order:
        """Atomically move `order` from its current status (as read) to `new_status`,
        restocking every line when `restock`. Raises StaleState if the status changed."""
        ...


class Notifier(Protocol):
    def publish_order_event(self, event: OrderEvent) -> None:
        """Put the event on the order-events topic (consumed by the notifications function)."""
        ...

    def send_email(self, to: str, subject: str, text: str) -> None: ...


@dataclass(frozen=True)
class UploadForm:
    """How a browser uploads one file straight to object storage.

    method "POST": a multipart/form-data POST to `url` of `fields` (in order) and then the
    file as the field named "file"; the signed policy pins the key, type and size.
    method "PUT": the file as the body of a PUT to `url`, with `headers`."""

    method: str
    url: str
    fields: Mapping[str, str]
    headers: Mapping[str, str]
    image_url: str  # where the file is served from once uploaded


class Media(Protocol):
    def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> UploadForm:
        """A signed form for one upload of at most `max_bytes` of `content_type` to exactly
        `key` (relative to datamodel.MEDIA_PREFIX), valid for `expires_in` seconds."""
        ...


class Identity(Protocol):
    # True when sign_up confirms the account at once (local stack, tests: there is no inbox
    # to read a code from); the sign-up answer tells the client so.
    auto_confirm: bool

    def sign_up(self, email: str, password: str) -> str:
        """Returns the new user's id. Raises IdentityError (e.g. USER_EXISTS 409, INVALID_PASSWORD 400)."""
        ...

    def confirm(self, email: str, code: str) -> None: ...
    def log_in(self, email: str, password: str, context: ClientContext | None = None) -> Tokens | Challenge:
        """Tokens, or a Challenge (MFA_CODE when the user has a second factor, MFA_SETUP for
        an admin without one). Raises IdentityError(NOT_AUTHORIZED, 401) / (USER_NOT_CONFIRMED, 403)."""
        ...

    def answer_mfa(self, email: str, session: str, code: str, context: ClientContext | None = None) -> Tokens:
        """Finish an MFA_CODE challenge."""
        ...

    def start_mfa_setup(self, principal: Principal) -> MfaSecret: ...
    def finish_mfa_setup(self, principal: Principal, code: str, session: str | None) -> None:
        """Turn the second factor on once `code` proves the app has the secret, and end every
        session that began without it (they must sign in again, with the code)."""
        ...

    def sign_out(self, principal: Principal) -> None:
        """Revoke the user's refresh tokens server-side (and, where the service can, their access tokens)."""
        ...

    def verify_admin(self, principal: Principal) -> None:
        """Ask the identity service, not the token, whether this caller may act as admin now:
        the account exists and is enabled, the token is not revoked, the user is still in the
        admin group and signs in with a second factor. Raises IdentityError otherwise."""
        ...

    def refresh(self, refresh_token: str) -> Tokens: ...
    def user_info(self, principal: Principal) -> UserInfo:
        """The caller's profile (uses the access token where the cloud needs it)."""
        ...

    def lookup_email(self, user_id: str) -> str | None:
        """Email of any user by id (notifications)."""
        ...


class InApiConfirmation(Protocol):
    """Confirming a payment through the API itself (the simulated processor: test cards and
    the extra authentication step), instead of in the browser with the processor's script."""

    def confirm(self, payment_id: str, card_number: str) -> Payment: ...
    def complete_action(self, payment_id: str, approve: bool = True) -> Payment: ...


class PaymentProcessor(Protocol):
    # The processor's in-API confirmation, None when only the browser confirms (Stripe.js).
    @property
    def in_api_confirmation(self) -> InApiConfirmation | None: ...

    def create_payment(self, order: Order) -> Payment:
        """A payment for exactly the order's total and currency, tagged with the order and
        user ids (the events name them). Creating it again for the same order returns the
        same payment (idempotent per order)."""
        ...

    def verify_event(self, payload: bytes, signature: str) -> PaymentEvent | None:
        """The event a webhook delivery carries, after checking its signature (raises
        PaymentSignatureError); None for event types the shop does not act on."""
        ...
