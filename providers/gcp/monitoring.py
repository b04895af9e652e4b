"""Monitoring: an e-mail notification channel (shop:alertEmail), Cloud Monitoring alert
policies and a dashboard:
- per function: 5xx answers (run.googleapis.com/request_count, response_code_class 5xx);
- functions throttled: 429 answers (no instance available under max_instance_count);
- API Gateway: 5xx answers, p99 latency over the target;
- Firestore: RESOURCE_EXHAUSTED answers (throttling);
- notifications: dead-letter backlog > 0, oldest unacked order event older than 10 minutes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from functions.shop.accounts import SIGN_IN_FAILED
from providers.gcp.env import GcpEnv

MONITORING = "monitoring.googleapis.com"
PERIOD = "300s"


@dataclass
class MonitoringNative:
    channel: Any
    policies: dict[str, Any] = field(default_factory=dict)
    dashboard: Any = None


def _threshold(
    name: str, metric_filter: pulumi.Input[str], threshold: float, aligner: str = "ALIGN_SUM",
    reducer: str | None = "REDUCE_SUM", duration: str = "0s",
) -> dict[str, Any]:  # fmt: skip
    aggregation: dict[str, Any] = {"alignment_period": PERIOD, "per_series_aligner": aligner}
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


def create_monitoring(env: GcpEnv, args: specs.MonitoringArgs, parent: pulumi.Resource) -> specs.MonitoringResult:
    import pulumi_gcp as gcp

    opts = env.opts(parent, MONITORING)
    prefix = env.context.name_prefix
    channel = gcp.monitoring.NotificationChannel(
        "alert-email",
        project=env.project,
        type="email",
        display_name=f"{prefix} on-call",
        labels={"email_address": args.alert_email},
        user_labels=env.labels,
        opts=opts,
    )
    native = MonitoringNative(channel=channel)

    def policy(key: str, title: str, condition: dict[str, Any], doc: str) -> None:
        native.policies[key] = gcp.monitoring.AlertPolicy(
            f"alert-{key}",
            project=env.project,
            display_name=f"{prefix}: {title}",
            combiner="OR",
            conditions=[condition],
            notification_channels=[channel.name],
            alert_strategy={"auto_close": "1800s"},
            documentation={"content": doc, "mime_type": "text/markdown"},
            severity="ERROR",
            user_labels=env.labels,
            opts=opts,
        )

    run = 'resource.type = "cloud_run_revision" AND metric.type = "run.googleapis.com/request_count"'
    for name, fn in args.functions.functions.items():
        policy(
            f"fn-{name}-5xx",
            f"{name} function 5xx",
            _threshold(
                f"{name} 5xx",
                fn.name.apply(
                    lambda n: (
                        f'{run} AND resource.labels.service_name = "{n}" AND metric.labels.response_code_class = "5xx"'
                    )
                ),
                0,
            ),
            f"The {name} function answered 5xx in the last 5 minutes: read its logs in the stack log bucket.",
        )
    if args.cdn is not None:
        blocked = args.cdn.native.extra["armor_blocked_metric"]
        policy(
            "firewall-blocked",
            "Cloud Armor blocked requests",
            _threshold(
                "blocked requests",
                blocked.name.apply(lambda n: f'metric.type = "logging.googleapis.com/user/{n}"'),
                args.firewall_blocked_threshold,
            ),
            f"Cloud Armor denied more than {args.firewall_blocked_threshold} requests in 5 minutes: an attack, "
            "or a rule refusing shoppers. The decisions are in the stack's armor-logs log bucket.",
        )
    accounts = args.functions.functions.get(specs.SIGN_IN_SERVICE)
    if accounts is not None:
        failed = gcp.logging.Metric(
            "failed-sign-ins",
            project=env.project,
            name=f"{prefix}-failed-sign-ins",
            description="Refused sign-ins logged by the accounts function (functions/shop/accounts.py)",
            filter=accounts.name.apply(
                lambda n: (
                    f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{n}" '
                    f'AND (textPayload:"{SIGN_IN_FAILED}" OR jsonPayload.message:"{SIGN_IN_FAILED}")'
                )
            ),
            metric_descriptor={"metric_kind": "DELTA", "value_type": "INT64", "unit": "1"},
            opts=opts,
        )
        policy(
            "failed-sign-ins",
            "refused sign-ins",
            _threshold(
                "refused sign-ins",
                failed.name.apply(lambda n: f'metric.type = "logging.googleapis.com/user/{n}"'),
                args.failed_sign_in_threshold,
            ),
            f"More than {args.failed_sign_in_threshold} sign-ins were refused in 5 minutes: credential stuffing, "
            "or an identity problem. The accounts function's logs say which step refused them.",
        )
    policy(
        "functions-throttled",
        "functions throttled (429)",
        _threshold("429 answers", f'{run} AND metric.labels.response_code = "429"', 0),
        "A function hit its max instance count (shop:reservedConcurrency) and refused requests.",
    )
    gw = 'resource.type = "apigateway.googleapis.com/Gateway"'
    policy(
        "api-5xx",
        "API 5xx",
        _threshold(
            "API 5xx",
            f'{gw} AND metric.type = "apigateway.googleapis.com/proxy/request_count" '
            'AND metric.labels.response_code_class = "5xx"',
            args.api_5xx_threshold,
        ),
        f"More than {args.api_5xx_threshold} API answers were 5xx in 5 minutes.",
    )
    policy(
        "api-latency-p99",
        "API p99 latency",
        _threshold(
            "API p99 latency",
            f'{gw} AND metric.type = "apigateway.googleapis.com/proxy/request_latencies"',
            args.api_latency_p99_ms,
            aligner="ALIGN_PERCENTILE_99",
            reducer="REDUCE_MAX",
            duration="300s",
        ),
        f"The API's p99 latency stayed above {args.api_latency_p99_ms} ms for 5 minutes.",
    )
    policy(
        "firestore-throttled",
        "Firestore throttled",
        _threshold(
            "RESOURCE_EXHAUSTED",
            'resource.type = "firestore.googleapis.com/Database" AND '
            'metric.type = "firestore.googleapis.com/api/request_count" '
            'AND metric.labels.response_code = "RESOURCE_EXHAUSTED"',
            0,
        ),
        "Firestore refused requests (RESOURCE_EXHAUSTED): hot documents or a quota.",
    )
    sub = 'resource.type = "pubsub_subscription"'
    policy(
        "dead-letters",
        "order events dead-lettered",
        _threshold(
            "dead-letter backlog",
            args.notifications.dead_letter_queue_name.apply(
                lambda s: (
                    f'{sub} AND resource.labels.subscription_id = "{s}" AND '
                    'metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"'
                )
            ),
            0,
            aligner="ALIGN_MAX",
            reducer="REDUCE_MAX",
        ),
        "Order e-mails failed after every retry: inspect the dead-letter subscription and replay.",
    )
    policy(
        "notifications-backlog",
        "order events waiting",
        _threshold(
            "oldest unacked event",
            args.notifications.queue_ref.apply(
                lambda q: (
                    f'{sub} AND resource.labels.subscription_id = "{q.rsplit("/", 1)[-1]}" AND '
                    'metric.type = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"'
                )
            ),
            600,
            aligner="ALIGN_MAX",
            reducer="REDUCE_MAX",
        ),
        "An order event has waited more than 10 minutes for the notifications function.",
    )

    def chart(title: str, metric_filter: str, aligner: str = "ALIGN_RATE") -> dict[str, Any]:
        return {
            "title": title,
            "xyChart": {
                "dataSets": [
                    {
                        "timeSeriesQuery": {
                            "timeSeriesFilter": {
                                "filter": metric_filter,
                                "aggregation": {"alignmentPeriod": "60s", "perSeriesAligner": aligner},
                            }
                        }
                    }
                ]
            },
        }

    layout = {
        "displayName": f"{prefix} shop",
        "gridLayout": {
            "columns": "2",
            "widgets": [
                chart("API requests", f'{gw} AND metric.type = "apigateway.googleapis.com/proxy/request_count"'),
                chart(
                    "API p99 latency",
                    f'{gw} AND metric.type = "apigateway.googleapis.com/proxy/request_latencies"',
                    "ALIGN_PERCENTILE_99",
                ),
                chart("Function requests", run),
                chart(
                    "Function instances",
                    'resource.type = "cloud_run_revision" AND metric.type = "run.googleapis.com/container/instance_count"',
                    "ALIGN_MAX",
                ),
                chart(
                    "Firestore requests",
                    'resource.type = "firestore.googleapis.com/Database" AND '
                    'metric.type = "firestore.googleapis.com/api/request_count"',
                ),
                chart(
                    "Undelivered order events",
                    f'{sub} AND metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"',
                    "ALIGN_MAX",
                ),
            ],
        },
    }
    native.dashboard = gcp.monitoring.Dashboard(
        "dashboard", project=env.project, dashboard_json=json.dumps(layout, sort_keys=True), opts=opts
    )
    return specs.MonitoringResult(
        alarm_topic_ref=channel.name,
        dashboard_name=native.dashboard.id,
        alarm_count=len(native.policies),
        native=native,
    )
