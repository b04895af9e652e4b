"""The Pulumi program body: typed config -> provider for the stack's cloud -> Shop -> outputs.

``__main__.py`` calls ``build()``; the infra tests call it too, under Pulumi mocks, so the
tests exercise exactly what ``pulumi up`` runs.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.config import StackConfig, load_stack_config
from components.shop import ROOT, Shop
from components.specs import DeploymentContext
from functions.shop import datamodel
from providers import get_provider


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


def build(*, build_dependencies: bool = True, site_dir: Path | None = None) -> Shop:
    config = load_stack_config()
    provider = get_provider(config.cloud, deployment_context(config))
    shop = Shop("shop", config, provider, site_dir=site_dir or ROOT / "site", build_dependencies=build_dependencies)
    auth = shop.auth.result
    pulumi.export("cloud", config.cloud)
    pulumi.export("region", config.region)
    pulumi.export("environment", config.environment)
    pulumi.export("siteUrl", shop.site_url)
    pulumi.export("apiUrl", shop.api_url)
    pulumi.export("userPoolId", auth.user_pool_id)
    pulumi.export("userPoolClientId", auth.client_id)
    pulumi.export("tableName", shop.database.result.table_names[datamodel.SHOP_TABLE.name])
    pulumi.export("topic", shop.notifications.result.topic_ref)
    pulumi.export("alarmTopic", shop.monitoring.result.alarm_topic_ref)
    pulumi.export("siteBucket", shop.static_site.result.bucket_name)
    pulumi.export("parametersPath", shop.configuration.result.path)
    pulumi.export("cdnDistributionId", shop.cdn.result.distribution_id)
    pulumi.export("dashboard", shop.monitoring.result.dashboard_name)
    pulumi.export("functionNames", {s: f.name for s, f in shop.functions.result.functions.items()})
    return shop
