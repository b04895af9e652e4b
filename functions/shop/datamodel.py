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
#                 GSI2PK=PRODUCTS            GSI2SK=<lower name>#<productId>   (all products by name)
#   cart line     PK=USER#<userId>           SK=CART#<productId>
#   order         PK=USER#<userId>           SK=ORDER#<orderId>   (orderId sorts by time)
#                 GSI1PK=ORDER#<orderId>     GSI1SK=ORDER          (admin: find by id)
#                 GSI2PK=STATUS#<status>     GSI2SK=<orderId>
#   idempotency   PK=USER#<userId>           SK=IDEMPOTENCY#<key>  (expiresAt TTL)
#   processed     PK=EVENT#<eventId>         SK=EVENT              (expiresAt TTL; consumer dedupe)
#   device        PK=DEVICES#<userId>        SK=DEVICE#<token>     (push registrations, functions/shop/push.py)
# Browse orders besides the name (docs/architecture.md, "Browse: filters and sort"):
#   product       GSI3PK=CATEGORY#<cat>      GSI3SK=<price, 12 digits>\x1f<lower name>\x1f<id>
#                 GSI4PK=PRODUCTS            GSI4SK=(same price key)              (all products by price)
#                 GSI5PK=CATEGORY#<cat>      GSI5SK=<updatedAt>\x1f<id>           (newest: read backwards)
#                 GSI6PK=PRODUCTS            GSI6SK=(same newest key)
SHOP_TABLE = TableSpec(
    name="shop",
    partition_key="PK",
    sort_key="SK",
    indexes=(
        IndexSpec(name="GSI1", partition_key="GSI1PK", sort_key="GSI1SK"),
        IndexSpec(name="GSI2", partition_key="GSI2PK", sort_key="GSI2SK"),
        IndexSpec(name="GSI3", partition_key="GSI3PK", sort_key="GSI3SK"),
        IndexSpec(name="GSI4", partition_key="GSI4PK", sort_key="GSI4SK"),
        IndexSpec(name="GSI5", partition_key="GSI5PK", sort_key="GSI5SK"),
        IndexSpec(name="GSI6", partition_key="GSI6PK", sort_key="GSI6SK"),
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
# Image types an admin may upload, with the extension each key gets. No SVG: it is a
# document that runs scripts when opened from the shop's origin.
IMAGE_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/gif": "gif",
}
# Largest image upload (bytes); the signed upload policy enforces it where the cloud can.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# How long a signed upload form stays valid (seconds).
UPLOAD_EXPIRES_SECONDS = 300

# Idempotency records live this long (seconds); a replay after that creates a new order.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600

# Consumer dedupe (functions/shop/processed_events.py). A processed event is remembered
# longer than any copy of it can still arrive: 14 days covers the queues' retention and
# a replay from the dead-letter queues (14 days too). A claim's lease outlives the longest
# function timeout (components/config.py caps it at 29 s), so a live delivery is never
# overtaken by a duplicate.
PROCESSED_EVENTS_TTL_SECONDS = 14 * 24 * 3600
PROCESSED_EVENT_LEASE_SECONDS = 60
# Partition-key prefix of those records in SHOP_TABLE (the PROCESSED_EVENTS item set).
PROCESSED_EVENT_KEY_PREFIX = "EVENT#"
# Partition-key prefix of a customer's device registrations (the DEVICES item set).
DEVICE_KEY_PREFIX = "DEVICES#"

# Limits that keep every checkout inside one transaction (DynamoDB: 100 items;
# each line is a stock update plus a cart delete, plus the order and the key record).
MAX_CART_LINES = 25
MAX_LINE_QUANTITY = 99


# ---------------------------------------------------------------------------
# Neutral grants: what each function may do, on which logical resource, and on the table
# on which items. Each provider turns these into policies on exactly those resources;
# AWS also on exactly those items (dynamodb:LeadingKeys).
# ---------------------------------------------------------------------------

# Logical resources a function can be granted access to.
TABLE = "table"  # SHOP_TABLE and its indexes
TOPIC = "topic"  # ORDER_EVENTS_TOPIC
QUEUE = "queue"  # NOTIFICATIONS_QUEUE
EMAIL = "email"  # the sender identity
IDENTITY = "identity"  # the user pool / tenant
MEDIA = "media"  # MEDIA_PREFIX of the site bucket
PUSH = "push"  # the mobile push service (SNS platform application, Notification Hub, FCM)
PAYMENTS = "payments"  # the card processor's secrets (Stripe secret key, webhook signing secret)

# Table actions, one per store operation (functions/adapters/dynamodb_store.py): each maps
# to one DynamoDB API action, so a function is granted only the operations it performs.
TABLE_READS = ("get", "batch-get", "query")
TABLE_WRITES = ("put", "update", "delete", "batch-write")

# Neutral actions per resource.
ACTIONS: dict[str, tuple[str, ...]] = {
    TABLE: TABLE_READS + TABLE_WRITES,
    TOPIC: ("publish",),
    QUEUE: ("consume",),
    EMAIL: ("send",),
    # "authenticate": sign-up/sign-in (server-side sign-in, so the client's address reaches
    # the identity service's risk checks); "read": look up a user's profile (email) by id;
    # "verify": ask whether a caller is still an admin (group membership, second factor).
    IDENTITY: ("authenticate", "read", "verify"),
    MEDIA: ("write",),
    # "send": one notification to registered devices (and forgetting the tokens it refuses)
    PUSH: ("send",),
    # "read": the processor's two secrets from the stack's secret store (PAYMENT_SECRETS)
    PAYMENTS: ("read",),
}


@dataclass(frozen=True)
class ItemSet:
    """Items of SHOP_TABLE picked by partition key: on the table (`table_keys`) and on each
    index (`index_keys`: index name -> keys). Keys are exact values or prefixes ending in
    "*" (IAM's StringLike). A table grant names the item sets it may touch."""

    name: str
    table_keys: tuple[str, ...] = ()
    index_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()


# The item sets of SHOP_TABLE (item shapes above). No two share a partition key value.
CATEGORIES = ItemSet("categories", table_keys=("CATEGORY",))
PRODUCTS = ItemSet("products", table_keys=("PRODUCT#*",))
PRODUCT_INDEX = ItemSet(
    "product-index",
    index_keys=(
        ("GSI1", ("CATEGORY#*",)),
        ("GSI2", ("PRODUCTS",)),
        ("GSI3", ("CATEGORY#*",)),
        ("GSI4", ("PRODUCTS",)),
        ("GSI5", ("CATEGORY#*",)),
        ("GSI6", ("PRODUCTS",)),
    ),
)
CUSTOMERS = ItemSet("customers", table_keys=("USER#*",))  # carts, orders, idempotency records
ORDER_INDEX = ItemSet("order-index", index_keys=(("GSI1", ("ORDER#*",)), ("GSI2", ("STATUS#*",))))
PROCESSED_EVENTS = ItemSet("processed-events", table_keys=(f"{PROCESSED_EVENT_KEY_PREFIX}*",))  # consumer dedupe
# The by-status half of ORDER_INDEX, for a function that only lists orders by status (expiry).
ORDERS_BY_STATUS = ItemSet("orders-by-status", index_keys=(("GSI2", ("STATUS#*",)),))
# Each customer's push registrations: a partition per customer of its own (not USER#), so the
# notifications function reads and prunes devices without reaching carts or orders.
DEVICES = ItemSet("devices", table_keys=(f"{DEVICE_KEY_PREFIX}*",))
ITEM_SETS: tuple[ItemSet, ...] = (
    CATEGORIES,
    PRODUCTS,
    PRODUCT_INDEX,
    CUSTOMERS,
    ORDER_INDEX,
    PROCESSED_EVENTS,
    DEVICES,
)


@dataclass(frozen=True)
class Grant:
    resource: str
    actions: tuple[str, ...]
    items: tuple[ItemSet, ...] = ()  # TABLE only: the item sets the actions reach

    def __post_init__(self) -> None:
        allowed = ACTIONS.get(self.resource)
        if allowed is None:
            raise ValueError(f"unknown grant resource {self.resource!r}; known: {sorted(ACTIONS)}")
        bad = [a for a in self.actions if a not in allowed]
        if bad or not self.actions:
            raise ValueError(f"grant on {self.resource!r}: actions {list(self.actions)} not in {list(allowed)}")
        if (self.resource == TABLE) != bool(self.items):
            raise ValueError(f"grant on {self.resource!r}: item sets are required on {TABLE!r} and only there")
        if self.resource == TABLE:
            index_only = [s.name for s in self.items if not s.table_keys]
            if index_only and set(self.actions) != {"query"}:
                raise ValueError(f"item sets {index_only} live on indexes only: they can only be queried")

    @property
    def writes(self) -> bool:
        return self.resource == TABLE and any(a in TABLE_WRITES for a in self.actions)


def table(actions: tuple[str, ...], *items: ItemSet) -> Grant:
    return Grant(TABLE, actions, items)


@dataclass(frozen=True)
class ServiceSpec:
    """One deployed function: a group of routes (or an event consumer) and its grants."""

    name: str
    description: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # "http" functions serve the routes whose `service` is this name; "queue" functions
    # consume NOTIFICATIONS_QUEUE; "schedule" functions run on the cloud's scheduler
    # (EXPIRY_SCHEDULE_MINUTES).
    trigger: str = "http"

    @property
    def table_access(self) -> str | None:
        """The access "write" when a table grant writes, "read" when they only read, None without any:
        what clouds whose database roles are not per operation (Cosmos DB, Firestore) grant."""
        table = [g for g in self.grants if g.resource == TABLE]
        if not table:
            return None
        return "write" if any(g.writes for g in table) else "read"


# Each grant is what the service's handlers call (functions/shop/<service>.py through the
# store), on the items they touch; tests/runtime/test_aws_least_privilege.py records every
# call of every route and proves the policies allow exactly these.
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "accounts",
        "Sign-up, confirmation, sign-in, token refresh, profile",
        (Grant(IDENTITY, ("authenticate",)),),
    ),
    ServiceSpec(
        "catalog",
        "Categories, product listing, search and detail; health; OpenAPI",
        # public and unauthenticated: catalog items only, never a cart or an order
        (table(("get",), PRODUCTS), table(("query",), CATEGORIES, PRODUCT_INDEX)),
    ),
    ServiceSpec(
        "cart",
        # /api/me/devices too: the function that already writes the customer's own items (the
        # public sign-in function stays without database access)
        "The signed-in customer's cart and push devices",
        (
            table(("query", "put", "delete", "batch-write"), CUSTOMERS),
            table(("batch-get",), PRODUCTS),
            # list, register (dropping the oldest beyond push.MAX_DEVICES), remove
            table(("query", "put", "delete"), DEVICES),
        ),
    ),
    ServiceSpec(
        "orders",
        "Checkout, order history, cancellation",
        (
            # cart and idempotency reads, the order and key records, cart lines removed at checkout,
            # the status change of a cancellation
            table(("get", "query", "put", "update", "delete"), CUSTOMERS),
            # prices and stock read at checkout; stock taken and returned in the same transactions
            table(("batch-get", "update"), PRODUCTS),
            Grant(TOPIC, ("publish",)),
            # the pay route and the processor's webhook: Stripe's keys, when the stack takes cards
            Grant(PAYMENTS, ("read",)),
        ),
    ),
    ServiceSpec(
        "admin",
        "Catalog and order administration (admin group only)",
        (
            table(("get", "batch-get", "put", "update", "delete"), PRODUCTS),
            table(("query", "put"), CATEGORIES),  # a product's new category joins the list
            table(("query",), ORDER_INDEX),  # orders by id and by status
            table(("get", "update"), CUSTOMERS),  # the order itself, and its status change
            Grant(TOPIC, ("publish",)),
            Grant(MEDIA, ("write",)),
            # the admin re-check, and the e-mail of an order whose token carried none
            Grant(IDENTITY, ("verify", "read")),
        ),
    ),
    ServiceSpec(
        "notifications",
        "Consumes order events, emails the customer and pushes to their devices",
        (
            Grant(QUEUE, ("consume",)),
            Grant(EMAIL, ("send",)),
            Grant(IDENTITY, ("read",)),
            table(("get", "put", "delete"), PROCESSED_EVENTS),
            table(("query", "delete"), DEVICES),  # the customer's devices; refused tokens pruned
            Grant(PUSH, ("send",)),
        ),
        trigger="queue",
    ),
    ServiceSpec(
        "expiry",
        "Cancels unpaid orders older than the expiry time, on a schedule (restocking them)",
        (
            table(("query",), ORDERS_BY_STATUS),  # PLACED orders
            table(("get", "update"), CUSTOMERS),  # the order's status as stored, and its compare-and-set
            table(("batch-get", "update"), PRODUCTS),  # which products still exist; their stock returned
            Grant(TOPIC, ("publish",)),  # OrderCancelled
        ),
        trigger="schedule",
    ),
)

