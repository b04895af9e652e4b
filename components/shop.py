"""The whole shop: composes the components in dependency order. Knows no cloud."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pulumi

from components.api import Api
from components.auth import Auth
from components.cdn import Cdn
from components.config import StackConfig
from components.configuration import Configuration
from components.database import Database
from components.encryption import Encryption
from components.functions import Functions, function_environment
from components.monitoring import Monitoring
from components.network import Network
from components.notifications import Notifications
from components.specs import (
    ApiArgs,
    ApiResult,
    AuthArgs,
    AuthResult,
    CdnArgs,
    CodePackage,
    ConfigurationArgs,
    DatabaseArgs,
    EncryptionArgs,
    EncryptionResult,
    FirewallSpec,
    FunctionsArgs,
    FunctionsResult,
    GrantTargets,
    MonitoringArgs,
    NetworkArgs,
    NotificationsArgs,
    NotificationsResult,
    ParameterSpec,
    PaymentSecrets,
    StaticSiteArgs,
    StaticSiteResult,
)
from components.static_site import StaticSite
from functions.shop import datamodel, routes
from providers.base import CloudProvider

ROOT = Path(__file__).resolve().parent.parent
# The CDN sends this path pattern to the API; every route of the route table lives under it.
API_PATH_PATTERN = "/api/*"
# Parts of functions/ that are never deployed: the local dev stack and tests.
CODE_EXCLUDES = ("local", "tests")
# The Shop's components by logical name: the keys `transformations` accepts.
COMPONENT_NAMES = (
    "encryption", "network", "database", "notifications", "auth", "site",
    "functions", "api", "cdn", "configuration", "monitoring",
)  # fmt: skip
Transformations = Mapping[str, Sequence[pulumi.ResourceTransformation]]


class Shop(pulumi.ComponentResource):
    """Storefront, API, functions, data, identity, notifications and monitoring of one stack."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        provider: CloudProvider,
        *,
        site_dir: Path = ROOT / "site",
        build_dependencies: bool = True,
        transformations: Transformations | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`transformations`: component name (COMPONENT_NAMES) -> Pulumi resource transformations run
        on that component and every resource under it, to change what the providers create."""
        super().__init__("shop:components:Shop", name, None, opts)
        ctx = provider.context
        child = _child_options(self, transformations or {})

        provider.foundation(self)
        self.encryption = Encryption("encryption", _encryption_args(config), provider, child("encryption"))
        key = self.encryption.result
        self.network = Network("network", _network_args(config, key), provider, child("network"))
        self.database = Database(
            "database",
            DatabaseArgs(tables=datamodel.TABLES, encryption=key, deletion_protection=config.is_prod),
            provider,
            child("database"),
        )
        self.notifications = Notifications(
            "notifications", _notifications_args(config, key), provider, child("notifications")
        )
        self.auth = Auth("auth", _auth_args(config, self.notifications.result), provider, child("auth"))
        self.static_site = StaticSite("site", _site_args(config, self.auth.result, site_dir), provider, child("site"))
        functions_args = self._functions_args(config, ctx.parameters_path, build_dependencies)
        self.functions = Functions("functions", functions_args, provider, child("functions"))
        api_args = _api_args(config, self.functions.result, self.auth.result, key)
        self.api = Api("api", api_args, provider, child("api"))
        self.cdn = Cdn("cdn", _cdn_args(config, self.static_site.result, self.api.result), provider, child("cdn"))
        self.configuration = Configuration(
            "configuration",
            ConfigurationArgs(parameters=self._parameters(config), encryption=key),
            provider,
            child("configuration"),
        )
        self.monitoring = Monitoring("monitoring", self._monitoring_args(config), provider, child("monitoring"))

        self.site_url = self.cdn.result.url
        self.api_url = self.api.result.url
        self.register_outputs(
            {
                "siteUrl": self.site_url,
                "apiUrl": self.api_url,
                "userPoolId": self.auth.result.user_pool_id,
                "userPoolClientId": self.auth.result.client_id,
                "tableName": self.database.result.table_names[datamodel.SHOP_TABLE.name],
                "alarmTopic": self.monitoring.result.alarm_topic_ref,
            }
        )

    def _functions_args(self, config: StackConfig, parameters_path: str, build_dependencies: bool) -> FunctionsArgs:
        key, auth, site = self.encryption.result, self.auth.result, self.static_site.result
        # Images are served by the CDN with the site: same origin unless a domain is known up front
        # (the CDN host name only exists after the functions it fronts).
        media_base_url = (
            f"https://{config.domain_name}/{datamodel.MEDIA_PREFIX}"
            if config.domain_name
            else f"/{datamodel.MEDIA_PREFIX}"
        )
        return FunctionsArgs(
            services=datamodel.SERVICES,
            code=CodePackage(
                source_dir=ROOT / "functions",
                exclude=CODE_EXCLUDES,
                requirements_file=ROOT / "requirements" / "runtime.txt",
                python_version="3.12",
                build_dependencies=build_dependencies,
            ),
            environment=function_environment(
                order_expiry_hours=config.order_expiry_hours,
                cloud=config.cloud,
                currency=config.currency,
                parameters_path=parameters_path,
                media_base_url=media_base_url,
                database=self.database.result,
                notifications=self.notifications.result,
                auth=auth,
                site=site,
            ),
            targets=GrantTargets(
                database=self.database.result,
                notifications=self.notifications.result,
                auth=auth,
                site=site,
                media_prefix=datamodel.MEDIA_PREFIX,
                encryption=key,
            ),
            network=self.network.result,
            memory_mb=config.function_memory_mb,
            timeout_seconds=config.function_timeout_seconds,
            log_retention_days=config.log_retention_days,
            parameters_path=parameters_path,
            reserved_concurrency=config.reserved_concurrency,
            payments=_payment_secrets(config),
        )

    def _parameters(self, config: StackConfig) -> tuple[ParameterSpec, ...]:
        auth = self.auth.result
        return (
            ParameterSpec("environment", config.environment, description="dev or prod"),
            ParameterSpec("currency", config.currency, description="Currency of every price"),
            ParameterSpec("senderEmail", config.sender_email, description="From: of customer e-mails"),
            ParameterSpec("tableName", self.database.result.table_names[datamodel.SHOP_TABLE.name]),
            ParameterSpec("topic", self.notifications.result.topic_ref, description="Order events"),
            ParameterSpec("userPoolId", auth.user_pool_id),
            ParameterSpec("userPoolClientId", auth.client_id),
            ParameterSpec("apiUrl", self.api.result.url),
            ParameterSpec("siteUrl", self.cdn.result.url),
            # Secret: who gets paged. Not sensitive enough to hide from operators, but
            # kept out of plain text to exercise (and prove) the secure-parameter path.
            ParameterSpec("alertEmail", config.alert_email, secret=True, description="Alarm recipient"),
        )

    def _monitoring_args(self, config: StackConfig) -> MonitoringArgs:
        return MonitoringArgs(
            alert_email=config.alert_email,
            functions=self.functions.result,
            api=self.api.result,
            database=self.database.result,
            notifications=self.notifications.result,
            encryption=self.encryption.result,
            cdn=self.cdn.result,
        )


def _payment_secrets(config: StackConfig) -> PaymentSecrets | None:
    """Stripe's secret key and webhook signing secret, kept secret in the state; None without Stripe."""
    key, signing = config.stripe_secret_key, config.stripe_webhook_secret
    if key is None or signing is None:
        return None
    return PaymentSecrets(
        values={
            datamodel.STRIPE_SECRET_KEY: pulumi.Output.secret(key.get_secret_value()),
            datamodel.STRIPE_WEBHOOK_SECRET: pulumi.Output.secret(signing.get_secret_value()),
        }
    )


