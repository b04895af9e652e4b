"""AWS edge: nothing reaches the API around CloudFront, per-client limits (tighter on sign-in),
the firewall's body limit leaves API bodies to the API's own 64 KiB limit, firewall logs and
their alarm, and a Content-Security-Policy that names exact hosts."""

from __future__ import annotations

import json

from components.specs import FirewallSpec
from functions.runtimes.origin import ORIGIN_HEADER, ORIGIN_SECRET_ENV
from functions.shop.api import MAX_BODY_BYTES
from functions.shop.routes import ROUTES
from providers.aws import firewall

from .conftest import BuiltStack


def _rules(stack: BuiltStack) -> dict[str, dict]:
    return {r["name"]: r for r in stack.one("aws:wafv2/webAcl:WebAcl").inputs["rules"]}


# -- origin secret: the execute-api URL refuses what did not come through CloudFront ----------


def test_cloudfront_sends_the_origin_secret_every_http_function_demands(any_stack: BuiltStack):
    secret = any_stack.one("random:index/randomPassword:RandomPassword", "api-origin-secret")
    assert secret.inputs["length"] >= 32 and secret.inputs["special"] is False
    value = secret.outputs["result"]
    origins = {o["originId"]: o for o in any_stack.one("aws:cloudfront/distribution:Distribution").inputs["origins"]}
    assert origins["api"].get("customHeaders") == [{"name": ORIGIN_HEADER, "value": value}], (
        "CloudFront must add the origin secret to every request it forwards to the API"
    )
    assert not origins["site"].get("customHeaders"), "the secret goes to the API origin only"
    functions = any_stack.of_type("aws:lambda/function:Function")
    assert functions
    for fn in functions:
        env = fn.inputs["environment"]["variables"]
        assert env.get(ORIGIN_SECRET_ENV) == value, f"{fn.name} would answer calls that bypassed CloudFront"


# -- per-client rate limits, tighter on sign-in ---------------------------------------------


def test_sign_in_has_its_own_tighter_per_ip_limit_answered_with_json_429(any_stack: BuiltStack):
    rules = _rules(any_stack)
    auth = rules[firewall.AUTH_RATE_RULE]
    general = rules[firewall.RATE_RULE]
    stmt = auth["statement"]["rateBasedStatement"]
    assert stmt["aggregateKeyType"] == "IP" and stmt["evaluationWindowSec"] == 300
    assert stmt["limit"] == 50 and stmt["limit"] < general["statement"]["rateBasedStatement"]["limit"]
    scope = stmt["scopeDownStatement"]["byteMatchStatement"]
    assert scope["searchString"] == "/api/auth/" and scope["positionalConstraint"] == "STARTS_WITH"
    assert "uriPath" in scope["fieldToMatch"]
    assert auth["priority"] < general["priority"], "the sign-in limit must be evaluated first"
    acl = any_stack.one("aws:wafv2/webAcl:WebAcl").inputs
    bodies = {b["key"]: b for b in acl["customResponseBodies"]}
    for rule in (auth, general):
        response = rule["action"]["block"]["customResponse"]
        assert response["responseCode"] == 429
        body = bodies[response["customResponseBodyKey"]]
        assert body["contentType"] == "APPLICATION_JSON"
        assert json.loads(body["content"])["error"]["code"] == "TOO_MANY_REQUESTS", (
            "a code the OpenAPI ERROR_CODES enum lists"
        )


def test_auth_routes_have_an_api_wide_throttle_below_the_stage_default(any_stack: BuiltStack):
    stage = any_stack.one("aws:apigatewayv2/stage:Stage").inputs
    settings = {s["routeKey"]: s for s in stage.get("routeSettings") or []}
    auth_routes = {r.route_key for r in ROUTES if r.path.startswith("/api/auth/")}
    assert auth_routes and set(settings) == auth_routes
    default = stage["defaultRouteSettings"]
    for key, s in settings.items():
        assert s["throttlingRateLimit"] == 20 and s["throttlingBurstLimit"] == 40, key
        assert s["throttlingRateLimit"] <= default["throttlingRateLimit"]


# -- the common rule set's 8 KB body limit vs the API's 64 KiB ------------------------------


