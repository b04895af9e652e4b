"""What every Azure module needs: context, settings, the resource group, the deploying client,
and the stack's tags, applied once to every taggable resource (azure-native has no provider
default tags)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.resources as resources

from components.specs import DeploymentContext
from policy.rules import AZURE_TAGGED
from providers.azure.settings import AzureSettings


def stack_tags(context: DeploymentContext) -> dict[str, str]:
    return {
        **context.tags,
        "project": context.project,
        "stack": context.stack,
        "environment": context.environment,
        "managed-by": "pulumi",
    }


def tag_resources(tags: dict[str, str]) -> None:
    """Every taggable azure-native resource created from now on carries `tags`; its own tags
    (a secret's kind, an app's service) are added to them. A stack transformation runs in the
    SDK, so the unit tests' mocks see the tags as `pulumi up` sends them."""

    def add_tags(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ not in AZURE_TAGGED:
            return None
        own = args.props.get("tags") or {}
        if not isinstance(own, dict):
            raise TypeError(f"{args.name}: its own tags must be a plain dict to be merged with the stack's")
        return pulumi.ResourceTransformationResult({**args.props, "tags": {**tags, **own}}, args.opts)

    pulumi.runtime.register_stack_transformation(add_tags)


@dataclass(frozen=True)
class AzureEnv:
    """The per-stack environment of the Azure provider, made by ``Provider.foundation``."""

    context: DeploymentContext
    settings: AzureSettings
    tags: dict[str, str]
    resource_group: resources.ResourceGroup
    #: tenant, subscription and object id of the deploying principal
    client: pulumi.Output[authorization.GetClientConfigResult]

    @classmethod
    def create(cls, context: DeploymentContext, settings: AzureSettings, parent: pulumi.Resource) -> AzureEnv:
        group = resources.ResourceGroup("rg", location=context.region, opts=pulumi.ResourceOptions(parent=parent))
        client = authorization.get_client_config_output()
        return cls(context, settings, stack_tags(context), group, client)

    @property
    def location(self) -> str:
        return self.context.region

    @property
    def rg_name(self) -> pulumi.Output[str]:
        return self.resource_group.name

    @property
    def subscription_id(self) -> pulumi.Output[str]:
        return self.client.subscription_id

    @property
    def secret_prefix(self) -> str:
        """Key Vault names allow only letters, digits and dashes: /shop/dev/ becomes shop-dev."""
        return self.context.parameters_path.strip("/").replace("/", "-")

    def guid(self, *parts: str) -> str:
        """A stable GUID per stack and purpose (names ARM wants as GUIDs)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join((self.context.name_prefix, *parts))))