def _child_options(shop: Shop, transformations: Transformations) -> Callable[[str], pulumi.ResourceOptions]:
    """Options of each component: under the Shop, with the caller's transformations for it (a
    component's transformations also run on every resource under it)."""
    unknown = sorted(set(transformations) - set(COMPONENT_NAMES))
    if unknown:
        raise ValueError(f"transformations for {unknown}: no such component (known: {', '.join(COMPONENT_NAMES)})")

    def child(name: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=shop, transformations=list(transformations.get(name, ())))

    return child


def _encryption_args(config: StackConfig) -> EncryptionArgs:
    return EncryptionArgs(existing_key_id=config.existing_key_id)


def _network_args(config: StackConfig, key: EncryptionResult) -> NetworkArgs:
    return NetworkArgs(
        az_count=config.az_count, nat_mode=config.nat_mode, encryption=key, existing=config.existing_network
    )


def _notifications_args(config: StackConfig, key: EncryptionResult) -> NotificationsArgs:
    return NotificationsArgs(
        topic_name=datamodel.ORDER_EVENTS_TOPIC,
        queue_name=datamodel.NOTIFICATIONS_QUEUE,
        max_receives=datamodel.NOTIFICATION_MAX_RECEIVES,
        sender_email=config.sender_email,
        encryption=key,
        # Six times the function timeout, as AWS recommends for queue-triggered functions.
        visibility_timeout_seconds=6 * config.function_timeout_seconds,
        push_credentials=(
            pulumi.Output.secret(config.fcm_credentials.get_secret_value()) if config.fcm_credentials else None
        ),
    )


