"""Monitoring: the Log Analytics workspace and Application Insights (created with the
functions, which send telemetry there), an action group e-mailing shop:alertEmail, and
metric alerts: per HTTP Function App 5xx, per app function errors (App Insights failed
requests), API Management 5xx and latency, Cosmos DB throttling (429), dead-lettered
order events and a spike of requests Front Door's WAF blocked. Front Door's WAF and access
logs go to the workspace (its retention; encrypted at rest with Microsoft-managed keys, as
a customer-managed key needs a dedicated Log Analytics cluster). The "dashboard" is Application Insights (its overview, failures and
performance blades); ``dashboard_name`` is its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components import specs
from functions.shop.accounts import SIGN_IN_FAILED
from providers.azure.env import AzureEnv

_CRITERIA = "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"


@dataclass(frozen=True)
class MonitoringNative:
    action_group: Any
    alerts: dict[str, Any]
    firewall_logs: Any = None  # Front Door's diagnostic setting


FIREWALL_LOG_CATEGORIES = ("FrontDoorWebApplicationFirewallLog", "FrontDoorAccessLog")


def firewall_logs(env: AzureEnv, profile: Any, workspace: Any, parent: pulumi.Resource) -> Any:
    """Every WAF decision and every request Front Door served, to the stack's workspace."""
    import pulumi_azure_native.monitor as monitor

    return monitor.DiagnosticSetting(
        "afd-logs",
        name="shop-firewall-logs",
        resource_uri=profile.id,
        workspace_id=workspace.id,
        log_analytics_destination_type="Dedicated",
        logs=[{"category": c, "enabled": True} for c in FIREWALL_LOG_CATEGORIES],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _criterion(name: str, metric: str, namespace: str, op: str, threshold: float, agg: str,
               dimensions: list[dict[str, Any]] | None = None) -> Any:  # fmt: skip
    """Typed args: `criteria` is a union type, so plain dicts would reach ARM with snake_case keys."""
    import pulumi_azure_native.monitor as monitor

    return monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
        odata_type=_CRITERIA,
        all_of=[
            monitor.MetricCriteriaArgs(
                criterion_type="StaticThresholdCriterion",
                name=name,
                metric_name=metric,
                metric_namespace=namespace,
                operator=op,
                threshold=threshold,
                time_aggregation=agg,
                dimensions=[monitor.MetricDimensionArgs(**d) for d in dimensions or []],
            )
        ],
    )


