"""What every AWS module needs: the explicit providers (default tags), account, region, options.

Tags are set once, as ``default_tags`` on explicit providers, so every taggable resource
carries them without each module repeating them (and untaggable ones never get them).
A second provider pinned to us-east-1 serves what CloudFront requires there: the WAF web
ACL (CLOUDFRONT scope) and the ACM certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import DeploymentContext
from providers.aws.settings import AwsSettings, parse_aws_settings

GLOBAL_REGION = "us-east-1"


def create_providers(context: DeploymentContext) -> tuple[aws.Provider, aws.Provider]:
    """(regional provider, us-east-1 provider), both tagging with the context's resource tags."""
    tags = aws.ProviderDefaultTagsArgs(tags=context.resource_tags)
    regional = aws.Provider("aws", region=context.region, default_tags=tags)
    global_ = aws.Provider("aws-us-east-1", region=GLOBAL_REGION, default_tags=tags)
    return regional, global_


@dataclass(frozen=True)
class AwsEnv:
    context: DeploymentContext
    settings: AwsSettings
    regional: aws.Provider
    us_east_1: aws.Provider  # CloudFront's companions: WAF (CLOUDFRONT scope) and ACM
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]

    @classmethod
    def create(cls, context: DeploymentContext) -> AwsEnv:
        settings = parse_aws_settings(context.cloud_settings)
        regional, us_east_1 = create_providers(context)
        invoke = pulumi.InvokeOptions(provider=regional)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        return cls(context, settings, regional, us_east_1, identity.account_id, partition.partition)

    @property
    def region(self) -> str:
        return self.context.region

    def opts(
        self,
        parent: pulumi.Resource,
        *,
        us_east_1: bool = False,
        depends_on: Sequence[pulumi.Resource] | None = None,
        protect: bool | None = None,
        delete_before_replace: bool | None = None,
    ) -> pulumi.ResourceOptions:
        """Child of `parent`, created with the regional (or us-east-1) provider."""
        provider = self.us_east_1 if us_east_1 else self.regional
        return pulumi.ResourceOptions(
            parent=parent,
            provider=provider,
            depends_on=list(depends_on) if depends_on is not None else None,
            protect=protect,
            delete_before_replace=delete_before_replace,
        )

    def invoke_opts(self, parent: pulumi.Resource | None = None) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(provider=self.regional, parent=parent)