def test_the_8kb_body_rule_only_counts_and_is_enforced_outside_api_only(any_stack: BuiltStack):
    rules = _rules(any_stack)
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managedRuleGroupStatement"]
    overrides = {o["name"]: o["actionToUse"] for o in common.get("ruleActionOverrides") or []}
    assert overrides == {"SizeRestrictions_BODY": {"count": {}}}, (
        "SizeRestrictions_BODY blocks API bodies over 8 KB with an HTML 403, below the API's 64 KiB"
    )
    outside = rules[firewall.BODY_OUTSIDE_API_RULE]
    assert outside["action"] == {"block": {}}
    label, not_api = outside["statement"]["andStatement"]["statements"]
    assert label["labelMatchStatement"] == {
        "scope": "LABEL",
        "key": "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body",
    }
    api = not_api["notStatement"]["statement"]["byteMatchStatement"]
    assert api["searchString"] == "/api/" and api["positionalConstraint"] == "STARTS_WITH"
    assert outside["priority"] > rules["AWSManagedRulesCommonRuleSet"]["priority"], "the label must exist first"


def test_documented_limits_agree_firewall_lets_api_bodies_through_to_the_api_limit():
    # What the README promises: /api/* bodies up to 64 KiB reach the API, which answers 413 JSON
    # above it; the firewall refuses bodies over 8 KB only outside /api/*.
    assert MAX_BODY_BYTES == 64 * 1024
    rules = {r["name"]: r for r in firewall.web_acl_rules(FirewallSpec(rate_limit=2000, auth_rate_limit=50), "/api/")}
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managed_rule_group_statement"]
    assert {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}} in common["rule_action_overrides"]


# -- firewall logs and the blocked-requests alarm ---------------------------------------------


def test_firewall_logs_are_encrypted_kept_and_redact_credentials(any_stack: BuiltStack):
    logging = any_stack.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    acl = any_stack.one("aws:wafv2/webAcl:WebAcl")
    group = any_stack.one("aws:cloudwatch/logGroup:LogGroup", "waf-logs")
    key = any_stack.one("aws:kms/key:Key", "waf-logs")
    assert logging.inputs["resourceArn"] == acl.outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert group.inputs["name"].startswith("aws-waf-logs-"), "WAF only logs to aws-waf-logs-* groups"
    assert group.inputs["retentionInDays"] == any_stack.config.get("logRetentionDays", 30)
    assert group.inputs["kmsKeyId"] == key.outputs["arn"] and key.inputs["enableKeyRotation"] is True
    for r in (logging, group, key):
        assert r.provider and "aws-us-east-1" in r.provider, f"{r.name}: CloudFront's WAF logs live in us-east-1"
    logs = next(
        s for s in json.loads(key.inputs["policy"])["Statement"] if s["Sid"] == "CloudWatchLogsEncryptsLogGroups"
    )
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    redacted = {f["singleHeader"]["name"] for f in logging.inputs["redactedFields"]}
    assert redacted == {"authorization", "cookie"}


def test_a_spike_of_blocked_requests_pages_the_alert_address(any_stack: BuiltStack):
    alarm = any_stack.one("aws:cloudwatch/metricAlarm:MetricAlarm", "firewall-blocked")
    acl = any_stack.one("aws:wafv2/webAcl:WebAcl")
    assert alarm.inputs["namespace"] == "AWS/WAFV2" and alarm.inputs["metricName"] == "BlockedRequests"
    assert alarm.inputs["dimensions"] == {"WebACL": acl.outputs["name"], "Rule": "ALL"}
    assert alarm.inputs["threshold"] == 100 and alarm.inputs["period"] == 300
    topic = any_stack.one("aws:sns/topic:Topic", "alarms-edge")
    assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
    assert "aws-us-east-1" in alarm.provider and "aws-us-east-1" in topic.provider, "metrics and topic: us-east-1"
    sub = any_stack.one("aws:sns/topicSubscription:TopicSubscription", "alert-email-edge").inputs
    assert sub["protocol"] == "email" and sub["endpoint"] == any_stack.config["alertEmail"]


# -- headers ----------------------------------------------------------------------------------


def test_csp_names_the_upload_bucket_host_exactly_and_no_xss_header(any_stack: BuiltStack):
    config = any_stack.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs["securityHeadersConfig"]
    csp = config["contentSecurityPolicy"]["contentSecurityPolicy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    bucket = any_stack.one("aws:s3/bucket:Bucket", "site").outputs["bucketRegionalDomainName"]
    stripe = " https://api.stripe.com" if any_stack.config.get("stripePublishableKey") else ""  # card entry
    assert directives["connect-src"] == f"'self' https://{bucket}{stripe}"
    assert "*" not in csp, f"no wildcard hosts in the CSP: {csp}"
    assert "xssProtection" not in config, "X-XSS-Protection is deprecated: drop it"