def create_monitoring(env: AzureEnv, args: specs.MonitoringArgs, parent: pulumi.Resource) -> specs.MonitoringResult:
    import pulumi_azure_native.monitor as monitor

    opts = pulumi.ResourceOptions(parent=parent)
    action_group = monitor.ActionGroup(
        "alerts",
        resource_group_name=env.rg_name,
        location="Global",
        group_short_name="shopalerts"[:12],
        enabled=True,
        email_receivers=[{"name": "oncall", "email_address": args.alert_email, "use_common_alert_schema": True}],
        tags=env.tags,
        opts=opts,
    )
    alerts: dict[str, Any] = {}

    def alert(key: str, scope: pulumi.Input[str], criteria: Any, description: str, severity: int = 2,
              window: str = "PT5M") -> None:  # fmt: skip
        alerts[key] = monitor.MetricAlert(
            f"alert-{key}",
            resource_group_name=env.rg_name,
            location="global",
            description=description,
            severity=severity,
            enabled=True,
            scopes=[scope],
            evaluation_frequency="PT1M",
            window_size=window,
            auto_mitigate=True,
            criteria=criteria,
            actions=[{"action_group_id": action_group.id}],
            tags=env.tags,
            opts=opts,
        )

    fns = args.functions.native
    for name, fn in args.functions.functions.items():
        if fn.trigger == "http":
            alert(
                f"fn-{name}-5xx",
                fn.function_id,
                _criterion("http5xx", "Http5xx", "Microsoft.Web/sites", "GreaterThan", 0, "Total"),
                f"{name}: the Function App answered 5xx",
            )
    alert(
        "fn-failures",
        fns.insights.id,
        _criterion("failed", "requests/failed", "microsoft.insights/components", "GreaterThan", 0, "Count"),
        "a function invocation failed (Application Insights failed requests, all apps)",
    )
    alert(
        "fn-exceptions",
        fns.insights.id,
        _criterion("exceptions", "exceptions/count", "microsoft.insights/components", "GreaterThan", 0, "Count"),
        "a function raised (Application Insights exceptions, incl. the Service Bus consumer)",
    )
    apim = args.api.native.service
    alert(
        "api-5xx",
        apim.id,
        _criterion("api5xx", "Requests", "Microsoft.ApiManagement/service", "GreaterThanOrEqual",
                   args.api_5xx_threshold, "Total",
                   [{"name": "GatewayResponseCodeCategory", "operator": "Include", "values": ["5XX"]}]),
        f"the API answered >= {args.api_5xx_threshold} 5xx in 5 minutes",
        severity=1,
    )  # fmt: skip
    alert(
        "api-latency",
        apim.id,
        _criterion("latency", "Duration", "Microsoft.ApiManagement/service", "GreaterThan",
                   args.api_latency_p99_ms, "Maximum"),
        f"API gateway duration above {args.api_latency_p99_ms} ms (Azure metrics offer no p99: maximum)",
    )  # fmt: skip
    db = args.database.native
    alert(
        "db-throttled",
        db.account.id,
        _criterion("throttled", "TotalRequests", "Microsoft.DocumentDB/databaseAccounts", "GreaterThan", 0, "Count",
                   [{"name": "StatusCode", "operator": "Include", "values": ["429"]}]),
        "Cosmos DB throttled requests (429)",
    )  # fmt: skip
    notes = args.notifications.native
    alert(
        "dead-letters",
        notes.namespace.id,
        _criterion("deadlettered", "DeadletteredMessages", "Microsoft.ServiceBus/namespaces", "GreaterThan", 0,
                   "Maximum", [{"name": "EntityName", "operator": "Include", "values": [notes.topic.name]}]),
        "order events dead-lettered (the notification e-mail was not sent)",
        severity=1,
        window="PT15M",
    )  # fmt: skip
    diagnostics = None
    if args.cdn is not None:
        profile = args.cdn.native.profile
        diagnostics = firewall_logs(env, profile, fns.workspace, parent)
        alert(
            "firewall-blocked",
            profile.id,
            _criterion("wafblocked", "WebApplicationFirewallRequestCount", "Microsoft.Cdn/profiles",
                       "GreaterThanOrEqual", args.firewall_blocked_threshold, "Total",
                       [{"name": "Action", "operator": "Include", "values": ["Block"]}]),
            f"Front Door's WAF blocked >= {args.firewall_blocked_threshold} requests in 5 minutes: an attack, or a "
            "rule refusing shoppers (FrontDoorWebApplicationFirewallLog in the Log Analytics workspace)",
        )  # fmt: skip
    if specs.SIGN_IN_SERVICE in args.functions.functions:
        alerts["failed-sign-ins"] = monitor.ScheduledQueryRule(
            "alert-failed-sign-ins",
            resource_group_name=env.rg_name,
            location=env.location,
            kind="LogAlert",
            description=f"{args.failed_sign_in_threshold}+ refused sign-ins in 5 minutes: credential stuffing, or "
            "an identity problem (the accounts function's traces say which step refused them)",
            severity=2,
            enabled=True,
            scopes=[fns.insights.id],
            evaluation_frequency="PT5M",
            window_size="PT5M",
            criteria={
                "all_of": [
                    {
                        "query": f'traces | where message has "{SIGN_IN_FAILED}"',
                        "time_aggregation": "Count",
                        "operator": "GreaterThanOrEqual",
                        "threshold": args.failed_sign_in_threshold,
                        "failing_periods": {"number_of_evaluation_periods": 1, "min_failing_periods_to_alert": 1},
                    }
                ]
            },
            actions={"action_groups": [action_group.id]},
            auto_mitigate=True,
            tags=env.tags,
            opts=opts,
        )
    return specs.MonitoringResult(
        alarm_topic_ref=action_group.id,
        dashboard_name=fns.insights.name,
        alarm_count=len(alerts),
        native=MonitoringNative(action_group, alerts, diagnostics),
    )