# How often the "schedule" function runs (EventBridge Scheduler rate, Functions NCRONTAB,
# Cloud Scheduler cron: the same period on each cloud).
EXPIRY_SCHEDULE_MINUTES = 15

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

# The card processor's secrets (shop:stripeSecretKey, shop:stripeWebhookSecret) by their name in
# the stack's secret store (Parameter Store under the parameters path, Key Vault, Secret Manager).
# Only functions granted PAYMENTS can read them, and only when the stack takes cards.
STRIPE_SECRET_KEY = "stripeSecretKey"
STRIPE_WEBHOOK_SECRET = "stripeWebhookSecret"
PAYMENT_SECRETS: tuple[str, ...] = (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET)


class PaymentSettingNames:
    """Azure and GCP: the secrets' values, as Key Vault references / Secret Manager mounts
    (AWS: their parameter names, AwsSettingNames)."""

    SECRET_KEY = "SHOP_STRIPE_SECRET_KEY"
    WEBHOOK_SECRET = "SHOP_STRIPE_WEBHOOK_SECRET"
    BY_SECRET: dict[str, str] = {STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET}


# ---------------------------------------------------------------------------
# Document-database layouts of SHOP_TABLE on Azure and GCP (the store adapters
# functions/adapters/cosmos_store.py and firestore_store.py explain the item shapes).
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CosmosContainerSpec:
    """A Cosmos DB for NoSQL container. default_ttl=-1: TTL on, items expire only when they
    carry their own `ttl` (the idempotency records)."""

    name: str
    partition_key_path: str
    default_ttl: int | None = -1


