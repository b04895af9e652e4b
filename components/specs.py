"""Cloud-neutral arguments and results exchanged between components and providers.

A component builds an ``*Args`` value saying *what* it needs, hands it to the provider
(``providers/base.py``) with itself as the parent, and gets back an ``*Result`` of
Outputs: neutral data only. What a cloud needs of its own resources in a later call (the
functions need the table resource, the CDN the bucket...) it keeps itself, as typed
handles in its ``providers/<cloud>/provider.py``.

Everything here is plain dataclasses: no cloud SDK import, cheap to construct in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components.config import ExistingNetwork
from functions.shop.datamodel import ServiceSpec, TableSpec
from functions.shop.routes import Route

# ---------------------------------------------------------------------------
# Shared context: who/where this deployment is. Given to the provider once.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentContext:
    """Facts every provider method may need; built once from the stack config."""

    project: str  # Pulumi project name, e.g. "shop"
    stack: str  # Pulumi stack name, e.g. "dev"
    cloud: str  # aws | azure | gcp
    region: str  # the cloud's region / location
    environment: str  # dev | prod: prod turns on deletion protection, retention...
    tags: Mapping[str, str]  # the stack's own tags (shop:tags and owner); see resource_tags
    # Per-cloud settings section of the stack config (e.g. {"tenantId": ...} for azure), raw:
    # only that cloud's provider reads it, through its settings.py.
    cloud_settings: Mapping[str, object] = field(default_factory=dict)

    @property
    def resource_tags(self) -> dict[str, str]:
        """What every taggable resource carries: the stack's tags, then project/stack/environment/
        managed-by, which they may not override."""
        return {
            **self.tags,
            "project": self.project,
            "stack": self.stack,
            "environment": self.environment,
            "managed-by": "pulumi",
        }

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def name_prefix(self) -> str:
        """Prefix for physical names that must be unique per stack (``shop-dev``)."""
        return f"{self.project}-{self.stack}"

    @property
    def parameters_path(self) -> str:
        """Hierarchical settings path, ``/<project>/<stack>/`` (Parameter Store style)."""
        return f"/{self.project}/{self.stack}/"


# ---------------------------------------------------------------------------
# Encryption: the stack's customer-managed key (KMS key, Key Vault key, Cloud KMS key).
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptionArgs:
    description: str = "Encrypts the shop's data at rest (table, topic, queues, secure parameters)"
    rotation: bool = True
    # A customer-managed key made outside the stack (shop:existingKeyId): used instead of a new one.
    existing_key_id: str | None = None


@dataclass(frozen=True)
class EncryptionResult:
    key_id: pulumi.Output[str]  # key ARN / Key Vault key id / Cloud KMS key id


# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkArgs:
    az_count: int  # zones to spread over, >= 2
    nat_mode: str  # "single" (one shared NAT) | "perAz" (one per zone, zone-independent egress)
    cidr_block: str = "10.40.0.0/16"
    encryption: EncryptionResult | None = None  # encrypts flow logs where the cloud supports it
    existing: ExistingNetwork | None = None  # shop:existingNetwork: used instead of a new network


@dataclass(frozen=True)
class NetworkResult:
    network_id: pulumi.Output[str]  # VPC / VNet / VPC network
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]  # where functions run


# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseArgs:
    tables: tuple[TableSpec, ...]
    encryption: EncryptionResult
    deletion_protection: bool  # on in prod


@dataclass(frozen=True)
class DatabaseResult:
    # TableSpec.name -> the physical name the functions use (ENV_TABLE)
    table_names: Mapping[str, pulumi.Output[str]]
    table_ids: Mapping[str, pulumi.Output[str]]  # ARN / resource id


# ---------------------------------------------------------------------------
# Notifications: order-events topic, the queue feeding the notifications function, its
# dead-letter queue, and the sender e-mail identity.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationsArgs:
    topic_name: str  # datamodel.ORDER_EVENTS_TOPIC
    queue_name: str  # datamodel.NOTIFICATIONS_QUEUE
    max_receives: int  # deliveries before a message goes to the dead-letter queue
    sender_email: str
    encryption: EncryptionResult
    # A message must stay invisible at least as long as the consumer may run.
    visibility_timeout_seconds: int = 180
    # Firebase Cloud Messaging credentials (service-account key JSON, a secret Output) for
    # mobile push of order updates; None: no push channel is created.
    push_credentials: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class NotificationsResult:
    topic_ref: pulumi.Output[str]  # what a publisher needs (ENV_TOPIC): ARN / id / name
    queue_ref: pulumi.Output[str]
    dead_letter_queue_ref: pulumi.Output[str]
    dead_letter_queue_name: pulumi.Output[str]
    sender_email: pulumi.Output[str]


# ---------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthArgs:
    admin_group: str  # routes.ADMIN_GROUP
    deletion_protection: bool
    password_min_length: int = 10
    # Risk-based sign-in protection: "off" | "audit" | "enforced" (Cognito: Plus tier, billed per user).
    threat_protection: str = "off"
    # How long an access token works: what a deleted or de-admined user keeps on customer
    # routes at worst (admin routes ask the identity service on every call).
    access_token_minutes: int = 15
    # Send the identity service's own e-mails (codes, verification) from the shop's sender
    # identity rather than the service's capped default sender (production).
    email_sender: NotificationsResult | None = None
    # Host names the shop is served on when known up front (shop:domainName): redirect and
    # e-mail-link domains the identity service must accept.
    site_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthResult:
    user_pool_id: pulumi.Output[str]  # ENV_USER_POOL
    client_id: pulumi.Output[str]  # ENV_USER_POOL_CLIENT; public client, no secret
    issuer_url: pulumi.Output[str]  # JWT "iss" the API gateway checks


# ---------------------------------------------------------------------------
# Static site: private storage holding the storefront files and product media.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticSiteArgs:
    site_dir: Path  # may be missing or empty: the bucket is still created
    # Written as config.json next to index.html; values may be Outputs.
    runtime_config: Mapping[str, pulumi.Input[str]]
    media_prefix: str  # datamodel.MEDIA_PREFIX, writable by the admin function
    force_destroy: bool  # dev stacks may delete a non-empty bucket
    # Browser origins allowed to upload media with signed forms (CORS): the shop's own
    # origin; "*" only when it is not known before the CDN exists (no domainName), where
    # the signed policy alone is the authorisation.
    upload_origins: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class StaticSiteResult:
    bucket_name: pulumi.Output[str]  # ENV_BUCKET
    bucket_id: pulumi.Output[str]  # ARN / resource id
    file_count: int  # uploaded files, config.json included


# ---------------------------------------------------------------------------
# Functions: one deployed function per datamodel.SERVICES entry.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodePackage:
    """The handler code and its third-party dependencies, as the provider should package them."""

    source_dir: Path  # the ``functions/`` package; zipped with ``functions/`` at the root
    exclude: tuple[str, ...]  # paths relative to source_dir, e.g. ("local", "tests")
    requirements_file: Path  # requirements/runtime.txt
    python_version: str  # "3.12": wheels are fetched for this, not the deploying machine's
    # False under tests/mocks: no pip, no network; the provider uses a placeholder asset.
    build_dependencies: bool = True


@dataclass(frozen=True)
class GrantTargets:
    """The resources a neutral Grant may name (datamodel TABLE, TOPIC, QUEUE, ...)."""

    database: DatabaseResult  # "table"
    notifications: NotificationsResult  # "topic", "queue", "email"
    auth: AuthResult  # "identity"
    site: StaticSiteResult  # "media" (under media_prefix)
    media_prefix: str
    encryption: EncryptionResult  # every function may decrypt what the stack key encrypts


@dataclass(frozen=True)
class PaymentSecrets:
    """The card processor's secrets (shop:stripeSecretKey, shop:stripeWebhookSecret) as secret
    Outputs, by their datamodel.PAYMENT_SECRETS name. Each cloud keeps them in its secret store,
    readable only by the functions granted datamodel.PAYMENTS."""

    values: Mapping[str, pulumi.Output[str]]


@dataclass(frozen=True)
class FunctionsArgs:
    services: tuple[ServiceSpec, ...]
    code: CodePackage
    environment: Mapping[str, pulumi.Input[str]]  # same for every function (datamodel ENV_*)
    targets: GrantTargets
    network: NetworkResult
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int
    parameters_path: str  # functions may read settings under this path
    reserved_concurrency: int | None = None
    payments: PaymentSecrets | None = None  # None: the stack takes no cards (payment routes answer 503)


@dataclass(frozen=True)
class FunctionResult:
    service: str
    name: pulumi.Output[str]  # physical function name (metrics, logs)
    function_id: pulumi.Output[str]  # ARN / resource id
    invoke_ref: pulumi.Output[str]  # what the API gateway integrates with
    identity_ref: pulumi.Output[str]  # role ARN / managed identity / service account
    trigger: str  # "http" | "queue"


@dataclass(frozen=True)
class FunctionsResult:
    functions: Mapping[str, FunctionResult]  # by service name


# ---------------------------------------------------------------------------
# API gateway
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiArgs:
    routes: tuple[Route, ...]  # functions.shop.routes.ROUTES
    functions: FunctionsResult  # route.service -> its function
    auth: AuthResult  # JWT issuer and audience for customer/admin routes
    admin_group: str
    log_retention_days: int
    throttle_rate_limit: float = 100.0  # steady requests/s per stage (default route)
    throttle_burst_limit: int = 200
    encryption: EncryptionResult | None = None  # encrypts access logs where the cloud supports it
    # The shop's custom domain and its DNS zone (CdnArgs has the same): AWS puts the API on a
    # sub-domain of it that only the CDN can reach (mutual TLS), and turns its own URL off.
    domain_name: str | None = None
    dns_zone_id: str | None = None


@dataclass(frozen=True)
class ApiResult:
    url: pulumi.Output[str]  # https://... base URL (routes are under /api)
    host: pulumi.Output[str]  # host name the CDN uses as its API origin
    api_id: pulumi.Output[str]
    route_count: int


# ---------------------------------------------------------------------------
# CDN (+ web application firewall + certificate)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FirewallSpec:
    """The edge firewall, one spec for every cloud: each renders it in ``providers/<cloud>/firewall.py``
    (WAF web ACL, Front Door WAF policy, Cloud Armor policy) next to the cloud's managed rule sets."""

    rate_limit: int  # requests per window per client IP, any path, before the client is refused
    # Sign-in, sign-up, confirm and refresh get a tighter per-client limit (credential stuffing).
    auth_path_prefix: str = "/api/auth/"
    auth_rate_limit: int = 50
    window_seconds: int = 300


