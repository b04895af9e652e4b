"""CloudWatch alarms to an e-mail alert topic, and a dashboard of the shop's golden signals."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import SIGN_IN_SERVICE, MonitoringArgs, MonitoringResult
from functions.shop.accounts import SIGN_IN_FAILED
from providers.aws.api import AwsApi
from providers.aws.cdn import AwsCdn
from providers.aws.env import AwsEnv
from providers.aws.firewall import AwsFirewall
from providers.aws.notifications import deny_insecure_transport
from providers.base import Parent

PERIOD = 300  # seconds; one evaluation window


@dataclass(frozen=True)
class AwsMonitoring:
    topic: aws.sns.Topic
    alarms: tuple[aws.cloudwatch.MetricAlarm, ...]
    dashboard: aws.cloudwatch.Dashboard

    @property
    def result(self) -> MonitoringResult:
        return MonitoringResult(
            alarm_topic_ref=self.topic.arn, dashboard_name=self.dashboard.dashboard_name, alarm_count=len(self.alarms)
        )


def create_monitoring(
    env: AwsEnv, args: MonitoringArgs, parent: Parent, api: AwsApi, cdn: AwsCdn | None
) -> AwsMonitoring:
    """`api`, `cdn`: the handles of args.api and args.cdn (None when args.cdn is)."""
    opts = env.opts(parent)
    topic = aws.sns.Topic("alarms", kms_master_key_id=args.encryption.key_id, opts=opts)
    aws.sns.TopicPolicy(
        "alarms",
        arn=topic.arn,
        policy=pulumi.Output.all(topic.arn, env.account_id).apply(lambda v: json.dumps(_alarm_topic_policy(*v))),
        opts=opts,
    )
    # The recipient must confirm the subscription from the e-mail AWS sends.
    aws.sns.TopicSubscription("alert-email", topic=topic.arn, protocol="email", endpoint=args.alert_email, opts=opts)

    def alarm(name: str, description: str, **kwargs: object) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            name,
            alarm_description=description,
            alarm_actions=[topic.arn],
            ok_actions=[topic.arn],
            treat_missing_data="notBreaching",
            period=PERIOD,
            opts=opts,
            **kwargs,  # type: ignore[arg-type]
        )

    alarms: list[aws.cloudwatch.MetricAlarm] = []
    for service, fn in sorted(args.functions.functions.items()):
        for metric in ("Errors", "Throttles"):
            alarms.append(
                alarm(
                    f"{service}-{metric.lower()}",
                    f"{service} function: {metric} in the last 5 minutes",
                    namespace="AWS/Lambda",
                    metric_name=metric,
                    dimensions={"FunctionName": fn.name},
                    statistic="Sum",
                    comparison_operator="GreaterThanOrEqualToThreshold",
                    threshold=1,
                    evaluation_periods=1,
                )
            )

    api_dimensions = {"ApiId": args.api.api_id, "Stage": api.stage.name}
    alarms.append(
        alarm(
            "api-5xx",
            f"API: {args.api_5xx_threshold}+ server errors in 5 minutes",
            namespace="AWS/ApiGateway",
            metric_name="5xx",
            dimensions=api_dimensions,
            statistic="Sum",
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=args.api_5xx_threshold,
            evaluation_periods=1,
        )
    )
    alarms.append(
        alarm(
            "api-latency-p99",
            f"API: p99 latency above {args.api_latency_p99_ms} ms for 15 minutes",
            namespace="AWS/ApiGateway",
            metric_name="Latency",
            dimensions=api_dimensions,
            extended_statistic="p99",
            comparison_operator="GreaterThanThreshold",
            threshold=args.api_latency_p99_ms,
            evaluation_periods=3,
        )
    )
    for table, table_name in sorted(args.database.table_names.items()):
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            alarms.append(
                alarm(
                    f"{table}-{metric.removesuffix('Events').lower()}",
                    f"DynamoDB {table}: {metric} in the last 5 minutes",
                    namespace="AWS/DynamoDB",
                    metric_name=metric,
                    dimensions={"TableName": table_name},
                    statistic="Sum",
                    comparison_operator="GreaterThanOrEqualToThreshold",
                    threshold=1,
                    evaluation_periods=1,
                )
            )
    alarms.append(
        alarm(
            "notifications-dlq",
            "Notifications dead-letter queue holds messages: e-mails were not sent",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": args.notifications.dead_letter_queue_name},
            statistic="Maximum",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=1,
        )
    )

    if cdn is not None:
        alarms.append(_firewall_blocked_alarm(env, args, cdn.firewall, parent))
    accounts = args.functions.functions.get(SIGN_IN_SERVICE)
    if accounts is not None:
        aws.cloudwatch.LogMetricFilter(
            "failed-sign-ins",
            log_group_name=pulumi.Output.concat("/aws/lambda/", accounts.name),
            pattern=f'"{SIGN_IN_FAILED}"',
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name="FailedSignIns", namespace=f"Shop/{env.context.name_prefix}", value="1", default_value="0"
            ),
            opts=opts,
        )
        alarms.append(
            alarm(
                "failed-sign-ins",
                f"{args.failed_sign_in_threshold}+ refused sign-ins in 5 minutes (credential stuffing?)",
                namespace=f"Shop/{env.context.name_prefix}",
                metric_name="FailedSignIns",
                statistic="Sum",
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=args.failed_sign_in_threshold,
                evaluation_periods=1,
            )
        )

    dashboard = aws.cloudwatch.Dashboard(
        "shop",
        dashboard_name=f"{env.context.name_prefix}",
        dashboard_body=pulumi.Output.all(
            functions=pulumi.Output.all(*[fn.name for _, fn in sorted(args.functions.functions.items())]),
            api_id=args.api.api_id,
            tables=pulumi.Output.all(*[n for _, n in sorted(args.database.table_names.items())]),
            dlq=args.notifications.dead_letter_queue_name,
        ).apply(lambda v: json.dumps(dashboard_body(env.region, **v))),
        opts=opts,
    )
    return AwsMonitoring(topic, tuple(alarms), dashboard)


def _firewall_blocked_alarm(
    env: AwsEnv, args: MonitoringArgs, firewall: AwsFirewall, parent: Parent
) -> aws.cloudwatch.MetricAlarm:
    """A spike of requests the CloudFront firewall blocked. Its metrics live in us-east-1 and
    an alarm can only notify a topic of its own region: a second, us-east-1 alert topic
    (encrypted with the edge key) to the same address."""
    opts = env.opts(parent, us_east_1=True)
    topic = aws.sns.Topic("alarms-edge", kms_master_key_id=firewall.edge_key.arn, opts=opts)
    aws.sns.TopicPolicy(
        "alarms-edge",
        arn=topic.arn,
        policy=pulumi.Output.all(topic.arn, env.account_id).apply(lambda v: json.dumps(_alarm_topic_policy(*v))),
        opts=opts,
    )
    aws.sns.TopicSubscription(
        "alert-email-edge", topic=topic.arn, protocol="email", endpoint=args.alert_email, opts=opts
    )
    return aws.cloudwatch.MetricAlarm(
        "firewall-blocked",
        alarm_description=(
            f"CloudFront firewall: {args.firewall_blocked_threshold}+ blocked requests in 5 minutes "
            "(an attack, or a rule refusing shoppers: see the aws-waf-logs-* log group)"
        ),
        namespace="AWS/WAFV2",
        metric_name="BlockedRequests",
        dimensions={"WebACL": firewall.web_acl.name, "Rule": "ALL"},
        statistic="Sum",
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=args.firewall_blocked_threshold,
        evaluation_periods=1,
        period=PERIOD,
        treat_missing_data="notBreaching",
        alarm_actions=[topic.arn],
        ok_actions=[topic.arn],
        opts=opts,
    )


def _alarm_topic_policy(topic_arn: str, account_id: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            deny_insecure_transport("DenyInsecureTransport", ["sns:Publish"], [topic_arn]),
        ],
    }


def dashboard_body(region: str, functions: list[str], api_id: str, tables: list[str], dlq: str) -> dict:
    def widget(title: str, metrics: list, x: int, y: int, stat: str = "Sum") -> dict:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": 60, "metrics": metrics},
        }

    return {
        "widgets": [
            widget(
                "API requests and errors",
                [["AWS/ApiGateway", m, "ApiId", api_id, "Stage", "$default"] for m in ("Count", "4xx", "5xx")],
                0,
                0,
            ),
            widget(
                "API latency p99 (ms)",
                [["AWS/ApiGateway", "Latency", "ApiId", api_id, "Stage", "$default"]],
                12,
                0,
                stat="p99",
            ),
            widget("Function errors", [["AWS/Lambda", "Errors", "FunctionName", f] for f in functions], 0, 6),
            widget(
                "Function duration p95 (ms)",
                [["AWS/Lambda", "Duration", "FunctionName", f] for f in functions],
                12,
                6,
                stat="p95",
            ),
            widget(
                "DynamoDB throttles",
                [
                    ["AWS/DynamoDB", m, "TableName", t]
                    for t in tables
                    for m in ("ReadThrottleEvents", "WriteThrottleEvents")
                ],
                0,
                12,
            ),
            widget(
                "Notifications dead letters",
                [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq]],
                12,
                12,
                stat="Maximum",
            ),
        ]
    }
