"""Neutral grants -> least-privilege IAM policy documents for the functions' roles.

``function_policy`` is a pure function over plain ARNs (easy to test and to read); the
functions module resolves the ARNs from Outputs and calls it. Each neutral action maps to
the exact API actions the handlers call, on the exact resources:

- table/read   dynamodb Get/BatchGet/Query/Scan/ConditionCheck on the table and its indexes
- table/write  dynamodb Put/Update/Delete/BatchWrite/ConditionCheck on the table
               (TransactWriteItems is authorised through these per-item actions)
- topic/publish  sns:Publish on the order-events topic
- queue/consume  sqs Receive/Delete/GetQueueAttributes/ChangeMessageVisibility on the queue
- email/send     ses SendEmail/SendRawEmail on the sender identity and configuration set,
                 only From: the sender address
- identity/read  cognito-idp AdminGetUser/ListUsers on the user pool
- identity/authenticate  cognito-idp AdminInitiateAuth/AdminRespondToAuthChallenge on the
                 user pool (server-side sign-in with the client's address as ContextData);
                 SignUp/ConfirmSignUp/refresh and the token-authorised MFA and sign-out
                 calls need no IAM
- identity/verify  cognito-idp AdminListGroupsForUser on the user pool (admin re-check)
- media/write    s3:PutObject on <bucket>/media/* only

Plus what every function needs to run, each justified below: its own log group, X-Ray,
VPC network interfaces, its settings path in Parameter Store, and the stack key only
through the services that encrypt with it (kms:ViaService).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from functions.shop import datamodel

# Actions AWS only authorises on Resource "*" (no resource-level permissions). These are the
# only actions a function role may allow on "*"; the infra tests enforce it.
WILDCARD_RESOURCE_ACTIONS: frozenset[str] = frozenset(
    {
        # X-Ray has no resource types: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        # What Lambda needs to attach a function to the VPC (AWSLambdaVPCAccessExecutionRole):
        # Describe* have no resource types; the ENI is created by the Lambda service in
        # subnets/security groups the function configuration already pins down.
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
)

# neutral (resource, action) -> IAM actions
ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    (datamodel.TABLE, "read"): (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:ConditionCheckItem",
    ),
    (datamodel.TABLE, "write"): (
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
    ),
    (datamodel.TOPIC, "publish"): ("sns:Publish",),
    (datamodel.QUEUE, "consume"): (
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    ),
    (datamodel.EMAIL, "send"): ("ses:SendEmail", "ses:SendRawEmail"),
    (datamodel.IDENTITY, "read"): ("cognito-idp:AdminGetUser", "cognito-idp:ListUsers"),
    (datamodel.IDENTITY, "authenticate"): (
        "cognito-idp:AdminInitiateAuth",
        "cognito-idp:AdminRespondToAuthChallenge",
    ),
    (datamodel.IDENTITY, "verify"): ("cognito-idp:AdminListGroupsForUser",),
    (datamodel.MEDIA, "write"): ("s3:PutObject",),
}

# Which AWS service encrypts a granted resource with the stack key (kms:ViaService), and
# the key actions a caller of that service needs.
_KMS_VIA: dict[str, tuple[str, tuple[str, ...]]] = {
    datamodel.TABLE: ("dynamodb", ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")),
    datamodel.TOPIC: ("sns", ("kms:Decrypt", "kms:GenerateDataKey")),
    datamodel.QUEUE: ("sqs", ("kms:Decrypt",)),
}


@dataclass(frozen=True)
class GrantArns:
    """Plain ARNs of everything a grant can name (resolved from Outputs)."""

    table_arns: Sequence[str]  # every table
    index_arns: Sequence[str]  # every index of every table
    topic_arn: str
    queue_arn: str
    email_identity_arn: str
    configuration_set_arn: str
    sender_email: str
    user_pool_arn: str
    bucket_arn: str
    media_prefix: str
    key_arn: str


@dataclass(frozen=True)
class RuntimeArns:
    """What one function needs to run, whatever its grants."""

    log_group_arn: str
    parameters_path_arn: str  # arn:...:parameter/<project>/<stack>
    region: str


def statement(sid: str, actions: Iterable[str], resources: Sequence[str], condition: dict | None = None) -> dict:
    out: dict = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": list(resources)}
    if condition:
        out["Condition"] = condition
    return out


def grant_statements(grants: Iterable[datamodel.Grant], arns: GrantArns, region: str) -> list[dict]:
    """Statements for the neutral grants alone."""
    statements: list[dict] = []
    kms_services: dict[str, set[str]] = {}
    for grant in grants:
        for action in grant.actions:
            iam_actions = ACTIONS[(grant.resource, action)]
            if not iam_actions:
                continue
            sid = f"{grant.resource.title()}{action.title()}"
            if grant.resource == datamodel.TABLE:
                resources = [*arns.table_arns, *arns.index_arns] if action == "read" else list(arns.table_arns)
                statements.append(statement(sid, iam_actions, resources))
            elif grant.resource == datamodel.TOPIC:
                statements.append(statement(sid, iam_actions, [arns.topic_arn]))
            elif grant.resource == datamodel.QUEUE:
                statements.append(statement(sid, iam_actions, [arns.queue_arn]))
            elif grant.resource == datamodel.EMAIL:
                statements.append(
                    statement(
                        sid,
                        iam_actions,
                        [arns.email_identity_arn, arns.configuration_set_arn],
                        {"StringEquals": {"ses:FromAddress": arns.sender_email}},
                    )
                )
            elif grant.resource == datamodel.IDENTITY:
                statements.append(statement(sid, iam_actions, [arns.user_pool_arn]))
            elif grant.resource == datamodel.MEDIA:
                prefix = arns.media_prefix.strip("/")
                statements.append(statement(sid, iam_actions, [f"{arns.bucket_arn}/{prefix}/*"]))
            else:  # pragma: no cover - datamodel.Grant validates resources
                raise ValueError(f"no IAM mapping for grant resource {grant.resource!r}")
            if grant.resource in _KMS_VIA:
                service, key_actions = _KMS_VIA[grant.resource]
                kms_services.setdefault(service, set()).update(key_actions)
    for service, key_actions in sorted(kms_services.items()):
        statements.append(
            statement(
                f"StackKeyVia{service.title()}",
                key_actions,
                [arns.key_arn],
                {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}},
            )
        )
    return statements


def runtime_statements(runtime: RuntimeArns, key_arn: str) -> list[dict]:
    """What every function needs, whatever its grants."""
    return [
        # Its own log group only (created with retention before the function, so no CreateLogGroup).
        statement("OwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{runtime.log_group_arn}:*"]),
        # Active tracing; X-Ray has no resource-level permissions.
        statement("XRay", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
        # Lambda attaches the function to the private subnets through ENIs created with this role.
        statement(
            "VpcNetworkInterfaces",
            [
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            ["*"],
        ),
        # Settings under /<project>/<stack>/ (ENV_PARAMETERS_PATH), read-only.
        statement(
            "StackParameters",
            ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            [runtime.parameters_path_arn, f"{runtime.parameters_path_arn}/*"],
        ),
        # Secure parameters are encrypted with the stack key; decrypt only through SSM.
        statement(
            "StackKeyViaSsm",
            ["kms:Decrypt"],
            [key_arn],
            {"StringEquals": {"kms:ViaService": f"ssm.{runtime.region}.amazonaws.com"}},
        ),
    ]


def function_policy(grants: Iterable[datamodel.Grant], arns: GrantArns, runtime: RuntimeArns) -> dict:
    """The whole inline policy of one function's role."""
    return {
        "Version": "2012-10-17",
        "Statement": [*runtime_statements(runtime, arns.key_arn), *grant_statements(grants, arns, runtime.region)],
    }


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service (e.g. lambda.amazonaws.com) assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )
