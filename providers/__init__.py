"""Cloud providers: one package per cloud, its ``provider.py`` implementing ``providers.base.CloudProvider``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # at run time only the chosen cloud's module is imported: `providers.aws.iam` loads without Pulumi
    from components.specs import DeploymentContext
    from providers.base import CloudProvider

CLOUDS = ("aws", "azure", "gcp")


# cloud -> module holding its `Provider` class, imported only for the stack's own cloud: an AWS
# stack never pays for importing pulumi_azure_native or pulumi_gcp.
PROVIDER_MODULES: dict[str, str] = {cloud: f"providers.{cloud}.provider" for cloud in CLOUDS}


def get_provider(cloud: str, context: DeploymentContext) -> CloudProvider:
    """The provider for `cloud`, bound to this deployment's context."""
    module_name = PROVIDER_MODULES.get(cloud)
    if module_name is None:
        raise ValueError(f"unknown cloud {cloud!r}; known: {sorted(PROVIDER_MODULES)}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise NotImplementedError(f"the {cloud} provider ({module_name}) is not implemented yet") from exc
        raise
    provider: CloudProvider = module.Provider(context)
    return provider