def _auth_args(config: StackConfig, notifications: NotificationsResult) -> AuthArgs:
    return AuthArgs(
        admin_group=routes.ADMIN_GROUP,
        deletion_protection=config.is_prod,
        threat_protection=config.auth_threat_protection,
        access_token_minutes=config.auth_access_token_minutes,
        email_sender=notifications if config.is_prod else None,
        site_domains=(config.domain_name,) if config.domain_name else (),
    )


def _site_args(config: StackConfig, auth: AuthResult, site_dir: Path) -> StaticSiteArgs:
    # The storefront calls the API on its own origin (the CDN routes /api/* to it), so
    # config.json needs no API URL and the site needs no CORS.
    return StaticSiteArgs(
        site_dir=site_dir,
        runtime_config={
            "apiBase": "/api",
            "cloud": config.cloud,
            "region": config.region,
            "userPoolId": auth.user_pool_id,
            "userPoolClientId": auth.client_id,
            "currency": config.currency,
            "environment": config.environment,
            # Stripe.js's card entry (publishable: meant for browsers); absent without Stripe
            **({"stripePublishableKey": config.stripe_publishable_key} if config.stripe_publishable_key else {}),
        },
        media_prefix=datamodel.MEDIA_PREFIX,
        force_destroy=not config.is_prod,
        upload_origins=(f"https://{config.domain_name}",) if config.domain_name else ("*",),
    )


def _api_args(config: StackConfig, functions: FunctionsResult, auth: AuthResult, key: EncryptionResult) -> ApiArgs:
    return ApiArgs(
        routes=routes.ROUTES,
        functions=functions,
        auth=auth,
        admin_group=routes.ADMIN_GROUP,
        log_retention_days=config.log_retention_days,
        encryption=key,
        domain_name=config.domain_name,
        dns_zone_id=config.hosted_zone_id,
    )


def _cdn_args(config: StackConfig, site: StaticSiteResult, api: ApiResult) -> CdnArgs:
    return CdnArgs(
        site=site,
        api=api,
        api_path_pattern=API_PATH_PATTERN,
        firewall=FirewallSpec(rate_limit=config.waf_rate_limit),
        domain_name=config.domain_name,
        dns_zone_id=config.hosted_zone_id,
        log_retention_days=config.log_retention_days,
        stripe=config.takes_cards,
    )