# Stock, orders and idempotency keys share the logical partition "LEDGER" so checkout and
# cancel are each one transactional batch; categories and each user's cart have their own.
COSMOS_CONTAINER = CosmosContainerSpec(name=SHOP_TABLE.name, partition_key_path="/pk")


@dataclass(frozen=True)
class IndexField:
    field: str
    order: str = "ASCENDING"  # "ASCENDING" | "DESCENDING" (Firestore's own words)


@dataclass(frozen=True)
class FirestoreIndex:
    """A composite index (query scope COLLECTION) the Firestore store's queries need."""

    collection_group: str
    fields: tuple[IndexField, ...]


# Collections live under shops/<SHOP_TABLE.name>/: categories, products, orders,
# users/<uid>/cart, users/<uid>/idempotency, processedEvents (consumer dedupe).
FIRESTORE_ROOT_COLLECTION = "shops"
FIRESTORE_INDEXES: tuple[FirestoreIndex, ...] = (
    # products of a category in name order
    FirestoreIndex("products", (IndexField("category"), IndexField("sortKey"))),
    # products of a category by price (a price range is a range on the same key), both ways
    FirestoreIndex("products", (IndexField("category"), IndexField("priceKey"))),
    FirestoreIndex("products", (IndexField("category"), IndexField("priceKey", "DESCENDING"))),
    # products of a category, newest first
    FirestoreIndex("products", (IndexField("category"), IndexField("newestKey", "DESCENDING"))),
    # my orders, newest first
    FirestoreIndex("orders", (IndexField("userId"), IndexField("orderId", "DESCENDING"))),
    # admin: orders by status, newest first
    FirestoreIndex("orders", (IndexField("status"), IndexField("statusSortKey", "DESCENDING"))),
)
# (collection group, timestamp field) pairs with a Firestore TTL policy.
FIRESTORE_TTL_FIELDS: tuple[tuple[str, str], ...] = (("idempotency", "expiresAt"), ("processedEvents", "expiresAt"))


