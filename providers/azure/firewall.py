"""Firewall: the Front Door WAF policy rendering the stack's ``FirewallSpec`` (components/specs.py).

Microsoft_DefaultRuleSet + Microsoft_BotManagerRuleSet on Premium (Standard cannot run managed
rule sets, so it gets custom rules blocking the commonest probes), and always a per-client-IP
rate limit: a tighter one on the sign-in paths (credential stuffing), evaluated first, then
the general one. Its logs go to the stack's workspace (monitoring.py ``firewall_logs``).

The admins' image uploads come through Front Door too (functions/adapters/azure_media.py),
and a SAS cannot cap their size or type, so on every SKU the WAF does what the S3 and Cloud
Storage POST policies do, one blocking rule per condition on the uploads path: PUT only; a
Content-Length (no chunked body of unknown size); at most datamodel.MAX_IMAGE_BYTES; an
``x-ms-blob-content-type`` (the type Blob Storage stores and serves) from
datamodel.IMAGE_TYPES (no SVG). Front Door's WAF compares strings, so the size cap is a
regular expression of the decimal numbers 1..MAX_IMAGE_BYTES (``decimal_at_most``).
"""

from __future__ import annotations

import re

import pulumi
import pulumi_azure_native.frontdoor as frontdoor

from components import specs
from functions.adapters.azure_media import UPLOAD_PATH
from functions.shop import datamodel
from providers.azure.env import AzureEnv

PREMIUM = "Premium_AzureFrontDoor"
MANAGED_RULE_SETS = (
    ("Microsoft_DefaultRuleSet", "2.1", "Block"),
    ("Microsoft_BotManagerRuleSet", "1.1", None),
)


def _match(
    variable: str,
    operator: str,
    values: list[str],
    *,
    negate: bool = False,
    transforms: list[str] | None = None,
    selector: str | None = None,
) -> frontdoor.MatchConditionArgs:
    return frontdoor.MatchConditionArgs(
        match_variable=variable, selector=selector, operator=operator, negate_condition=negate, match_value=values,
        transforms=transforms,
    )  # fmt: skip


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


def _block(name: str, priority: int, *conditions: frontdoor.MatchConditionArgs) -> frontdoor.CustomRuleArgs:
    """Blocks a request matching every condition (Front Door ANDs a rule's conditions)."""
    return frontdoor.CustomRuleArgs(
        name=name, priority=priority, enabled_state="Enabled", rule_type="MatchRule",
        match_conditions=list(conditions), action="Block",
    )  # fmt: skip


def decimal_at_most(limit: int) -> str:
    """A regular expression matching exactly the decimal numbers 1..limit (no sign, no
    leading zero): the shorter numbers, then each prefix of `limit` followed by a smaller
    digit and any digits, then `limit` itself."""
    digits = str(limit)
    width = len(digits)
    parts = [f"[1-9][0-9]{{0,{width - 2}}}"] if width > 1 else []
    for i, d in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(d) > low:
            rest = width - i - 1
            parts.append(f"{digits[:i]}[{low}-{int(d) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    parts.append(digits)
    return "^(" + "|".join(parts) + ")$"


def upload_rules(path: str = UPLOAD_PATH, max_bytes: int = datamodel.MAX_IMAGE_BYTES) -> list[frontdoor.CustomRuleArgs]:
    """One rule per condition an upload must meet (before the rate limits: a refused upload
    never reaches storage). The path is matched decoded and lower-cased, as Front Door routes."""
    upload = _match("RequestUri", "Contains", [path], transforms=["Lowercase", "UrlDecode"])
    length = "Content-Length"
    return [
        _block("UploadPutOnly", 60, upload, _match("RequestMethod", "Equal", ["PUT"], negate=True)),
        _block("UploadLengthRequired", 61, upload,
               _match("RequestHeader", "RegEx", ["^[0-9]+$"], negate=True, selector=length)),
        _block("UploadSizeCap", 62, upload,
               _match("RequestHeader", "RegEx", [decimal_at_most(max_bytes)], negate=True, selector=length)),
        _block("UploadImageTypesOnly", 63, upload,
               _match("RequestHeader", "Equal", sorted(datamodel.IMAGE_TYPES), negate=True,
                      transforms=["Lowercase", "Trim"], selector="x-ms-blob-content-type")),
    ]  # fmt: skip


def waf_custom_rules(firewall: specs.FirewallSpec, premium: bool) -> list[frontdoor.CustomRuleArgs]:
    window = firewall.window_seconds
    sign_in = _match("RequestUri", "Contains", [firewall.auth_path_prefix], transforms=["Lowercase"])
    rules = [
        *upload_rules(),
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