@dataclass(frozen=True)
class CdnArgs:
    site: StaticSiteResult
    api: ApiResult
    api_path_pattern: str  # "/api/*": forwarded to the API, never cached
    firewall: FirewallSpec
    domain_name: str | None = None
    dns_zone_id: str | None = None  # hosted zone / DNS zone the certificate is validated in
    log_retention_days: int = 90
    # The storefront loads Stripe.js for card entry: the security headers admit Stripe's hosts.
    stripe: bool = False


@dataclass(frozen=True)
class CdnResult:
    url: pulumi.Output[str]  # https://<domain or CDN host>
    host: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    firewall_id: pulumi.Output[str]  # WAF web ACL / Front Door WAF policy / Cloud Armor policy


# ---------------------------------------------------------------------------
# Configuration: settings and secrets under DeploymentContext.parameters_path
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterSpec:
    name: str  # relative to the path, e.g. "tableName"
    value: pulumi.Input[str]
    secret: bool = False  # stored encrypted with the stack key
    description: str = ""


@dataclass(frozen=True)
class ConfigurationArgs:
    parameters: tuple[ParameterSpec, ...]
    encryption: EncryptionResult


@dataclass(frozen=True)
class ConfigurationResult:
    path: str
    parameter_names: Mapping[str, pulumi.Output[str]]  # spec name -> full name / id


# ---------------------------------------------------------------------------
# Monitoring
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoringArgs:
    alert_email: str
    functions: FunctionsResult
    api: ApiResult
    database: DatabaseResult
    notifications: NotificationsResult
    encryption: EncryptionResult
    api_latency_p99_ms: int = 2000
    api_5xx_threshold: int = 5  # per 5 minutes
    cdn: CdnResult | None = None  # its firewall's blocked requests are alarmed on
    firewall_blocked_threshold: int = 100  # blocked requests per 5 minutes: an attack, or a rule hurting shoppers
    failed_sign_in_threshold: int = 50  # refused sign-ins per 5 minutes (functions/shop/accounts.py SIGN_IN_FAILED)


# The function whose logs carry the refused sign-ins that monitoring counts.
SIGN_IN_SERVICE = "accounts"


@dataclass(frozen=True)
class MonitoringResult:
    alarm_topic_ref: pulumi.Output[str]
    dashboard_name: pulumi.Output[str]
    alarm_count: int