# Settings only some clouds' functions read. Deliberately NOT named ENV_*: every ENV_* above
# is required in every function's environment on every cloud (components/functions.py);
# the Azure/GCP providers set these per cloud. ENV_TOPIC holds the Service Bus topic name
# on Azure and projects/<p>/topics/<t> on GCP; ENV_USER_POOL_CLIENT the storefront app's
# client id on Azure. Secrets arrive as Key Vault references / Secret Manager env mounts.
class AwsSettingNames:
    """Environment variables only the AWS functions read (set by providers/aws/functions.py)."""

    # optional: the SNS platform application (FCM) order updates are pushed through; unset: no push
    PUSH_APPLICATION_ARN = "SHOP_SNS_PLATFORM_APPLICATION_ARN"
    # optional: the SecureString parameters holding Stripe's keys, read on the first payment call
    STRIPE_SECRET_KEY_PARAMETER = "SHOP_STRIPE_SECRET_KEY_PARAMETER"
    STRIPE_WEBHOOK_SECRET_PARAMETER = "SHOP_STRIPE_WEBHOOK_SECRET_PARAMETER"
    PAYMENT_PARAMETERS: dict[str, str] = {
        STRIPE_SECRET_KEY: STRIPE_SECRET_KEY_PARAMETER,
        STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET_PARAMETER,
    }
    # the parameters' versions: read by no code, it changes the function's configuration when a
    # key does, so `pulumi up` replaces the instances that hold the old key in memory
    STRIPE_KEYS_VERSION = "SHOP_STRIPE_KEYS_VERSION"


