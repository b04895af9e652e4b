"""The edge firewall (components.specs.FirewallSpec) as a WAFv2 web ACL for CloudFront
(CLOUDFRONT scope, so created in us-east-1), its logs and their key.

WAF cannot attach to an HTTP API; the API refuses what did not come through the
distribution this ACL is attached to (CloudFront's origin secret header, cdn.py).

Rules, in order:
  0 rate-limit-auth       per client IP, /api/auth/* only: a tighter limit (credential stuffing)
  1 rate-limit-per-ip     per client IP, everything
  2-4 AWS managed groups  IP reputation, common rule set, known bad inputs
  5 body-size-outside-api the common rule set's 8 KB body limit, outside /api/* only

The common rule set's SizeRestrictions_BODY refuses any body over 8 KB with CloudFront's
HTML 403, below the API's own 64 KiB limit (a JSON 413 from the handlers): it only counts
here, and rule 5 blocks on its label for every path but /api/*, so the API's limit is the
one that applies to API bodies and the site keeps the managed limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import FirewallSpec
from providers.aws.encryption import key_policy
from providers.aws.env import GLOBAL_REGION, AwsEnv
from providers.base import Parent

Rule = aws.wafv2.WebAclRuleArgsDict

# (priority, AWS managed rule group). IP reputation first: cheapest way to drop known-bad sources.
MANAGED_RULE_GROUPS = (
    (2, "AWSManagedRulesAmazonIpReputationList"),
    (3, "AWSManagedRulesCommonRuleSet"),
    (4, "AWSManagedRulesKnownBadInputsRuleSet"),
)
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
BODY_SIZE_RULE = "SizeRestrictions_BODY"
# The label the common rule set adds when SizeRestrictions_BODY matches (also in Count mode).
BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
AUTH_RATE_RULE = "rate-limit-auth"
RATE_RULE = "rate-limit-per-ip"
BODY_OUTSIDE_API_RULE = "body-size-outside-api"
RATE_LIMITED_BODY = "rate-limited"
RATE_LIMITED_JSON = json.dumps(
    {
        "error": {
            "code": "TOO_MANY_REQUESTS",
            "message": "too many requests from this address; try again in a few minutes",
        }
    },
    separators=(",", ":"),
)
# WAF for CloudFront logs to a log group in us-east-1 whose name must start with this.
LOG_GROUP_PREFIX = "aws-waf-logs-"
# Never written to the firewall logs: bearer tokens and cookies.
REDACTED_HEADERS = ("authorization", "cookie")


@dataclass(frozen=True)
class AwsFirewall:
    web_acl: aws.wafv2.WebAcl
    log_group: aws.cloudwatch.LogGroup
    edge_key: aws.kms.Key  # us-east-1: firewall logs and the edge alarm topic


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgs:
    return aws.wafv2.WebAclVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _rule_visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def _byte_match(prefix: str) -> aws.wafv2.WebAclRuleStatementByteMatchStatementArgsDict:
    return {
        "field_to_match": {"uri_path": {}},
        "positional_constraint": "STARTS_WITH",
        "search_string": prefix,
        "text_transformations": [{"priority": 0, "type": "NONE"}],
    }


def _block_429() -> aws.wafv2.WebAclRuleActionArgsDict:
    return {
        "block": {
            "custom_response": {"response_code": 429, "custom_response_body_key": RATE_LIMITED_BODY},
        }
    }


def _rate_rule(name: str, priority: int, limit: int, window_seconds: int, scope_prefix: str | None = None) -> Rule:
    statement: aws.wafv2.WebAclRuleStatementRateBasedStatementArgsDict = {
        "limit": limit,
        "aggregate_key_type": "IP",
        "evaluation_window_sec": window_seconds,
    }
    if scope_prefix:
        statement["scope_down_statement"] = {"byte_match_statement": _byte_match(scope_prefix)}
    return {
        "name": name,
        "priority": priority,
        "action": _block_429(),
        "statement": {"rate_based_statement": statement},
        "visibility_config": _rule_visibility(name),
    }


def _managed_rule(priority: int, group: str) -> Rule:
    statement: aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgsDict = {"vendor_name": "AWS", "name": group}
    if group == COMMON_RULE_SET:
        # Count, not block: rule BODY_OUTSIDE_API_RULE decides on its label (module docstring).
        statement["rule_action_overrides"] = [{"name": BODY_SIZE_RULE, "action_to_use": {"count": {}}}]
    return {
        "name": group,
        "priority": priority,
        # "none": keep each managed rule's own action (block), bar the overrides above.
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": statement},
        "visibility_config": _rule_visibility(group),
    }


def _body_size_outside_api_rule(priority: int, api_prefix: str) -> Rule:
    return {
        "name": BODY_OUTSIDE_API_RULE,
        "priority": priority,
        "action": {"block": {}},
        "statement": {
            "and_statement": {
                "statements": [
                    {"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}},
                    {"not_statement": {"statement": {"byte_match_statement": _byte_match(api_prefix)}}},
                ]
            }
        },
        "visibility_config": _rule_visibility(BODY_OUTSIDE_API_RULE),
    }


def web_acl_rules(spec: FirewallSpec, api_prefix: str) -> list[Rule]:
    """The ACL's rules as plain dicts (snake_case, as the provider takes them)."""
    rules = [
        _rate_rule(AUTH_RATE_RULE, 0, spec.auth_rate_limit, spec.window_seconds, spec.auth_path_prefix),
        _rate_rule(RATE_RULE, 1, spec.rate_limit, spec.window_seconds),
    ]
    rules += [_managed_rule(priority, group) for priority, group in MANAGED_RULE_GROUPS]
    rules.append(_body_size_outside_api_rule(5, api_prefix))
    return rules


