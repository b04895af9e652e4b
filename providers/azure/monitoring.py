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
from typing import Protocol

import pulumi
import pulumi_azure_native.cdn as cdn
import pulumi_azure_native.monitor as monitor
import pulumi_azure_native.operationalinsights as operationalinsights

from components import specs
from functions.shop.accounts import SIGN_IN_FAILED
from providers.azure.api import AzureApi
from providers.azure.cdn import AzureCdn
from providers.azure.database import AzureDatabase
from providers.azure.env import AzureEnv
from providers.azure.functions import AzureFunctions
from providers.azure.notifications import AzureNotifications

_CRITERIA = "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
FIREWALL_LOG_CATEGORIES = ("FrontDoorWebApplicationFirewallLog", "FrontDoorAccessLog")

Criteria = monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs


class AlertMaker(Protocol):
    """Adds one metric alert to the stack's action group."""

    def __call__(
        self, key: str, scope: pulumi.Input[str], criteria: Criteria, description: str, severity: int = 2,
        window: str = "PT5M",
    ) -> monitor.MetricAlert: ...  # fmt: skip


@dataclass(frozen=True)
class Watched:
    """The handles of what the alerts watch."""

    functions: AzureFunctions
    api: AzureApi
    database: AzureDatabase
    notifications: AzureNotifications
    cdn: AzureCdn | None


@dataclass(frozen=True)
class AzureMonitoring:
    action_group: monitor.ActionGroup
    alerts: dict[str, monitor.MetricAlert]
    sign_in_alert: monitor.ScheduledQueryRule | None
    firewall_logs: monitor.DiagnosticSetting | None  # Front Door's diagnostic setting
    dashboard_name: pulumi.Output[str]

    @property
    def result(self) -> specs.MonitoringResult:
        return specs.MonitoringResult(
            alarm_topic_ref=self.action_group.id,
            dashboard_name=self.dashboard_name,
            alarm_count=len(self.alerts) + (self.sign_in_alert is not None),
        )


def firewall_logs(
    profile: cdn.Profile, workspace: operationalinsights.Workspace, parent: pulumi.Resource
) -> monitor.DiagnosticSetting:
    """Every WAF decision and every request Front Door served, to the stack's workspace."""
    return monitor.DiagnosticSetting(
        "afd-logs",
        name="shop-firewall-logs",
        resource_uri=profile.id,
        workspace_id=workspace.id,
        log_analytics_destination_type="Dedicated",
        logs=[monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in FIREWALL_LOG_CATEGORIES],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _criterion(name: str, metric: str, namespace: str, op: str, threshold: float, agg: str,
               dimensions: list[tuple[str, pulumi.Input[str]]] | None = None) -> Criteria:  # fmt: skip
    """Typed args: `criteria` is a union type, so plain dicts would reach ARM with snake_case keys.
    `dimensions`: (name, value) pairs the metric must include."""
    return Criteria(
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
                dimensions=[
                    monitor.MetricDimensionArgs(name=n, operator="Include", values=[v]) for n, v in dimensions or []
                ],
            )
        ],
    )


def create_monitoring(
    env: AzureEnv, args: specs.MonitoringArgs, parent: pulumi.Resource, watched: Watched
) -> AzureMonitoring:
    opts = pulumi.ResourceOptions(parent=parent)
    action_group = monitor.ActionGroup(
        "alerts",
        resource_group_name=env.rg_name,
        location="Global",
        group_short_name="shopalerts"[:12],
        enabled=True,
        email_receivers=[
            monitor.MicrosoftCommonEmailReceiverArgs(
                name="oncall", email_address=args.alert_email, use_common_alert_schema=True
            )
        ],
        opts=opts,
    )
    alerts: dict[str, monitor.MetricAlert] = {}

    def alert(key: str, scope: pulumi.Input[str], criteria: Criteria, description: str, severity: int = 2,
              window: str = "PT5M") -> monitor.MetricAlert:  # fmt: skip
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
            actions=[monitor.MetricAlertActionArgs(action_group_id=action_group.id)],
            opts=opts,
        )
        return alerts[key]

    _function_alerts(args, watched.functions, alert)
    _service_alerts(args, watched, alert)
    diagnostics = None
    if args.cdn is not None and watched.cdn is not None:
        profile = watched.cdn.profile
        diagnostics = firewall_logs(profile, watched.functions.workspace, parent)
        alert(
            "firewall-blocked",
            profile.id,
            _criterion("wafblocked", "WebApplicationFirewallRequestCount", "Microsoft.Cdn/profiles",
                       "GreaterThanOrEqual", args.firewall_blocked_threshold, "Total", [("Action", "Block")]),
            f"Front Door's WAF blocked >= {args.firewall_blocked_threshold} requests in 5 minutes: an attack, or a "
            "rule refusing shoppers (FrontDoorWebApplicationFirewallLog in the Log Analytics workspace)",
        )  # fmt: skip
    sign_ins = None
    if specs.SIGN_IN_SERVICE in args.functions.functions:
        sign_ins = _failed_sign_ins(env, args, watched.functions, action_group, opts)
    insights = watched.functions.insights
    return AzureMonitoring(action_group, alerts, sign_ins, diagnostics, insights.name)


