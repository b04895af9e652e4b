"""Monitoring: an e-mail notification channel (shop:alertEmail), Cloud Monitoring alert
policies and a dashboard:
- per function: 5xx answers (run.googleapis.com/request_count, response_code_class 5xx);
- functions throttled: 429 answers (no instance available under max_instance_count);
- API Gateway: 5xx answers, p99 latency over the target;
- Firestore: RESOURCE_EXHAUSTED answers (throttling);
- notifications: dead-letter backlog > 0, oldest unacked order event older than 10 minutes;
- Cloud Armor's denied requests and the accounts function's refused sign-ins over a threshold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from functions.shop.accounts import SIGN_IN_FAILED
from providers.gcp.encryption import GcpEncryption, cmek_opts
from providers.gcp.env import GcpEnv

MONITORING = "monitoring.googleapis.com"
LOGGING = "logging.googleapis.com"
PERIOD = "300s"
RUN = 'resource.type = "cloud_run_revision" AND metric.type = "run.googleapis.com/request_count"'
GATEWAY = 'resource.type = "apigateway.googleapis.com/Gateway"'
SUBSCRIPTION = 'resource.type = "pubsub_subscription"'
FIRESTORE_REQUESTS = (
    'resource.type = "firestore.googleapis.com/Database" AND metric.type = "firestore.googleapis.com/api/request_count"'
)

Condition = gcp.monitoring.AlertPolicyConditionArgsDict


@dataclass(frozen=True)
class LogRoute:
    """Logs matching a filter, kept in a log bucket of their own."""

    bucket: gcp.logging.ProjectBucketConfig
    sink: gcp.logging.ProjectSink


def create_log_route(env: GcpEnv, name: str, *, bucket_id: str, description: str, log_filter: pulumi.Input[str],
                     retention_days: int, encryption: GcpEncryption, parent: pulumi.Resource) -> LogRoute:  # fmt: skip
    """A log bucket `<name>-bucket` encrypted with the stack key (regional: a CMEK log bucket
    lives where its key does), and the sink `<name>-sink` routing `log_filter` to it."""
    bucket = gcp.logging.ProjectBucketConfig(
        f"{name}-bucket",
        project=env.project,
        location=env.region,
        bucket_id=bucket_id,
        retention_days=retention_days,
        description=description,
        cmek_settings={"kms_key_name": encryption.key_id},
        opts=cmek_opts(env, encryption, "logging", parent, LOGGING),
    )
    sink = gcp.logging.ProjectSink(
        f"{name}-sink",
        project=env.project,
        destination=bucket.id.apply(lambda b: f"logging.googleapis.com/{b}"),
        filter=log_filter,
        unique_writer_identity=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return LogRoute(bucket=bucket, sink=sink)


def create_log_counter(env: GcpEnv, name: str, metric_name: str, description: str, log_filter: pulumi.Input[str],
                       opts: pulumi.ResourceOptions) -> gcp.logging.Metric:  # fmt: skip
    """A log-based metric counting the log entries that match `log_filter`."""
    return gcp.logging.Metric(
        name,
        project=env.project,
        name=metric_name,
        description=description,
        filter=log_filter,
        metric_descriptor={"metric_kind": "DELTA", "value_type": "INT64", "unit": "1"},
        opts=opts,
    )


@dataclass(frozen=True)
class GcpMonitoring:
    channel: gcp.monitoring.NotificationChannel
    policies: Mapping[str, gcp.monitoring.AlertPolicy]
    dashboard: gcp.monitoring.Dashboard

    @property
    def result(self) -> specs.MonitoringResult:
        return specs.MonitoringResult(
            alarm_topic_ref=self.channel.name, dashboard_name=self.dashboard.id, alarm_count=len(self.policies)
        )


@dataclass(frozen=True)
class Alert:
    key: str  # the policy's logical name is alert-<key>
    title: str
    condition: Condition
    doc: str


def _threshold(
    name: str, metric_filter: pulumi.Input[str], threshold: float, aligner: str = "ALIGN_SUM",
    reducer: str | None = "REDUCE_SUM", duration: str = "0s",
) -> Condition:  # fmt: skip
    aggregation: gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgsDict = {
        "alignment_period": PERIOD,
        "per_series_aligner": aligner,
    }
    if reducer:
        aggregation["cross_series_reducer"] = reducer
    return {
        "display_name": name,
        "condition_threshold": {
            "filter": metric_filter,
            "comparison": "COMPARISON_GT",
            "threshold_value": threshold,
            "duration": duration,
            "aggregations": [aggregation],
            "trigger": {"count": 1},
        },
    }


def _user_metric(name: pulumi.Output[str]) -> pulumi.Output[str]:
    return name.apply(lambda n: f'metric.type = "logging.googleapis.com/user/{n}"')


def _function_alerts(functions: specs.FunctionsResult) -> list[Alert]:
    def five_xx(n: str) -> str:
        return f'{RUN} AND resource.labels.service_name = "{n}" AND metric.labels.response_code_class = "5xx"'

    return [
        Alert(
            f"fn-{name}-5xx",
            f"{name} function 5xx",
            _threshold(f"{name} 5xx", fn.name.apply(five_xx), 0),
            f"The {name} function answered 5xx in the last 5 minutes: read its logs in the stack log bucket.",
        )
        for name, fn in functions.functions.items()
    ]


def _firewall_alert(args: specs.MonitoringArgs, blocked: gcp.logging.Metric) -> Alert:
    limit = args.firewall_blocked_threshold
    return Alert(
        "firewall-blocked",
        "Cloud Armor blocked requests",
        _threshold("blocked requests", _user_metric(blocked.name), limit),
        f"Cloud Armor denied more than {limit} requests in 5 minutes: an attack, "
        "or a rule refusing shoppers. The decisions are in the stack's armor-logs log bucket.",
    )


def _sign_in_alert(env: GcpEnv, args: specs.MonitoringArgs, accounts: specs.FunctionResult,
                   opts: pulumi.ResourceOptions) -> Alert:  # fmt: skip
    refused = accounts.name.apply(
        lambda n: (
            f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{n}" '
            f'AND (textPayload:"{SIGN_IN_FAILED}" OR jsonPayload.message:"{SIGN_IN_FAILED}")'
        )
    )
    failed = create_log_counter(
        env,
        "failed-sign-ins",
        f"{env.context.name_prefix}-failed-sign-ins",
        "Refused sign-ins logged by the accounts function (functions/shop/accounts.py)",
        refused,
        opts,
    )
    limit = args.failed_sign_in_threshold
    return Alert(
        "failed-sign-ins",
        "refused sign-ins",
        _threshold("refused sign-ins", _user_metric(failed.name), limit),
        f"More than {limit} sign-ins were refused in 5 minutes: credential stuffing, "
        "or an identity problem. The accounts function's logs say which step refused them.",
    )


def _platform_alerts(args: specs.MonitoringArgs) -> list[Alert]:
    request_count = f'{GATEWAY} AND metric.type = "apigateway.googleapis.com/proxy/request_count"'
    latencies = f'{GATEWAY} AND metric.type = "apigateway.googleapis.com/proxy/request_latencies"'
    return [
        Alert(
            "functions-throttled",
            "functions throttled (429)",
            _threshold("429 answers", f'{RUN} AND metric.labels.response_code = "429"', 0),
            "A function hit its max instance count (shop:reservedConcurrency) and refused requests.",
        ),
        Alert(
            "api-5xx",
            "API 5xx",
            _threshold(
                "API 5xx", f'{request_count} AND metric.labels.response_code_class = "5xx"', args.api_5xx_threshold
            ),
            f"More than {args.api_5xx_threshold} API answers were 5xx in 5 minutes.",
        ),
        Alert(
            "api-latency-p99",
            "API p99 latency",
            _threshold(
                "API p99 latency",
                latencies,
                args.api_latency_p99_ms,
                aligner="ALIGN_PERCENTILE_99",
                reducer="REDUCE_MAX",
                duration="300s",
            ),
            f"The API's p99 latency stayed above {args.api_latency_p99_ms} ms for 5 minutes.",
        ),
        Alert(
            "firestore-throttled",
            "Firestore throttled",
            _threshold(
                "RESOURCE_EXHAUSTED", f'{FIRESTORE_REQUESTS} AND metric.labels.response_code = "RESOURCE_EXHAUSTED"', 0
            ),
            "Firestore refused requests (RESOURCE_EXHAUSTED): hot documents or a quota.",
        ),
    ]


def _queue_alerts(notifications: specs.NotificationsResult) -> list[Alert]:
    def subscription(subscription_id: str, metric: str) -> str:
        return (
            f'{SUBSCRIPTION} AND resource.labels.subscription_id = "{subscription_id}" AND '
            f'metric.type = "pubsub.googleapis.com/subscription/{metric}"'
        )

    undelivered = notifications.dead_letter_queue_name.apply(lambda s: subscription(s, "num_undelivered_messages"))
    oldest = notifications.queue_ref.apply(lambda q: subscription(q.rsplit("/", 1)[-1], "oldest_unacked_message_age"))
    return [
        Alert(
            "dead-letters",
            "order events dead-lettered",
            _threshold("dead-letter backlog", undelivered, 0, aligner="ALIGN_MAX", reducer="REDUCE_MAX"),
            "Order e-mails failed after every retry: inspect the dead-letter subscription and replay.",
        ),
        Alert(
            "notifications-backlog",
            "order events waiting",
            _threshold("oldest unacked event", oldest, 600, aligner="ALIGN_MAX", reducer="REDUCE_MAX"),
            "An order event has waited more than 10 minutes for the notifications function.",
        ),
    ]


def _chart(title: str, metric_filter: str, aligner: str = "ALIGN_RATE") -> dict[str, object]:
    query = {"timeSeriesFilter": {"filter": metric_filter, "aggregation": {"alignmentPeriod": "60s",
                                                                           "perSeriesAligner": aligner}}}  # fmt: skip
    return {"title": title, "xyChart": {"dataSets": [{"timeSeriesQuery": query}]}}


def dashboard_layout(prefix: str) -> dict[str, object]:
    return {
        "displayName": f"{prefix} shop",
        "gridLayout": {
            "columns": "2",
            "widgets": [
                _chart("API requests", f'{GATEWAY} AND metric.type = "apigateway.googleapis.com/proxy/request_count"'),
                _chart(
                    "API p99 latency",
                    f'{GATEWAY} AND metric.type = "apigateway.googleapis.com/proxy/request_latencies"',
                    "ALIGN_PERCENTILE_99",
                ),
                _chart("Function requests", RUN),
                _chart(
                    "Function instances",
                    'resource.type = "cloud_run_revision" AND metric.type = "run.googleapis.com/container/instance_count"',
                    "ALIGN_MAX",
                ),
                _chart("Firestore requests", FIRESTORE_REQUESTS),
                _chart(
                    "Undelivered order events",
                    f'{SUBSCRIPTION} AND metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"',
                    "ALIGN_MAX",
                ),
            ],
        },
    }


def _alerts(env: GcpEnv, args: specs.MonitoringArgs, blocked: gcp.logging.Metric | None,
            opts: pulumi.ResourceOptions) -> list[Alert]:  # fmt: skip
    alerts = _function_alerts(args.functions)
    if blocked is not None:
        alerts.append(_firewall_alert(args, blocked))
    accounts = args.functions.functions.get(specs.SIGN_IN_SERVICE)
    if accounts is not None:
        alerts.append(_sign_in_alert(env, args, accounts, opts))
    return [*alerts, *_platform_alerts(args), *_queue_alerts(args.notifications)]


def create_monitoring(env: GcpEnv, args: specs.MonitoringArgs, parent: pulumi.Resource,
                      blocked: gcp.logging.Metric | None) -> GcpMonitoring:  # fmt: skip
    """`blocked`: the firewall's denied requests, alerted on when the stack has a CDN."""
    opts = env.opts(parent, MONITORING)
    prefix = env.context.name_prefix
    channel = gcp.monitoring.NotificationChannel(
        "alert-email",
        project=env.project,
        type="email",
        display_name=f"{prefix} on-call",
        labels={"email_address": args.alert_email},
        opts=opts,
    )
    policies = {
        alert.key: gcp.monitoring.AlertPolicy(
            f"alert-{alert.key}",
            project=env.project,
            display_name=f"{prefix}: {alert.title}",
            combiner="OR",
            conditions=[alert.condition],
            notification_channels=[channel.name],
            alert_strategy={"auto_close": "1800s"},
            documentation={"content": alert.doc, "mime_type": "text/markdown"},
            severity="ERROR",
            opts=opts,
        )
        for alert in _alerts(env, args, blocked, opts)
    }
    dashboard = gcp.monitoring.Dashboard(
        "dashboard", project=env.project, dashboard_json=json.dumps(dashboard_layout(prefix), sort_keys=True), opts=opts
    )
    return GcpMonitoring(channel=channel, policies=policies, dashboard=dashboard)
