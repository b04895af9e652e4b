"""What every AWS module needs: the explicit providers, account, region, resource options."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import DeploymentContext
from providers.aws.tags import create_providers


@dataclass
class AwsEnv:
    context: DeploymentContext
    regional: aws.Provider
    us_east_1: aws.Provider  # CloudFront's companions: WAF (CLOUDFRONT scope) and ACM
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]

    @classmethod
    def create(cls, context: DeploymentContext) -> AwsEnv:
        regional, us_east_1 = create_providers(context)
        invoke = pulumi.InvokeOptions(provider=regional)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        return cls(context, regional, us_east_1, identity.account_id, partition.partition)

    @property
    def region(self) -> str:
        return self.context.region

    def opts(self, parent: pulumi.Resource, *, us_east_1: bool = False, **kwargs: object) -> pulumi.ResourceOptions:
        """Child of `parent`, created with the regional (or us-east-1) provider."""
        provider = self.us_east_1 if us_east_1 else self.regional
        return pulumi.ResourceOptions(parent=parent, provider=provider, **kwargs)  # type: ignore[arg-type]

    def invoke_opts(self, parent: pulumi.Resource | None = None) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(provider=self.regional, parent=parent)

    def arn(self, service: str, resource: str, *, region: bool = True) -> pulumi.Output[str]:
        """arn:<partition>:<service>:<region>:<account>:<resource>"""
        where = self.region if region else ""
        return pulumi.Output.concat("arn:", self.partition, f":{service}:{where}:", self.account_id, ":", resource)
