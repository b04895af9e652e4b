"""A spike of refused sign-ins (credential stuffing) pages the on-call address on every
cloud: the accounts function logs one marker per refusal (functions/shop/accounts.py), and
each cloud counts it in that function's logs and alarms at shop's threshold."""

from __future__ import annotations

from components.specs import MonitoringArgs
from functions.shop.accounts import SIGN_IN_FAILED

from .conftest import BuiltStack

THRESHOLD = MonitoringArgs.__dataclass_fields__["failed_sign_in_threshold"].default


def test_aws_counts_refused_sign_ins_in_the_accounts_log_group_and_alarms(any_stack: BuiltStack):
    metric_filter = any_stack.one("aws:cloudwatch/logMetricFilter:LogMetricFilter", "failed-sign-ins").inputs
    accounts = any_stack.one("aws:lambda/function:Function", "accounts")
    assert metric_filter["logGroupName"] == f"/aws/lambda/{accounts.inputs['name']}"
    assert metric_filter["pattern"] == f'"{SIGN_IN_FAILED}"'
    transform = metric_filter["metricTransformation"]
    alarm = any_stack.one("aws:cloudwatch/metricAlarm:MetricAlarm", "failed-sign-ins").inputs
    assert (alarm["namespace"], alarm["metricName"]) == (transform["namespace"], transform["name"])
    assert alarm["threshold"] == THRESHOLD and alarm["period"] == 300 and alarm["statistic"] == "Sum"
    assert alarm["alarmActions"] == [any_stack.one("aws:sns/topic:Topic", "alarms").outputs["arn"]]


def test_gcp_counts_refused_sign_ins_in_the_accounts_logs_and_alerts(gcp_dev: BuiltStack):
    metric = gcp_dev.one("gcp:logging/metric:Metric", "failed-sign-ins")
    assert SIGN_IN_FAILED in metric.inputs["filter"]
    accounts = gcp_dev.one("gcp:cloudfunctionsv2/function:Function", "fn-accounts")
    assert f'resource.labels.service_name = "{accounts.outputs["name"]}"' in metric.inputs["filter"]
    policy = gcp_dev.one("gcp:monitoring/alertPolicy:AlertPolicy", "alert-failed-sign-ins").inputs
    (condition,) = policy["conditions"]
    threshold = condition["conditionThreshold"]
    assert f"logging.googleapis.com/user/{metric.outputs['name']}" in threshold["filter"]
    assert threshold["thresholdValue"] == THRESHOLD
    assert policy["notificationChannels"], "the alert notifies the on-call channel"


def test_azure_counts_refused_sign_ins_in_application_insights_and_alerts(az_dev: BuiltStack):
    rule = az_dev.one("azure-native:monitor:ScheduledQueryRule", "alert-failed-sign-ins").inputs
    (criterion,) = rule["criteria"]["allOf"]
    assert criterion["query"] == f'traces | where message has "{SIGN_IN_FAILED}"'
    assert (criterion["operator"], criterion["threshold"]) == ("GreaterThanOrEqual", THRESHOLD)
    insights = az_dev.one("azure-native:applicationinsights:Component").outputs["name"]
    assert rule["scopes"] == [rule["scopes"][0]] and rule["scopes"][0].endswith(f"/components/{insights}")
    assert rule["windowSize"] == "PT5M"
    group = az_dev.one("azure-native:monitor:ActionGroup").outputs["name"]
    assert [g.rsplit("/", 1)[-1] for g in rule["actions"]["actionGroups"]] == [group]
