"""Data definitions shared by the handlers and the infrastructure.

The Pulumi program imports this module to create the table, topic, queue and bucket;
the store adapters import it to read and write them. Keeping both sides on one
definition is what stops the deployed table and the code that reads it from drifting.

Stdlib only: the infrastructure and every function import it, cold start included.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IndexSpec:
    """A secondary index: a partition key and a sort key, both strings, all attributes projected."""

    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    """A NoSQL table (DynamoDB table, Cosmos DB container, Firestore collection)."""

    name: str
    partition_key: str
    sort_key: str
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None


# Single-table design. Item shapes (the store adapters own the details):
#   category      PK=CATEGORY                SK=<categoryId>
#   product       PK=PRODUCT#<productId>     SK=PRODUCT
#                 GSI1PK=CATEGORY#<cat>      GSI1SK=<lower name>#<productId>
#   cart line     PK=USER#<userId>           SK=CART#<productId>
#   order         PK=USER#<userId>           SK=ORDER#<orderId>   (orderId sorts by time)
#                 GSI1PK=ORDER#<orderId>     GSI1SK=ORDER          (admin: find by id)
#                 GSI2PK=STATUS#<status>     GSI2SK=<createdAt>#<orderId>
#   idempotency   PK=USER#<userId>           SK=IDEMPOTENCY#<key>  (expiresAt TTL)
SHOP_TABLE = TableSpec(
    name="shop",
    partition_key="PK",
    sort_key="SK",
    indexes=(
        IndexSpec(name="GSI1", partition_key="GSI1PK", sort_key="GSI1SK"),
        IndexSpec(name="GSI2", partition_key="GSI2PK", sort_key="GSI2SK"),
    ),
    ttl_attribute="expiresAt",
)

TABLES: tuple[TableSpec, ...] = (SHOP_TABLE,)

# Order events (placed, status changed, cancelled) go to this topic; the notifications
# function consumes them from a queue with a dead-letter queue behind it.
ORDER_EVENTS_TOPIC = "order-events"
NOTIFICATIONS_QUEUE = "notifications"
# Retries before a notification lands in the dead-letter queue.
NOTIFICATION_MAX_RECEIVES = 5

# Product images uploaded through pre-signed URLs live under this prefix of the site
# bucket, so the CDN serves them with the storefront and the admin function's grant
# covers exactly this prefix.
MEDIA_PREFIX = "media/"

# Idempotency records live this long (seconds); a replay after that creates a new order.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600

# Limits that keep every checkout inside one transaction (DynamoDB: 100 items;
# each line is a stock update plus a cart delete, plus the order and the key record).
MAX_CART_LINES = 25
MAX_LINE_QUANTITY = 99


# ---------------------------------------------------------------------------
# Neutral grants: what each function may do, on which logical resource.
# Each provider turns these into least-privilege policies on exactly those resources.
# ---------------------------------------------------------------------------

# Logical resources a function can be granted access to.
TABLE = "table"  # SHOP_TABLE and its indexes
TOPIC = "topic"  # ORDER_EVENTS_TOPIC
QUEUE = "queue"  # NOTIFICATIONS_QUEUE
EMAIL = "email"  # the sender identity
IDENTITY = "identity"  # the user pool / tenant
MEDIA = "media"  # MEDIA_PREFIX of the site bucket

# Neutral actions per resource.
ACTIONS: dict[str, tuple[str, ...]] = {
    TABLE: ("read", "write"),
    TOPIC: ("publish",),
    QUEUE: ("consume",),
    EMAIL: ("send",),
    # "authenticate": public sign-up/sign-in calls (no IAM on AWS: Cognito's client APIs
    # are unauthenticated); "read": look up a user's profile (email) by id.
    IDENTITY: ("authenticate", "read"),
    MEDIA: ("write",),
}


@dataclass(frozen=True)
class Grant:
    resource: str
    actions: tuple[str, ...]

    def __post_init__(self) -> None:
        allowed = ACTIONS.get(self.resource)
        if allowed is None:
            raise ValueError(f"unknown grant resource {self.resource!r}; known: {sorted(ACTIONS)}")
        bad = [a for a in self.actions if a not in allowed]
        if bad or not self.actions:
            raise ValueError(f"grant on {self.resource!r}: actions {list(self.actions)} not in {list(allowed)}")


@dataclass(frozen=True)
class ServiceSpec:
    """One deployed function: a group of routes (or an event consumer) and its grants."""

    name: str
    description: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # "http" functions serve the routes whose `service` is this name; "queue" functions
    # consume NOTIFICATIONS_QUEUE.
    trigger: str = "http"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "accounts",
        "Sign-up, confirmation, sign-in, token refresh, profile",
        (Grant(IDENTITY, ("authenticate",)),),
    ),
    ServiceSpec("catalog", "Categories, product listing, search and detail; health; OpenAPI", (Grant(TABLE, ("read",)),)),
    ServiceSpec("cart", "The signed-in customer's cart", (Grant(TABLE, ("read", "write")),)),
    ServiceSpec(
        "orders",
        "Checkout, order history, cancellation",
        (Grant(TABLE, ("read", "write")), Grant(TOPIC, ("publish",))),
    ),
    ServiceSpec(
        "admin",
        "Catalog and order administration (admin group only)",
        (Grant(TABLE, ("read", "write")), Grant(TOPIC, ("publish",)), Grant(MEDIA, ("write",))),
    ),
    ServiceSpec(
        "notifications",
        "Consumes order events and emails the customer",
        (Grant(QUEUE, ("consume",)), Grant(EMAIL, ("send",)), Grant(IDENTITY, ("read",))),
        trigger="queue",
    ),
)

SERVICES_BY_NAME: dict[str, ServiceSpec] = {s.name: s for s in SERVICES}

# Environment variables the functions read (set by every provider, and by the local stack).
ENV_TABLE = "SHOP_TABLE_NAME"
ENV_TOPIC = "SHOP_TOPIC_ARN"  # topic ARN / id / name per cloud
ENV_BUCKET = "SHOP_BUCKET_NAME"
ENV_MEDIA_BASE_URL = "SHOP_MEDIA_BASE_URL"  # public URL prefix images are served from
ENV_SENDER = "SHOP_SENDER_EMAIL"
ENV_USER_POOL = "SHOP_USER_POOL_ID"
ENV_USER_POOL_CLIENT = "SHOP_USER_POOL_CLIENT_ID"
ENV_CURRENCY = "SHOP_CURRENCY"
ENV_CLOUD = "SHOP_CLOUD"  # aws | azure | gcp | local
ENV_PARAMETERS_PATH = "SHOP_PARAMETERS_PATH"  # Parameter Store / Key Vault / Secret Manager prefix
