"""CloudWatch alarms to an e-mail alert topic, and a dashboard of the shop's golden signals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import SIGN_IN_SERVICE, MonitoringArgs, MonitoringResult
from functions.shop.accounts import SIGN_IN_FAILED
from providers.aws.api import AwsApi, AwsOriginDomain
from providers.aws.cdn import AwsCdn
from providers.aws.env import AwsEnv
from providers.aws.firewall import AwsFirewall
from providers.aws.iam import deny_insecure_transport, policy_document
from providers.base import Parent

PERIOD = 300  # seconds; one evaluation window
# ACM's own default warning window for expiring certificates, well inside the client
# certificate's early-renewal window (providers/aws/certificate.py).
ORIGIN_CERTIFICATE_ALARM_DAYS = 45


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


@dataclass(frozen=True)
class _Metric:
    """What an alarm watches and when it fires."""

    namespace: pulumi.Input[str]
    metric_name: str
    comparison_operator: str
    threshold: float
    statistic: str | None = "Sum"
    extended_statistic: str | None = None
    dimensions: Mapping[str, pulumi.Input[str]] | None = None
    evaluation_periods: int = 1
    period: int = PERIOD
    treat_missing_data: str = "notBreaching"


def create_monitoring(
    env: AwsEnv, args: MonitoringArgs, parent: Parent, api: AwsApi, cdn: AwsCdn | None
) -> AwsMonitoring:
    """`api`, `cdn`: the handles of args.api and args.cdn (None when args.cdn is)."""
    topic = _alert_topic(env, "alarms", "alert-email", args.encryption.key_id, args.alert_email, parent)
    watched = [
        *_function_metrics(args),
        *_api_metrics(args, api),
        *_table_metrics(args),
        (
            "notifications-dlq",
            "Notifications dead-letter queue holds messages: e-mails were not sent",
            _dlq_metric(args),
        ),
    ]
    alarms = [_alarm(env, name, text, metric, topic, parent) for name, text, metric in watched]
    if cdn is not None:
        edge_topic = _alert_topic(
            env, "alarms-edge", "alert-email-edge", cdn.firewall.edge_key.arn, args.alert_email, parent, us_east_1=True
        )
        alarms.append(_firewall_blocked_alarm(env, args, cdn.firewall, edge_topic, parent))
        if api.origin is not None:
            alarms.append(_origin_certificate_alarm(env, api.origin, edge_topic, parent))
    sign_ins = _failed_sign_ins_metric(env, args, parent)
    if sign_ins is not None:
        text = f"{args.failed_sign_in_threshold}+ refused sign-ins in 5 minutes (credential stuffing?)"
        alarms.append(_alarm(env, "failed-sign-ins", text, sign_ins, topic, parent))
    return AwsMonitoring(topic, tuple(alarms), _dashboard(env, args, parent))


def _alert_topic(
    env: AwsEnv,
    name: str,
    subscription: str,
    key_arn: pulumi.Input[str],
    alert_email: str,
    parent: Parent,
    *,
    us_east_1: bool = False,
) -> aws.sns.Topic:
    """An encrypted topic only CloudWatch alarms publish to, mailing `alert_email`."""
    opts = env.opts(parent, us_east_1=us_east_1)
    topic = aws.sns.Topic(name, kms_master_key_id=key_arn, opts=opts)
    aws.sns.TopicPolicy(
        name,
        arn=topic.arn,
        policy=pulumi.Output.all(topic.arn, env.account_id).apply(lambda v: _alarm_topic_policy(v[0], v[1])),
        opts=opts,
    )
    # The recipient must confirm the subscription from the e-mail AWS sends.
    aws.sns.TopicSubscription(subscription, topic=topic.arn, protocol="email", endpoint=alert_email, opts=opts)
    return topic


def _alarm(
    env: AwsEnv,
    name: str,
    description: str,
    metric: _Metric,
    topic: aws.sns.Topic,
    parent: Parent,
    *,
    us_east_1: bool = False,
) -> aws.cloudwatch.MetricAlarm:
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=description,
        alarm_actions=[topic.arn],
        ok_actions=[topic.arn],
        treat_missing_data=metric.treat_missing_data,
        period=metric.period,
        namespace=metric.namespace,
        metric_name=metric.metric_name,
        dimensions=metric.dimensions,
        statistic=metric.statistic,
        extended_statistic=metric.extended_statistic,
        comparison_operator=metric.comparison_operator,
        threshold=metric.threshold,
        evaluation_periods=metric.evaluation_periods,
        opts=env.opts(parent, us_east_1=us_east_1),
    )


_Watched = tuple[str, str, _Metric]  # (alarm name, description, metric)
_AT_LEAST = "GreaterThanOrEqualToThreshold"


def _function_metrics(args: MonitoringArgs) -> list[_Watched]:
    return [
        (
            f"{service}-{metric.lower()}",
            f"{service} function: {metric} in the last 5 minutes",
            _Metric("AWS/Lambda", metric, _AT_LEAST, 1, dimensions={"FunctionName": fn.name}),
        )
        for service, fn in sorted(args.functions.functions.items())
        for metric in ("Errors", "Throttles")
    ]


def _api_metrics(args: MonitoringArgs, api: AwsApi) -> list[_Watched]:
    dimensions = {"ApiId": args.api.api_id, "Stage": api.stage.name}
    return [
        (
            "api-5xx",
            f"API: {args.api_5xx_threshold}+ server errors in 5 minutes",
            _Metric("AWS/ApiGateway", "5xx", _AT_LEAST, args.api_5xx_threshold, dimensions=dimensions),
        ),
        (
            "api-latency-p99",
            f"API: p99 latency above {args.api_latency_p99_ms} ms for 15 minutes",
            _Metric(
                "AWS/ApiGateway",
                "Latency",
                "GreaterThanThreshold",
                args.api_latency_p99_ms,
                statistic=None,
                extended_statistic="p99",
                dimensions=dimensions,
                evaluation_periods=3,
            ),
        ),
    ]


def _table_metrics(args: MonitoringArgs) -> list[_Watched]:
    return [
        (
            f"{table}-{metric.removesuffix('Events').lower()}",
            f"DynamoDB {table}: {metric} in the last 5 minutes",
            _Metric("AWS/DynamoDB", metric, _AT_LEAST, 1, dimensions={"TableName": table_name}),
        )
        for table, table_name in sorted(args.database.table_names.items())
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
    ]


def _dlq_metric(args: MonitoringArgs) -> _Metric:
    return _Metric(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "GreaterThanThreshold",
        0,
        statistic="Maximum",
        dimensions={"QueueName": args.notifications.dead_letter_queue_name},
    )


def _failed_sign_ins_metric(env: AwsEnv, args: MonitoringArgs, parent: Parent) -> _Metric | None:
    """A metric counting the accounts function's refused sign-ins (from its logs), if it exists."""
    accounts = args.functions.functions.get(SIGN_IN_SERVICE)
    if accounts is None:
        return None
    namespace = f"Shop/{env.context.name_prefix}"
    aws.cloudwatch.LogMetricFilter(
        "failed-sign-ins",
        log_group_name=pulumi.Output.concat("/aws/lambda/", accounts.name),
        pattern=f'"{SIGN_IN_FAILED}"',
        metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
            name="FailedSignIns", namespace=namespace, value="1", default_value="0"
        ),
        opts=env.opts(parent),
    )
    return _Metric(namespace, "FailedSignIns", _AT_LEAST, args.failed_sign_in_threshold)


