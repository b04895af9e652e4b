"""Firewall: the Front Door WAF policy rendering the stack's ``FirewallSpec`` (components/specs.py).

Microsoft_DefaultRuleSet + Microsoft_BotManagerRuleSet on Premium (Standard cannot run managed
rule sets, so it gets custom rules blocking the commonest probes), and always a per-client-IP
rate limit: a tighter one on the sign-in paths (credential stuffing), evaluated first, then
the general one. Its logs go to the stack's workspace (monitoring.py ``firewall_logs``).
"""

from __future__ import annotations

import re

import pulumi
import pulumi_azure_native.frontdoor as frontdoor

from components import specs
from providers.azure.env import AzureEnv

PREMIUM = "Premium_AzureFrontDoor"
MANAGED_RULE_SETS = (
    ("Microsoft_DefaultRuleSet", "2.1", "Block"),
    ("Microsoft_BotManagerRuleSet", "1.1", None),
)


def _match(
    variable: str, operator: str, values: list[str], *, negate: bool = False, transforms: list[str] | None = None
) -> frontdoor.MatchConditionArgs:
    return frontdoor.MatchConditionArgs(
        match_variable=variable, operator=operator, negate_condition=negate, match_value=values, transforms=transforms
    )


def _match_all() -> frontdoor.MatchConditionArgs:
    # "client IP is not 255.255.255.255": true for every request (Front Door needs a condition).
    return _match("RemoteAddr", "IPMatch", ["255.255.255.255/32"], negate=True)


def _rate_limit(
    name: str, priority: int, threshold: int, window_seconds: int, condition: frontdoor.MatchConditionArgs
) -> frontdoor.CustomRuleArgs:
    return frontdoor.CustomRuleArgs(
        name=name,
        priority=priority,
        enabled_state="Enabled",
        rule_type="RateLimitRule",
        rate_limit_duration_in_minutes=window_seconds // 60,
        rate_limit_threshold=threshold,
        group_by=[frontdoor.GroupByVariableArgs(variable_name="SocketAddr")],
        match_conditions=[condition],
        action="Block",
    )


def _block(name: str, priority: int, condition: frontdoor.MatchConditionArgs) -> frontdoor.CustomRuleArgs:
    return frontdoor.CustomRuleArgs(
        name=name, priority=priority, enabled_state="Enabled", rule_type="MatchRule", match_conditions=[condition],
        action="Block",
    )  # fmt: skip


def waf_custom_rules(firewall: specs.FirewallSpec, premium: bool) -> list[frontdoor.CustomRuleArgs]:
    window = firewall.window_seconds
    sign_in = _match("RequestUri", "Contains", [firewall.auth_path_prefix], transforms=["Lowercase"])
    rules = [
        _rate_limit("RateLimitSignInPerClientIp", 90, firewall.auth_rate_limit, window, sign_in),
        _rate_limit("RateLimitPerClientIp", 100, firewall.rate_limit, window, _match_all()),
    ]
    if premium:
        return rules
    # Standard has no managed rule sets: block the most common probes by hand.
    decoded = ["Lowercase", "UrlDecode"]
    return [
        *rules,
        _block("BlockPathTraversal", 200,
               _match("RequestUri", "Contains", ["../", "..%2f", "%2e%2e/"], transforms=decoded)),
        _block("BlockSqlAndScriptInjection", 300,
               _match("QueryString", "Contains", ["<script", "union select", "' or 1=1", "javascript:"],
                      transforms=decoded)),
        _block("AllowedMethodsOnly", 400,
               _match("RequestMethod", "Equal", ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE"], negate=True)),
    ]  # fmt: skip


def create_firewall(env: AzureEnv, firewall: specs.FirewallSpec, sku: str, parent: pulumi.Resource) -> frontdoor.Policy:
    premium = sku == PREMIUM
    managed = frontdoor.ManagedRuleSetListArgs(
        managed_rule_sets=[
            frontdoor.ManagedRuleSetArgs(rule_set_type=t, rule_set_version=v, rule_set_action=a)
            for t, v, a in MANAGED_RULE_SETS
        ]
    )
    return frontdoor.Policy(
        "waf",
        resource_group_name=env.rg_name,
        policy_name=re.sub(r"[^A-Za-z0-9]", "", f"{env.context.name_prefix}waf"),
        location="Global",
        sku=frontdoor.SkuArgs(name=sku),
        policy_settings=frontdoor.PolicySettingsArgs(
            enabled_state="Enabled",
            mode=env.settings.waf_mode,
            request_body_check="Enabled",
            custom_block_response_status_code=403,
        ),
        custom_rules=frontdoor.CustomRuleListArgs(rules=waf_custom_rules(firewall, premium)),
        managed_rules=managed if premium else None,
        opts=pulumi.ResourceOptions(parent=parent),
    )