def create_firewall(
    env: AwsEnv, spec: FirewallSpec, api_prefix: str, log_retention_days: int, parent: Parent
) -> AwsFirewall:
    """The web ACL CloudFront attaches, and its logs."""
    web_acl = _web_acl(env, spec, api_prefix, parent)
    edge_key, log_group = _logging(env, web_acl, log_retention_days, parent)
    return AwsFirewall(web_acl=web_acl, log_group=log_group, edge_key=edge_key)


def _web_acl(env: AwsEnv, spec: FirewallSpec, api_prefix: str, parent: Parent) -> aws.wafv2.WebAcl:
    return aws.wafv2.WebAcl(
        "cdn",
        scope="CLOUDFRONT",
        description="Shop CDN: AWS managed rules and per-IP rate limits",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        rules=web_acl_rules(spec, api_prefix),
        custom_response_bodies=[
            aws.wafv2.WebAclCustomResponseBodyArgs(
                key=RATE_LIMITED_BODY, content=RATE_LIMITED_JSON, content_type="APPLICATION_JSON"
            )
        ],
        visibility_config=_visibility("shop-cdn"),
        opts=env.opts(parent, us_east_1=True),
    )


def _logging(
    env: AwsEnv, web_acl: aws.wafv2.WebAcl, retention_days: int, parent: Parent
) -> tuple[aws.kms.Key, aws.cloudwatch.LogGroup]:
    """Every request the ACL sees (action, rule, client, URI; no tokens) to an encrypted
    log group in us-east-1, kept for the stack's log retention."""
    opts = env.opts(parent, us_east_1=True)
    key = aws.kms.Key(
        "waf-logs",
        description=f"{env.context.name_prefix} firewall logs and edge alarms (us-east-1)",
        enable_key_rotation=True,
        deletion_window_in_days=30 if env.context.is_prod else 7,
        # The stack key's policy, for us-east-1: CloudWatch Logs there, and alarms publishing
        # to the edge alarm topic (monitoring.py) encrypted with this key.
        policy=pulumi.Output.all(env.account_id, env.partition).apply(lambda v: key_policy(v[0], v[1], GLOBAL_REGION)),
        opts=opts,
    )
    log_group = aws.cloudwatch.LogGroup(
        "waf-logs",
        name=f"{LOG_GROUP_PREFIX}{env.context.name_prefix}",
        retention_in_days=retention_days,
        kms_key_id=key.arn,
        opts=opts,
    )
    aws.wafv2.WebAclLoggingConfiguration(
        "waf-logs",
        resource_arn=web_acl.arn,
        log_destination_configs=[log_group.arn],
        redacted_fields=[
            aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=h)
            )
            for h in REDACTED_HEADERS
        ],
        opts=opts,
    )
    return key, log_group
