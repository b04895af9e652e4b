"""What every Azure module needs: context, settings, tags, the resource group, client config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.specs import DeploymentContext
from providers.azure.settings import AzureSettings, parse_azure_settings


@dataclass
class AzureEnv:
    context: DeploymentContext
    settings: AzureSettings
    tags: dict[str, str]
    resource_group: Any = None  # resources.ResourceGroup, created by the first component (encryption)
    _client: Any = field(default=None, repr=False)

    @classmethod
    def create(cls, context: DeploymentContext) -> AzureEnv:
        tags = {
            **context.tags,
            "project": context.project,
            "stack": context.stack,
            "environment": context.environment,
            "managed-by": "pulumi",
        }
        return cls(context=context, settings=parse_azure_settings(context.cloud_settings), tags=tags)

    @property
    def location(self) -> str:
        return self.context.region

    @property
    def rg_name(self) -> pulumi.Output[str]:
        return self.resource_group.name

    def ensure_resource_group(self, parent: pulumi.Resource) -> Any:
        if self.resource_group is None:
            import pulumi_azure_native.resources as resources

            self.resource_group = resources.ResourceGroup(
                "rg",
                location=self.location,
                tags=self.tags,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        return self.resource_group

    @property
    def client(self) -> Any:
        """tenant, subscription and object id of the deploying principal."""
        if self._client is None:
            import pulumi_azure_native.authorization as authorization

            self._client = authorization.get_client_config_output()
        return self._client

    def guid(self, *parts: str) -> str:
        """A stable GUID per stack and purpose (names ARM wants as GUIDs)."""
        import uuid

        return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join((self.context.name_prefix, *parts))))

    def opts(self, parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, **kwargs)
