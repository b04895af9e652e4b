"""The Pulumi program body: typed config -> provider for the stack's cloud -> Shop -> outputs.

``__main__.py`` calls ``build()``; the infra tests call it too, under Pulumi mocks, so the
tests exercise exactly what ``pulumi up`` runs.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.config import StackConfig, load_stack_config
from components.shop import ROOT, Shop, Transformations
from components.specs import DeploymentContext
from functions.shop import datamodel, routes
from providers import get_provider
from providers.base import CloudProvider

# The route Stripe posts payment events to (functions/shop/payments.py), under the site's URL.
PAYMENTS_WEBHOOK_PATH = next(r.path for r in routes.ROUTES if r.operation_id == "paymentWebhook")


def deployment_context(config: StackConfig) -> DeploymentContext:
    return DeploymentContext(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        cloud=config.cloud,
        region=config.region,
        environment=config.environment,
        # The owner tag always reflects shop:owner, whatever shop:tags says.
        tags={**config.tags, "owner": config.owner},
        cloud_settings=(config.azure if config.cloud == "azure" else config.gcp).model_dump(by_alias=True)
        if config.cloud != "aws"
        else {},
    )


def build(
    *,
    build_dependencies: bool = True,
    site_dir: Path | None = None,
    outputs: dict[str, object] | None = None,
    config: StackConfig | None = None,
    transformations: Transformations | None = None,
) -> Shop:
    """Build the stack and export its outputs (also copied into `outputs` when given).

    `config`: the stack's settings, built in code by a program embedding the shop; default: read
    from the stack's ``shop:*`` config. `transformations`: per component, see ``Shop``."""
    config = config or load_stack_config()
    provider = get_provider(config.cloud, deployment_context(config))
    shop = Shop(
        "shop",
        config,
        provider,
        site_dir=site_dir or ROOT / "site",
        build_dependencies=build_dependencies,
        transformations=transformations,
    )
    exported = stack_outputs(config, shop, provider)
    for name, value in exported.items():
        pulumi.export(name, value)
    if outputs is not None:
        outputs.update(exported)
    return shop


def stack_outputs(config: StackConfig, shop: Shop, provider: CloudProvider) -> dict[str, object]:
    """The same keys on every cloud (apiUrl is the API's origin: routes are under <apiUrl>/api),
    then the names only that cloud has (provider.stack_outputs())."""
    auth = shop.auth.result
    common = {
        "cloud": config.cloud,
        "region": config.region,
        "environment": config.environment,
        "siteUrl": shop.site_url,
        "apiUrl": shop.api_url,
        "userPoolId": auth.user_pool_id,
        "userPoolClientId": auth.client_id,
        "tableName": shop.database.result.table_names[datamodel.SHOP_TABLE.name],
        "topic": shop.notifications.result.topic_ref,
        "alarmTopic": shop.monitoring.result.alarm_topic_ref,
        "siteBucket": shop.static_site.result.bucket_name,
        "parametersPath": shop.configuration.result.path,
        "cdnDistributionId": shop.cdn.result.distribution_id,
        "dashboard": shop.monitoring.result.dashboard_name,
        "functionNames": {s: f.name for s, f in shop.functions.result.functions.items()},
        # Where Stripe posts payment events (through the CDN, like the storefront's own calls)
        "paymentsWebhookUrl": shop.site_url.apply(lambda url: f"{url}{PAYMENTS_WEBHOOK_PATH}"),
    }
    specific = provider.stack_outputs()
    clash = set(common) & set(specific)
    if clash:
        raise RuntimeError(f"{config.cloud} provider outputs {sorted(clash)} would replace common outputs")
    return {**common, **specific}
