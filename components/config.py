"""Typed stack configuration (the ``shop:*`` keys of ``Pulumi.<stack>.yaml``).

``load_stack_config()`` reads every key through ``pulumi.Config`` and validates it with
pydantic. A wrong or missing value stops the preview with one message per problem that
names the key, says what is wrong, and gives the ``pulumi config set`` that fixes it.

Defaults here are the same as the ``config:`` schema of ``Pulumi.yaml`` (a test checks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Literal

import pulumi
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

NAMESPACE = "shop"

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE = re.compile(r"^Z[A-Z0-9]{1,32}$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")

# What each cloud accepts in a tag (AWS, Azure) or label (GCP), beside what the program sets itself.
# AWS: letters, digits, spaces and _.:/=+-@; key 1-128, value 0-256; no aws: prefix; 50 per resource.
_AWS_TAG_TEXT = re.compile(r"^[\w\s.:/=+\-@]*$")
# Azure: key 1-512 (storage accounts: 128) without <>%&\?/, and Front Door also refuses # and : in
# keys; value 0-256; keys are case-insensitive; 50 per resource.
_AZURE_TAG_KEY_BAD = re.compile(r"[<>%&\\?/#:]")
# GCP labels: key 1-63 starting with a letter, value 0-63, lowercase letters, digits, _ and -; 64 per
# resource. Upper case is lowered by the provider (providers/gcp/env.py), so it is accepted here.
_GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
# Set by the program on every resource (shop:owner sets owner); shop:tags may not replace them.
RESERVED_TAGS = ("project", "stack", "environment", "owner", "managed-by")
_MAX_TAGS = {"aws": 50, "azure": 50, "gcp": 64}

# An example value per key, used in the "how to fix it" part of error messages.
EXAMPLES: dict[str, str] = {
    "cloud": "aws",
    "region": "eu-west-1",
    "environment": "dev",
    "domainName": "shop.example.com",
    "hostedZoneId": "Z0123456789ABCDEFGHIJ",
    "alertEmail": "oncall@example.com",
    "senderEmail": "shop@example.com",
    "azCount": "2",
    "natMode": "single",
    "functionMemoryMb": "512",
    "functionTimeoutSeconds": "15",
    "logRetentionDays": "30",
    "wafRateLimit": "2000",
    "owner": "platform-team",
    "currency": "EUR",
    "authThreatProtection": "audit",
    "reservedConcurrency": "50",
    "tags": "--path 'shop:tags.costCenter' 1234",
    "existingKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "existingNetwork": "--path 'shop:existingNetwork.vpcId' vpc-0123456789abcdef0",
    "fcmCredentials": "--secret < firebase-service-account.json",
    "stripeSecretKey": "--secret sk_test_...",
    "stripeWebhookSecret": "--secret whsec_...",
    "stripePublishableKey": "pk_test_...",
}

# Bring your own key (shop:existingKeyId): the format each cloud's key id has, and an example.
_KEY_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "aws": (
        re.compile(r"^arn:aws[a-z-]*:kms:(?P<location>[a-z0-9-]+):\d{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$"),
        "arn:aws:kms:<region>:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    "azure": (
        re.compile(
            r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.KeyVault/vaults/[a-z0-9-]{3,24}/keys/[^/]+$",
            re.I,
        ),
        "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<vault>/keys/<key>",
    ),
    "gcp": (
        re.compile(r"^projects/[^/]+/locations/(?P<location>[^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+$"),
        "projects/<project>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>",
    ),
}
_AWS_VPC = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_AWS_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_AZURE_SUBNET = re.compile(
    r"^(?P<vnet>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+)"
    r"/subnets/[^/]+$",
    re.I,
)
_GCP_NETWORK = re.compile(r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/global/networks/[a-z]([-a-z0-9]*[a-z0-9])?$")
_GCP_CONNECTOR = re.compile(r"^projects/[^/]+/locations/(?P<location>[^/]+)/connectors/[a-z][-a-z0-9]{0,23}$")
_GCP_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# Which shop:existingNetwork fields each cloud reads.
_NETWORK_FIELDS = {
    "aws": {"vpc_id", "subnet_ids"},
    "azure": {"function_subnet_ids", "endpoint_subnet_id"},
    "gcp": {"network", "connector", "connector_subnet"},
}
# Keys that must be set with `pulumi config set --secret`: a plain value would sit readable in
# Pulumi.<stack>.yaml (and in the repository holding it).
MUST_BE_SECRET = ("stripeSecretKey", "stripeWebhookSecret")
# Keys whose value never appears in an error message.
SECRET_KEYS = frozenset({"fcmCredentials", *MUST_BE_SECRET})
# Stripe's keys: the secret key (or a restricted one), the webhook endpoint's signing secret and
# the publishable key Stripe.js uses in the storefront. Test keys and live keys never mix.
_STRIPE_SECRET_KEY = re.compile(r"^(sk|rk)_(?P<mode>test|live)_[A-Za-z0-9]{10,}$")
_STRIPE_WEBHOOK_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]{16,}$")
_STRIPE_PUBLISHABLE_KEY = re.compile(r"^pk_(?P<mode>test|live)_[A-Za-z0-9]{10,}$")
STRIPE_KEYS = ("stripeSecretKey", "stripeWebhookSecret", "stripePublishableKey")
# What a Firebase service-account key (JSON) must hold for FCM HTTP v1.
_FCM_FIELDS = ("project_id", "private_key", "client_email")


class CloudSettings(BaseModel):
    """A per-cloud section (``shop:azure``, ``shop:gcp``): reserved for that cloud's provider.

    Extra keys are kept; the Azure/GCP issue replaces these with typed models.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ExistingNetwork(BaseModel):
    """``shop:existingNetwork``: a network made outside the stack, which then creates none.

    AWS: the VPC and >= 2 private subnets (different zones, with egress) the functions run in.
    Azure: one subnet per function app (Flex Consumption: a subnet serves one app), delegated to
    Microsoft.App/environments, and in prod the private endpoints' subnet; all in one VNet. GCP: the VPC network, and either a Serverless VPC Access connector or the /28 subnet to make one in.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    vpc_id: str | None = Field(None, alias="vpcId")
    subnet_ids: tuple[str, ...] = Field((), alias="subnetIds")
    function_subnet_ids: dict[str, str] = Field(default_factory=dict, alias="functionSubnetIds")
    endpoint_subnet_id: str | None = Field(None, alias="endpointSubnetId")
    network: str | None = None
    connector: str | None = None
    connector_subnet: str | None = Field(None, alias="connectorSubnet")


class StackConfig(BaseModel):
    """Everything a stack can set. Field aliases are the config keys (camelCase)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    cloud: Literal["aws", "azure", "gcp"] = "aws"
    region: str = "eu-west-1"
    environment: Literal["dev", "prod"] = "dev"
    domain_name: str | None = Field(None, alias="domainName")
    hosted_zone_id: str | None = Field(None, alias="hostedZoneId")
    alert_email: str = Field(alias="alertEmail")
    sender_email: str = Field(alias="senderEmail")
    az_count: int = Field(2, alias="azCount", ge=2, le=6)
    nat_mode: Literal["single", "perAz"] = Field("single", alias="natMode")
    function_memory_mb: int = Field(512, alias="functionMemoryMb", ge=128, le=10240)
    # HTTP APIs end an integration after 30 s; a longer function timeout would only hide that.
    function_timeout_seconds: int = Field(15, alias="functionTimeoutSeconds", ge=1, le=29)
    log_retention_days: int = Field(30, alias="logRetentionDays")
    waf_rate_limit: int = Field(2000, alias="wafRateLimit", ge=10, le=2_000_000_000)
    reserved_concurrency: int | None = Field(None, alias="reservedConcurrency", ge=1)
    # Risk-based sign-in protection; anything but "off" needs the Cognito Plus tier (billed per user).
    auth_threat_protection: Literal["off", "audit", "enforced"] = Field("off", alias="authThreatProtection")
    # Access-token lifetime: how long a deleted or disabled user keeps customer access at worst.
    auth_access_token_minutes: int = Field(15, alias="authAccessTokenMinutes", ge=5, le=60)
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    # Unpaid (PLACED) orders older than this are cancelled and restocked by the expiry schedule.
    order_expiry_hours: int = Field(24, alias="orderExpiryHours", ge=1, le=720)
    owner: str = Field("platform-team", min_length=1, max_length=256)
    tags: dict[str, str] = Field(default_factory=dict)
    # Bring your own: the stack uses these instead of creating its key / network.
    existing_key_id: str | None = Field(None, alias="existingKeyId")
    existing_network: ExistingNetwork | None = Field(None, alias="existingNetwork")
    azure: CloudSettings = Field(default_factory=CloudSettings)
    gcp: CloudSettings = Field(default_factory=CloudSettings)
    # Firebase Cloud Messaging credentials (the service-account key JSON), set with
    # `pulumi config set --secret`: mobile push of order updates. Unset: e-mail only.
    fcm_credentials: SecretStr | None = Field(None, alias="fcmCredentials")
    # Card payments through Stripe (docs/deploy-*.md, "Payments (Stripe)"): all three or none.
    # Unset: the payment routes answer 503 PAYMENTS_UNAVAILABLE.
    stripe_secret_key: SecretStr | None = Field(None, alias="stripeSecretKey")
    stripe_webhook_secret: SecretStr | None = Field(None, alias="stripeWebhookSecret")
    stripe_publishable_key: str | None = Field(None, alias="stripePublishableKey")

    @field_validator("stripe_secret_key", "stripe_webhook_secret")
    @classmethod
    def _stripe_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret_key = info.field_name == "stripe_secret_key"
        pattern = _STRIPE_SECRET_KEY if secret_key else _STRIPE_WEBHOOK_SECRET
        if not pattern.match(value.get_secret_value().strip()):
            raise ValueError(
                "must be a Stripe secret key (sk_test_..., sk_live_..., or restricted rk_test_.../rk_live_...; "
                "Dashboard > Developers > API keys)"
                if secret_key
                else "must be a webhook endpoint's signing secret (whsec_...; Dashboard > Developers > Webhooks)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("stripe_publishable_key")
    @classmethod
    def _stripe_publishable(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not _STRIPE_PUBLISHABLE_KEY.match(value):
            raise ValueError("must be a Stripe publishable key (pk_test_... or pk_live_...)")
        return value

    @field_validator("fcm_credentials")
    @classmethod
    def _fcm(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            key = json.loads(value.get_secret_value())
        except ValueError:
            key = None
        missing = [f for f in _FCM_FIELDS if not (isinstance(key, dict) and isinstance(key.get(f), str) and key[f])]
        well_formed = (
            isinstance(key, dict)
            and not missing
            and key["client_email"].endswith(".iam.gserviceaccount.com")
            and "-----BEGIN PRIVATE KEY-----" in key["private_key"]
        )
        if not well_formed or key.get("type") != "service_account":
            raise ValueError(
                'must be a Firebase service-account key (JSON with type "service_account", '
                + ", ".join(_FCM_FIELDS)
                + "; Firebase console > Project settings > Service accounts > Generate new private key)"
            )
        return value

    @field_validator("alert_email", "sender_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("must be an e-mail address like name@example.com")
        return value

    @field_validator("domain_name")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.rstrip(".").lower()
        if not _DOMAIN.match(value):
            raise ValueError("must be a fully qualified domain name like shop.example.com")
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _HOSTED_ZONE.match(value):
            raise ValueError("must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            raise ValueError(f"must be one of the CloudWatch Logs retention periods {list(CLOUDWATCH_RETENTION_DAYS)}")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_values_as_text(cls, value: object) -> object:
        """`pulumi config set --path 'shop:tags.costCenter' 1234` stores a number: tags are text everywhere."""
        if not isinstance(value, Mapping):
            return value
        bad = [str(k) for k, v in value.items() if v is None or isinstance(v, Mapping | list | tuple)]
        if bad:
            raise ValueError(f"values of {bad} must be text, a number or true/false (not a list, object or null)")
        return {str(k): _tag_text(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _tags_fit_the_cloud(self) -> StackConfig:
        problems = tag_problems(self.tags, self.cloud)
        if problems:
            raise ValueError(
                f"{NAMESPACE}:tags cannot be applied on {self.cloud}:\n    "
                + "\n    ".join(problems)
                + f"\n  fix each with `pulumi config set --path '{NAMESPACE}:tags.<key>' <value>` "
                f"or `pulumi config rm --path '{NAMESPACE}:tags.<key>'`"
            )
        return self

    @model_validator(mode="after")
    def _cross_checks(self) -> StackConfig:
        if bool(self.domain_name) != bool(self.hosted_zone_id) and self.cloud == "aws":
            missing = "hostedZoneId" if self.domain_name else "domainName"
            raise ValueError(
                f"{NAMESPACE}:domainName and {NAMESPACE}:hostedZoneId go together (the certificate is validated "
                f"in that zone): set `pulumi config set {NAMESPACE}:{missing} {EXAMPLES[missing]}` "
                f"or remove the other one"
            )
        if self.cloud == "gcp" and self.is_prod and not self.domain_name:
            raise ValueError(
                f"{NAMESPACE}:domainName is required for a prod stack on gcp (the load balancer's managed "
                f"certificate needs a domain you own): set `pulumi config set {NAMESPACE}:domainName "
                f"{EXAMPLES['domainName']}`"
            )
        if self.cloud == "aws" and self.is_prod and not self.domain_name:
            raise ValueError(
                f"{NAMESPACE}:domainName and {NAMESPACE}:hostedZoneId are required for a prod stack on aws (the API "
                f"answers only CloudFront, by mutual TLS on a sub-domain of it): set `pulumi config set "
                f"{NAMESPACE}:domainName {EXAMPLES['domainName']}` and `pulumi config set {NAMESPACE}:hostedZoneId "
                f"{EXAMPLES['hostedZoneId']}` (a Route 53 public hosted zone you own)"
            )
        if self.cloud == "aws" and not _AWS_REGION.match(self.region):
            raise ValueError(
                f"{NAMESPACE}:region {self.region!r} is not an AWS region: "
                f"set `pulumi config set {NAMESPACE}:region {EXAMPLES['region']}`"
            )
        return self

    @model_validator(mode="after")
    def _bring_your_own(self) -> StackConfig:
        problems = key_id_problems(self.existing_key_id, self.cloud, self.region)
        if self.existing_network is not None:
            problems += network_problems(self.existing_network, self.cloud, self.region, self.is_prod)
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    @model_validator(mode="after")
    def _stripe_together(self) -> StackConfig:
        problems = stripe_problems(self)
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def takes_cards(self) -> bool:
        """Stripe is configured (the three keys, validated together)."""
        return self.stripe_secret_key is not None


def stripe_problems(config: StackConfig) -> list[str]:
    """Why the Stripe keys cannot work together: all three or none, one mode (test or live)."""
    given = {
        "stripeSecretKey": config.stripe_secret_key,
        "stripeWebhookSecret": config.stripe_webhook_secret,
        "stripePublishableKey": config.stripe_publishable_key,
    }
    missing = [k for k, v in given.items() if v is None]
    if len(missing) == len(given):
        return []
    if missing:
        return [
            f"{NAMESPACE}:{k} is required with the other Stripe keys (card payments need all three): "
            f"set `pulumi config set {NAMESPACE}:{k} {EXAMPLES[k]}`, or remove the others"
            for k in missing
        ]
    secret = config.stripe_secret_key.get_secret_value() if config.stripe_secret_key else ""
    secret_mode = _STRIPE_SECRET_KEY.match(secret)
    public_mode = _STRIPE_PUBLISHABLE_KEY.match(config.stripe_publishable_key or "")
    if secret_mode and public_mode and secret_mode.group("mode") != public_mode.group("mode"):
        return [
            f"{NAMESPACE}:stripeSecretKey is a {secret_mode.group('mode')} key but {NAMESPACE}:stripePublishableKey "
            f"a {public_mode.group('mode')} key (Stripe refuses to mix modes): set both from the same mode, e.g. "
            f"`pulumi config set --secret {NAMESPACE}:stripeSecretKey sk_{public_mode.group('mode')}_...`"
        ]
    return []


def key_id_problems(key_id: str | None, cloud: str, region: str) -> list[str]:
    """Why `key_id` cannot be the stack key on `cloud` (empty: it can, or none is given)."""
    if not key_id:
        return []
    pattern, example = _KEY_FORMATS[cloud]
    fix = f"`pulumi config set {NAMESPACE}:existingKeyId {example}`"
    match = pattern.match(key_id)
    if match is None:
        return [f"{NAMESPACE}:existingKeyId {key_id!r} is not a {cloud} key id: set {fix}"]
    location = match.groupdict().get("location")
    if location is not None and location != region:
        return [
            f"{NAMESPACE}:existingKeyId is in {location}, the stack in {region} (the services encrypt only with "
            f"a key of their own region): set {fix.replace('<region>', region)}"
        ]
    return []


def network_problems(net: ExistingNetwork, cloud: str, region: str, is_prod: bool) -> list[str]:
    """Every reason `net` cannot carry the stack on `cloud`, one line each, with its fix."""
    key = f"{NAMESPACE}:existingNetwork"
    given = {name for name in ExistingNetwork.model_fields if getattr(net, name)}
    problems = [
        f"{key}.{ExistingNetwork.model_fields[name].alias or name} is not used on {cloud}: "
        f"`pulumi config rm --path '{key}.{ExistingNetwork.model_fields[name].alias or name}'`"
        for name in sorted(given - _NETWORK_FIELDS[cloud])
    ]
    checks = {"aws": _aws_network_problems, "azure": _azure_network_problems, "gcp": _gcp_network_problems}
    return problems + [f"{key}.{p}" for p in checks[cloud](net, region, is_prod)]


def _aws_network_problems(net: ExistingNetwork, region: str, is_prod: bool) -> list[str]:
    problems = []
    if not net.vpc_id or not _AWS_VPC.match(net.vpc_id):
        problems.append(f"vpcId must be a VPC id: `pulumi config set --path '{NAMESPACE}:existingNetwork.vpcId' "
                        "vpc-0123456789abcdef0`")  # fmt: skip
    bad = [s for s in net.subnet_ids if not _AWS_SUBNET.match(s)]
    if len(net.subnet_ids) < 2 or bad:
        problems.append(
            f"subnetIds must be >= 2 private subnet ids in different zones (got {list(net.subnet_ids)}): "
            f"`pulumi config set --path '{NAMESPACE}:existingNetwork.subnetIds[0]' subnet-0123456789abcdef0` "
            "(and [1]...)"
        )
    return problems


def _azure_network_problems(net: ExistingNetwork, region: str, is_prod: bool) -> list[str]:
    from functions.shop.datamodel import SERVICES  # the function apps, one subnet each

    path = f"{NAMESPACE}:existingNetwork"
    fix = f"`pulumi config set --path '{path}.functionSubnetIds.<service>' <subnet id>`"
    problems = []
    wanted = sorted(s.name for s in SERVICES)
    if sorted(net.function_subnet_ids) != wanted:
        problems.append(f"functionSubnetIds must name one subnet per function app {wanted} "
                        f"(got {sorted(net.function_subnet_ids)}): {fix}")  # fmt: skip
    subnets = [*net.function_subnet_ids.values(), *([net.endpoint_subnet_id] if net.endpoint_subnet_id else [])]
    matches = [_AZURE_SUBNET.match(s) for s in subnets]
    if any(m is None for m in matches):
        problems.append(f"subnet ids must be /subscriptions/<sub>/resourceGroups/<rg>/providers/"
                        f"Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>: {fix}")  # fmt: skip
    elif len({m.group("vnet").lower() for m in matches if m is not None}) > 1:
        problems.append("functionSubnetIds and endpointSubnetId must be subnets of one VNet")
    if is_prod and not net.endpoint_subnet_id:
        problems.append(f"endpointSubnetId is required in prod (the private endpoints go there): "
                        f"`pulumi config set --path '{path}.endpointSubnetId' <subnet id>`")  # fmt: skip
    return problems


def _gcp_network_problems(net: ExistingNetwork, region: str, is_prod: bool) -> list[str]:
    path = f"{NAMESPACE}:existingNetwork"
    problems = []
    if not net.network or not _GCP_NETWORK.match(net.network):
        problems.append(f"network must be projects/<project>/global/networks/<name>: "
                        f"`pulumi config set --path '{path}.network' projects/<project>/global/networks/<name>`")  # fmt: skip
    if bool(net.connector) == bool(net.connector_subnet):
        problems.append(f"set exactly one of connector (an existing Serverless VPC Access connector) and "
                        f"connectorSubnet (a /28 subnet of the network to make one in): "
                        f"`pulumi config set --path '{path}.connectorSubnet' <subnet name>`")  # fmt: skip
    match = _GCP_CONNECTOR.match(net.connector or "")
    if net.connector and (match is None or match.group("location") != region):
        problems.append(f"connector must be projects/<project>/locations/{region}/connectors/<name> (the stack's "
                        f"region): `pulumi config set --path '{path}.connector' "
                        f"projects/<project>/locations/{region}/connectors/<name>`")  # fmt: skip
    if net.connector_subnet and not _GCP_NAME.match(net.connector_subnet):
        problems.append(f"connectorSubnet must be a subnet name like connector-28: "
                        f"`pulumi config set --path '{path}.connectorSubnet' connector-28`")  # fmt: skip
    return problems


def _tag_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def tag_problems(tags: Mapping[str, str], cloud: str) -> list[str]:
    """Every reason `tags` would be refused as tags (labels on GCP) on `cloud`, one line each."""
    problems = []
    seen: dict[str, str] = {}
    for key, value in tags.items():
        folded = key.lower()
        if folded in RESERVED_TAGS:
            fix = f"set {NAMESPACE}:owner instead" if folded == "owner" else "the program sets it"
            problems.append(f"{key!r}: reserved ({fix})")
            continue
        if cloud != "aws" and folded in seen:
            problems.append(f"{key!r} and {seen[folded]!r}: the same key on {cloud} (keys ignore case)")
        seen[folded] = key
        problems.extend(f"{key!r}: {p}" for p in _tag_rule_breaks(key, value, cloud))
    limit = _MAX_TAGS[cloud] - len(RESERVED_TAGS)
    if len(tags) > limit:
        problems.append(f"{len(tags)} tags: at most {limit} fit beside the program's {len(RESERVED_TAGS)}")
    return problems


def _tag_rule_breaks(key: str, value: str, cloud: str) -> list[str]:
    breaks = []
    if cloud == "aws":
        if not 1 <= len(key) <= 128 or not _AWS_TAG_TEXT.match(key):
            breaks.append("AWS tag keys are 1-128 letters, digits, spaces and _.:/=+-@")
        if key.lower().startswith("aws:"):
            breaks.append("the aws: prefix is reserved for AWS")
        if len(value) > 256 or not _AWS_TAG_TEXT.match(value):
            breaks.append(f"value {value!r}: AWS tag values are at most 256 letters, digits, spaces and _.:/=+-@")
    elif cloud == "azure":
        if not 1 <= len(key) <= 128 or _AZURE_TAG_KEY_BAD.search(key):
            breaks.append("Azure tag names are 1-128 characters without < > % & \\ ? / # :")
        if len(value) > 256:
            breaks.append(f"value {value[:20]!r}...: Azure tag values are at most 256 characters")
    else:
        if not _GCP_LABEL_KEY.match(key.lower()):
            breaks.append("GCP label keys are 1-63 letters (lowered), digits, _ and -, starting with a letter")
        if not _GCP_LABEL_VALUE.match(value.lower()):
            breaks.append(f"value {value!r}: GCP label values are at most 63 letters (lowered), digits, _ and -")
    return breaks


class ConfigError(ValueError):
    """Raised with every problem of the stack config, one line each."""


# Field name -> config key (the alias), for error messages.
_KEY_BY_FIELD = {name: (f.alias or name) for name, f in StackConfig.model_fields.items()}
CONFIG_KEYS: tuple[str, ...] = tuple(_KEY_BY_FIELD.values())


def parse_stack_config(values: Mapping[str, object], *, plain: Collection[str] = ()) -> StackConfig:
    """Validate raw config values (config key -> value as Pulumi returns it, strings included).
    `plain`: the keys set without --secret (MUST_BE_SECRET ones among them are refused)."""
    unprotected = [
        f"{NAMESPACE}:{key} must be set with --secret (a plain value is readable in Pulumi.<stack>.yaml): "
        f"`pulumi config set --secret {NAMESPACE}:{key} {EXAMPLES[key].removeprefix('--secret ')}`"
        for key in MUST_BE_SECRET
        if key in plain and values.get(key)
    ]
    try:
        config = StackConfig.model_validate(dict(values))
    except ValidationError as exc:
        raise ConfigError(_explain(exc, values, unprotected)) from None
    if unprotected:
        raise ConfigError("invalid stack configuration:\n  " + "\n  ".join(unprotected))
    return config


def _explain(exc: ValidationError, values: Mapping[str, object], lines: list[str]) -> str:
    lines = list(lines)
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if not loc:  # model-level check: its message already names keys and the fix
            lines.append(str(err["msg"]).removeprefix("Value error, "))
            continue
        key = _KEY_BY_FIELD.get(loc[0], loc[0])
        full_key = f"{NAMESPACE}:{key}"
        example = EXAMPLES.get(key, "<value>")
        fix = (
            f"pulumi config set {example}"
            if example.startswith("--path")
            else f"pulumi config set {full_key} {example}"
        )
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            lines.append(f"{full_key} is required: set `{fix}`")
        elif err["type"] == "extra_forbidden":
            lines.append(f"{full_key} is not a known setting (known: {', '.join(CONFIG_KEYS)}): remove it")
        else:
            got = "<secret>" if key in SECRET_KEYS else values.get(key, err.get("input"))
            lines.append(f"{full_key} {_lower_first(msg)} (got {got!r}): set `{fix}`")
    return "invalid stack configuration:\n  " + "\n  ".join(lines)


def _lower_first(text: str) -> str:
    text = text.replace("Input should be", "must be").replace("greater than or equal to", ">=")
    text = text.replace("less than or equal to", "<=")
    return text[:1].lower() + text[1:]


_OBJECT_KEYS = {"tags", "azure", "gcp", "existingNetwork"}


def load_stack_config(config: pulumi.Config | None = None) -> StackConfig:
    """Read and validate the ``shop:*`` keys of the current stack."""
    config = config or pulumi.Config(NAMESPACE)
    values: dict[str, object] = {}
    for key in CONFIG_KEYS:
        value = config.get_object(key) if key in _OBJECT_KEYS else config.get(key)
        if value is not None:
            values[key] = value
    plain = [key for key in values if not pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}")]
    return parse_stack_config(values, plain=plain)
