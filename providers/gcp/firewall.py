"""Firewall: components.specs.FirewallSpec as one Cloud Armor policy on both load balancer
backends (cdn.py): the preconfigured OWASP rule sets, per-IP rate limits (the spec's limit per
window, tighter on the auth path, then 429), Adaptive Protection in prod, JSON bodies parsed
for inspection; its decisions logged to a log bucket encrypted with the stack key, and a
log-based metric of denied requests that monitoring.py alerts on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from providers.gcp.encryption import GcpEncryption
from providers.gcp.env import GcpEnv
from providers.gcp.monitoring import LogRoute, create_log_counter, create_log_route

COMPUTE = "compute.googleapis.com"
LOGGING = "logging.googleapis.com"
# Cloud Armor preconfigured WAF rule sets (ModSecurity CRS 3.3), each its own deny rule.
WAF_RULE_SETS = (
    "sqli-v33-stable", "xss-v33-stable", "lfi-v33-stable", "rfi-v33-stable", "rce-v33-stable",
    "methodenforcement-v33-stable", "scannerdetection-v33-stable", "protocolattack-v33-stable",
    "sessionfixation-v33-stable",
)  # fmt: skip
AUTH_RATE_LIMIT_PRIORITY = 900  # before the general limit: sign-in's own, tighter one
RATE_LIMIT_PRIORITY = 1000
WAF_PRIORITY_START = 2000
DEFAULT_RULE_PRIORITY = 2147483647
# Every request Cloud Armor evaluated (the load balancer logs its decision), and the denied ones.
FIREWALL_LOG_FILTER = 'resource.type="http_load_balancer" AND jsonPayload.enforcedSecurityPolicy.name:*'
BLOCKED_LOG_FILTER = 'resource.type="http_load_balancer" AND jsonPayload.enforcedSecurityPolicy.outcome="DENY"'

Rule = gcp.compute.SecurityPolicyRuleArgsDict


@dataclass(frozen=True)
class GcpFirewall:
    policy: gcp.compute.SecurityPolicy
    logs: LogRoute  # its decisions on every request
    blocked_metric: gcp.logging.Metric  # denied requests, alerted on (monitoring.py)


def _throttle(limit: int, window_seconds: int) -> gcp.compute.SecurityPolicyRuleRateLimitOptionsArgsDict:
    return {
        "conform_action": "allow",
        "exceed_action": "deny(429)",
        "enforce_on_key": "IP",
        "rate_limit_threshold": {"count": limit, "interval_sec": window_seconds},
    }


def _any_ip() -> gcp.compute.SecurityPolicyRuleMatchArgsDict:
    return {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": ["*"]}}


def armor_rules(spec: specs.FirewallSpec) -> list[Rule]:
    window = spec.window_seconds
    minutes = f"{window // 60} minutes"
    rules: list[Rule] = [
        {
            "priority": AUTH_RATE_LIMIT_PRIORITY,
            "description": f"sign-in: more than {spec.auth_rate_limit} requests per {minutes} from one IP: 429",
            "action": "throttle",
            "match": {"expr": {"expression": f"request.path.startsWith('{spec.auth_path_prefix}')"}},
            "rate_limit_options": _throttle(spec.auth_rate_limit, window),
        },
        {
            "priority": RATE_LIMIT_PRIORITY,
            "description": f"more than {spec.rate_limit} requests per {minutes} from one IP: 429",
            "action": "throttle",
            "match": _any_ip(),
            "rate_limit_options": _throttle(spec.rate_limit, window),
        },
    ]
    for i, rule_set in enumerate(WAF_RULE_SETS):
        expression = f"evaluatePreconfiguredWaf('{rule_set}', {{'sensitivity': 1}})"
        rules.append(
            {
                "priority": WAF_PRIORITY_START + i,
                "description": f"OWASP CRS: {rule_set}",
                "action": "deny(403)",
                "match": {"expr": {"expression": expression}},
            }
        )
    rules.append(
        {"priority": DEFAULT_RULE_PRIORITY, "description": "everything else", "action": "allow", "match": _any_ip()}
    )
    return rules


def create_firewall(env: GcpEnv, spec: specs.FirewallSpec, log_retention_days: int, encryption: GcpEncryption,
                    parent: pulumi.Resource) -> GcpFirewall:  # fmt: skip
    policy = gcp.compute.SecurityPolicy(
        "armor",
        project=env.project,
        type="CLOUD_ARMOR",
        description=f"{env.context.name_prefix}: OWASP rule sets + per-IP rate limits, site and API",
        rules=armor_rules(spec),
        adaptive_protection_config={
            "layer7_ddos_defense_config": {"enable": env.settings.adaptive_protection_for(env.context.is_prod)}
        },
        advanced_options_config={"json_parsing": "STANDARD", "log_level": "NORMAL"},
        opts=env.opts(parent, COMPUTE),
    )
    logs = create_log_route(
        env,
        "armor-log",
        bucket_id=env.resource_id("armor-logs", max_len=100),
        description=f"{env.context.name_prefix}: Cloud Armor decisions on every request",
        log_filter=FIREWALL_LOG_FILTER,
        retention_days=log_retention_days,
        encryption=encryption,
        parent=parent,
    )
    blocked = create_log_counter(
        env,
        "armor-blocked",
        env.resource_id("armor-blocked", max_len=100),
        "Requests Cloud Armor denied (WAF rules and rate limits)",
        BLOCKED_LOG_FILTER,
        env.opts(parent, LOGGING),
    )
    return GcpFirewall(policy=policy, logs=logs, blocked_metric=blocked)
