"""WAFv2 web ACL for CloudFront (CLOUDFRONT scope, so created in us-east-1).

WAF cannot attach to an HTTP API; the API is protected because it is reached through the
distribution this ACL is attached to.
"""

from __future__ import annotations

import pulumi_aws as aws

from providers.aws.env import AwsEnv
from providers.base import Parent

# (priority, AWS managed rule group). IP reputation first: cheapest way to drop known-bad sources.
MANAGED_RULE_GROUPS = (
    (1, "AWSManagedRulesAmazonIpReputationList"),
    (2, "AWSManagedRulesCommonRuleSet"),
    (3, "AWSManagedRulesKnownBadInputsRuleSet"),
)
RATE_RULE = "rate-limit-per-ip"


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgs:
    return aws.wafv2.WebAclVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _rule_visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def create_web_acl(env: AwsEnv, rate_limit: int, parent: Parent) -> aws.wafv2.WebAcl:
    rules = [
        # Per client IP, per 5-minute window; blocks floods (and credential stuffing on /api/auth/*).
        aws.wafv2.WebAclRuleArgs(
            name=RATE_RULE,
            priority=0,
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    limit=rate_limit, aggregate_key_type="IP", evaluation_window_sec=300
                )
            ),
            visibility_config=_rule_visibility(RATE_RULE),
        )
    ]
    for priority, group in MANAGED_RULE_GROUPS:
        rules.append(
            aws.wafv2.WebAclRuleArgs(
                name=group,
                priority=priority,
                # "none": keep each managed rule's own action (block).
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                    none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                ),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=_rule_visibility(group),
            )
        )
    return aws.wafv2.WebAcl(
        "cdn",
        scope="CLOUDFRONT",
        description="Shop CDN: AWS managed rules and a per-IP rate limit",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        rules=rules,
        visibility_config=_visibility("shop-cdn"),
        opts=env.opts(parent, us_east_1=True),
    )