class TokenEnv:
    """Azure and GCP: how the HTTP function learns the caller (functions/runtimes/_tokens.py)."""

    GATEWAY_VALIDATED_JWT = "SHOP_GATEWAY_VALIDATED_JWT"  # "true": the gateway verified the bearer JWT
    JWKS_URL = "SHOP_JWKS_URL"  # else the function verifies it against this JWKS ...
    JWT_ISSUER = "SHOP_JWT_ISSUER"  # ... with this issuer
    JWT_AUDIENCE = "SHOP_JWT_AUDIENCE"  # ... and this audience


class AzureSettingNames:
    """App-setting names the Azure functions read (set by providers/azure/functions.py)."""

    COSMOS_ENDPOINT = "SHOP_COSMOS_ENDPOINT"  # https://<account>.documents.azure.com:443/
    COSMOS_DATABASE = "SHOP_COSMOS_DATABASE"
    COSMOS_KEY = "SHOP_COSMOS_KEY"  # emulator/local only: deployed functions use managed identity
    SERVICEBUS_NAMESPACE = "SHOP_SERVICEBUS_NAMESPACE"  # <ns>.servicebus.windows.net
    SUBSCRIPTION = "SHOP_SUBSCRIPTION_NAME"  # subscription the notifications trigger reads
    EXPIRY_SCHEDULE = "SHOP_EXPIRY_SCHEDULE"  # NCRONTAB of the expiry app's timer trigger
    SERVICEBUS_CONNECTION = "SHOP_SERVICEBUS__fullyQualifiedNamespace"  # trigger's identity-based connection
    EMAIL_ENDPOINT = "SHOP_EMAIL_ENDPOINT"  # https://<acs>.communication.azure.com
    NOTIFICATION_HUB = "SHOP_NOTIFICATION_HUB"  # optional: <ns>.servicebus.windows.net/<hub>
    NOTIFICATION_HUB_KEY = "SHOP_NOTIFICATION_HUB_KEY"  # optional secret: <keyName>:<key>
    STORAGE_ACCOUNT = "SHOP_STORAGE_ACCOUNT"  # storage account of the uploads container
    IDENTITY_AUTHORITY = "SHOP_IDENTITY_AUTHORITY"  # https://<sub>.ciamlogin.com/<tenant-id>
    IDENTITY_TENANT_DOMAIN = "SHOP_IDENTITY_TENANT_DOMAIN"  # <sub>.onmicrosoft.com
    IDENTITY_SCOPE = "SHOP_IDENTITY_SCOPE"  # api://<app-id>/shop.access
    IDENTITY_BACKEND_CLIENT_ID = "SHOP_IDENTITY_BACKEND_CLIENT_ID"  # Graph app (sign-up, lookups)
    IDENTITY_CLIENT_SECRET = "SHOP_IDENTITY_CLIENT_SECRET"  # that app's secret (Key Vault reference)
    TRIGGERS = "SHOP_AZURE_TRIGGERS"  # optional: "http", "notifications" or both (default)


class GcpSettingNames:
    """Environment variables the GCP functions read (set by providers/gcp/functions.py)."""

    PROJECT = "SHOP_GCP_PROJECT"
    FIRESTORE_DATABASE = "SHOP_FIRESTORE_DATABASE"  # default "(default)"
    IDENTITY_API_KEY = "SHOP_IDENTITY_API_KEY"  # Identity Platform API key (Secret Manager)
    EMAIL_API_KEY = "SHOP_EMAIL_API_KEY"  # SendGrid-compatible mail API key (Secret Manager)
    EMAIL_API_URL = "SHOP_EMAIL_API_URL"  # optional, default SendGrid v3 mail/send
    SMTP_URL = "SHOP_SMTP_URL"  # or an SMTP relay: smtp+starttls://user:pass@host:587 (Secret Manager)
    FCM_ENABLED = "SHOP_FCM_ENABLED"  # "true": order updates also go to the customer's devices via FCM