def _function_alerts(args: specs.MonitoringArgs, functions: AzureFunctions, alert: AlertMaker) -> None:
    for name, fn in args.functions.functions.items():
        if fn.trigger == "http":
            alert(
                f"fn-{name}-5xx",
                fn.function_id,
                _criterion("http5xx", "Http5xx", "Microsoft.Web/sites", "GreaterThan", 0, "Total"),
                f"{name}: the Function App answered 5xx",
            )
    insights = functions.insights.id
    alert(
        "fn-failures",
        insights,
        _criterion("failed", "requests/failed", "microsoft.insights/components", "GreaterThan", 0, "Count"),
        "a function invocation failed (Application Insights failed requests, all apps)",
    )
    alert(
        "fn-exceptions",
        insights,
        _criterion("exceptions", "exceptions/count", "microsoft.insights/components", "GreaterThan", 0, "Count"),
        "a function raised (Application Insights exceptions, incl. the Service Bus consumer)",
    )


def _service_alerts(args: specs.MonitoringArgs, watched: Watched, alert: AlertMaker) -> None:
    apim = watched.api.service
    alert(
        "api-5xx",
        apim.id,
        _criterion("api5xx", "Requests", "Microsoft.ApiManagement/service", "GreaterThanOrEqual",
                   args.api_5xx_threshold, "Total", [("GatewayResponseCodeCategory", "5XX")]),
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
    alert(
        "db-throttled",
        watched.database.account.id,
        _criterion("throttled", "TotalRequests", "Microsoft.DocumentDB/databaseAccounts", "GreaterThan", 0, "Count",
                   [("StatusCode", "429")]),
        "Cosmos DB throttled requests (429)",
    )  # fmt: skip
    bus = watched.notifications.bus
    alert(
        "dead-letters",
        bus.namespace.id,
        _criterion("deadlettered", "DeadletteredMessages", "Microsoft.ServiceBus/namespaces", "GreaterThan", 0,
                   "Maximum", [("EntityName", bus.topic.name)]),
        "order events dead-lettered (the notification e-mail was not sent)",
        severity=1,
        window="PT15M",
    )  # fmt: skip


def _failed_sign_ins(
    env: AzureEnv,
    args: specs.MonitoringArgs,
    functions: AzureFunctions,
    action_group: monitor.ActionGroup,
    opts: pulumi.ResourceOptions,
) -> monitor.ScheduledQueryRule:
    return monitor.ScheduledQueryRule(
        "alert-failed-sign-ins",
        resource_group_name=env.rg_name,
        location=env.location,
        kind="LogAlert",
        description=f"{args.failed_sign_in_threshold}+ refused sign-ins in 5 minutes: credential stuffing, or "
        "an identity problem (the accounts function's traces say which step refused them)",
        severity=2,
        enabled=True,
        scopes=[functions.insights.id],
        evaluation_frequency="PT5M",
        window_size="PT5M",
        criteria=monitor.ScheduledQueryRuleCriteriaArgs(
            all_of=[
                monitor.ConditionArgs(
                    query=f'traces | where message has "{SIGN_IN_FAILED}"',
                    time_aggregation="Count",
                    operator="GreaterThanOrEqual",
                    threshold=args.failed_sign_in_threshold,
                    failing_periods=monitor.ConditionFailingPeriodsArgs(
                        number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                    ),
                )
            ]
        ),
        actions=monitor.ActionsArgs(action_groups=[action_group.id]),
        auto_mitigate=True,
        opts=opts,
    )
