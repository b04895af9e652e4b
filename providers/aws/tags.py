"""Default tags and the explicit AWS providers every resource is created with.

Tags are set once, as ``default_tags`` on explicit providers, so every taggable resource
carries them without each module repeating them (and untaggable ones never get them).
A second provider pinned to us-east-1 serves what CloudFront requires there: the WAF web
ACL (CLOUDFRONT scope) and the ACM certificate.
"""

from __future__ import annotations

import pulumi_aws as aws

from components.specs import DeploymentContext

GLOBAL_REGION = "us-east-1"


def default_tags(context: DeploymentContext) -> dict[str, str]:
    """project/stack/environment/owner, then the stack's own tags (which may not override them)."""
    base = {
        "project": context.project,
        "stack": context.stack,
        "environment": context.environment,
        "managed-by": "pulumi",
    }
    return {**context.tags, **base}


def create_providers(context: DeploymentContext) -> tuple[aws.Provider, aws.Provider]:
    """(regional provider, us-east-1 provider), both tagging with default_tags."""
    tags = aws.ProviderDefaultTagsArgs(tags=default_tags(context))
    regional = aws.Provider("aws", region=context.region, default_tags=tags)
    global_ = aws.Provider("aws-us-east-1", region=GLOBAL_REGION, default_tags=tags)
    return regional, global_