def _dashboard(env: AwsEnv, args: MonitoringArgs, parent: Parent) -> aws.cloudwatch.Dashboard:
    return aws.cloudwatch.Dashboard(
        "shop",
        dashboard_name=f"{env.context.name_prefix}",
        dashboard_body=pulumi.Output.all(
            functions=pulumi.Output.all(*[fn.name for _, fn in sorted(args.functions.functions.items())]),
            api_id=args.api.api_id,
            tables=pulumi.Output.all(*[n for _, n in sorted(args.database.table_names.items())]),
            dlq=args.notifications.dead_letter_queue_name,
        ).apply(lambda v: json.dumps(dashboard_body(env.region, **v))),
        opts=env.opts(parent),
    )


def _firewall_blocked_alarm(
    env: AwsEnv, args: MonitoringArgs, firewall: AwsFirewall, topic: aws.sns.Topic, parent: Parent
) -> aws.cloudwatch.MetricAlarm:
    """A spike of requests the CloudFront firewall blocked. Its metrics live in us-east-1 and
    an alarm can only notify a topic of its own region: `topic` is the us-east-1 alert topic
    (encrypted with the edge key) to the same address."""
    description = (
        f"CloudFront firewall: {args.firewall_blocked_threshold}+ blocked requests in 5 minutes "
        "(an attack, or a rule refusing shoppers: see the aws-waf-logs-* log group)"
    )
    metric = _Metric(
        "AWS/WAFV2",
        "BlockedRequests",
        _AT_LEAST,
        args.firewall_blocked_threshold,
        dimensions={"WebACL": firewall.web_acl.name, "Rule": "ALL"},
    )
    return _alarm(env, "firewall-blocked", description, metric, topic, parent, us_east_1=True)


def _origin_certificate_alarm(
    env: AwsEnv, origin: AwsOriginDomain, topic: aws.sns.Topic, parent: Parent
) -> aws.cloudwatch.MetricAlarm:
    """CloudFront's client certificate for the API origin nears its end. ACM never renews an
    imported certificate: a `pulumi up` in its last CLIENT_EARLY_RENEWAL_HOURS does, and this
    alarm says when nobody has run one. Past expiry API Gateway refuses CloudFront, so every
    API call fails. ACM publishes DaysToExpiry once a day, in the certificate's region."""
    days = ORIGIN_CERTIFICATE_ALARM_DAYS
    description = (
        f"CloudFront's client certificate for the API origin expires in {days} days or less: run `pulumi up` "
        "to renew it (docs/deploy-aws.md, Rotation); once it expires every API call fails"
    )
    metric = _Metric(
        "AWS/CertificateManager",
        "DaysToExpiry",
        "LessThanOrEqualToThreshold",
        days,
        statistic="Minimum",
        dimensions={"CertificateArn": origin.client_certificate.acm_certificate.arn},
        period=24 * 3600,
        # No data until ACM's first daily figure (no alarm on a fresh stack); the warning
        # comes weeks before the figures stop at expiry.
        treat_missing_data="missing",
    )
    return _alarm(env, "origin-certificate-expiry", description, metric, topic, parent, us_east_1=True)


def _alarm_topic_policy(topic_arn: str, account_id: str) -> str:
    return policy_document(
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        deny_insecure_transport(["sns:Publish"], [topic_arn]),
    )


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
