"""Neutral grants -> least-privilege IAM policy documents for the functions' roles.

``function_policy`` is a pure function over plain ARNs (easy to test and to read; the local
stack evaluates the same documents, functions/local/iam_policy.py); the functions module
resolves the ARNs from Outputs and calls it. Each neutral action maps to the exact API
action the handlers call, on the exact resources:

- table/<op>     one DynamoDB action per store operation (TABLE_ACTIONS), on the table or
                 (query) the indexes holding the grant's item sets, and only on those
                 items: dynamodb:LeadingKeys lists their partition keys. TransactWriteItems
                 is authorised through the per-item Put/Update/Delete actions.
- topic/publish  sns:Publish on the order-events topic
- queue/consume  sqs Receive/Delete/GetQueueAttributes on the queue (what Lambda's event
                 source mapping calls with the function's role)
- email/send     ses:SendEmail on the sender identity and configuration set, only From:
                 the sender address
- identity/read  cognito-idp:AdminGetUser on the user pool (one user by id; never ListUsers)
- identity/authenticate  cognito-idp AdminInitiateAuth/AdminRespondToAuthChallenge on the
                 user pool (server-side sign-in with the client's address as ContextData);
                 SignUp/ConfirmSignUp/refresh and the token-authorised MFA and sign-out
                 calls need no IAM
- identity/verify  cognito-idp AdminListGroupsForUser on the user pool (admin re-check)
- media/write    s3:PutObject on <bucket>/media/* only (the pre-signed upload)
- push/send      sns:CreatePlatformEndpoint on the FCM platform application, sns:Publish and
                 sns:DeleteEndpoint on that application's endpoints only (functions/adapters/
                 sns_push.py); nothing when the stack has no platform application
- payments/read  ssm:GetParameter on exactly the Stripe keys' two SecureString parameters, and
                 kms:Decrypt on the stack key only as SSM decrypts those parameters
                 (kms:ViaService ssm, kms:EncryptionContext:PARAMETER_ARN one of them); nothing
                 when the stack takes no cards

Plus what every function needs to run, each justified below: its own log group, X-Ray,
VPC network interfaces, and the stack key only through the services that encrypt with it
(kms:ViaService). Settings arrive in the environment; only Stripe's keys are read from Parameter
Store (payments/read), so that they sit in no function's configuration in plain text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from functions.shop import datamodel

# Actions a function role may allow on Resource "*"; the infra tests enforce it.
WILDCARD_RESOURCE_ACTIONS: frozenset[str] = frozenset(
    {
        # X-Ray has no resource types: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        # Describe* actions have no resource types in the EC2 authorization reference; they
        # are scoped to the region with aws:RequestedRegion instead.
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
    }
)

# The ENI actions Lambda performs with the function's role to attach it to the VPC
# (AWSLambdaVPCAccessExecutionRole), minus the Describe* ones above: these support
# resource ARNs, so they are scoped to network interfaces, subnets and security groups
# of this account and region.
VPC_ENI_ACTIONS: tuple[str, ...] = (
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)

# neutral table action -> DynamoDB action
TABLE_ACTIONS: dict[str, str] = {
    "get": "dynamodb:GetItem",
    "batch-get": "dynamodb:BatchGetItem",
    "query": "dynamodb:Query",
    "put": "dynamodb:PutItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "batch-write": "dynamodb:BatchWriteItem",
}

# push/send: one endpoint per device token is made on the platform application, then the
# message published to it, and a refused token's endpoint deleted.
PUSH_APPLICATION_ACTIONS: tuple[str, ...] = ("sns:CreatePlatformEndpoint",)
PUSH_ENDPOINT_ACTIONS: tuple[str, ...] = ("sns:Publish", "sns:DeleteEndpoint")

# neutral (resource, action) -> IAM actions, for every resource but the table
ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    (datamodel.TOPIC, "publish"): ("sns:Publish",),
    (datamodel.QUEUE, "consume"): ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
    (datamodel.EMAIL, "send"): ("ses:SendEmail",),
    (datamodel.IDENTITY, "read"): ("cognito-idp:AdminGetUser",),
    (datamodel.IDENTITY, "authenticate"): (
        "cognito-idp:AdminInitiateAuth",
        "cognito-idp:AdminRespondToAuthChallenge",
    ),
    (datamodel.IDENTITY, "verify"): ("cognito-idp:AdminListGroupsForUser",),
    (datamodel.MEDIA, "write"): ("s3:PutObject",),
    (datamodel.PUSH, "send"): PUSH_APPLICATION_ACTIONS + PUSH_ENDPOINT_ACTIONS,
    (datamodel.PAYMENTS, "read"): ("ssm:GetParameter",),
}
# SSM decrypts a SecureString with the caller's kms:Decrypt, naming the parameter in the
# encryption context: the grant holds only for those parameters.
PARAMETER_ENCRYPTION_CONTEXT = "kms:EncryptionContext:PARAMETER_ARN"

# Which AWS service encrypts a granted resource with the stack key (kms:ViaService), and
# the key actions a caller of that service needs.
_KMS_VIA: dict[str, tuple[str, tuple[str, ...]]] = {
    datamodel.TABLE: ("dynamodb", ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")),
    datamodel.TOPIC: ("sns", ("kms:Decrypt", "kms:GenerateDataKey")),
    datamodel.QUEUE: ("sqs", ("kms:Decrypt",)),
}

LEADING_KEYS = "dynamodb:LeadingKeys"


@dataclass(frozen=True)
class GrantArns:
    """Plain ARNs of everything a grant can name (resolved from Outputs)."""

    table_arn: str  # datamodel.SHOP_TABLE; its indexes are <table_arn>/index/<name>
    topic_arn: str
    queue_arn: str
    email_identity_arn: str
    configuration_set_arn: str | None
    sender_email: str
    user_pool_arn: str
    bucket_arn: str
    media_prefix: str
    key_arn: str
    push_application_arn: str | None = None  # the SNS platform application (FCM), when configured
    payment_parameter_arns: tuple[str, ...] = ()  # Stripe's keys' SecureString parameters, when configured


def push_endpoints_arn(application_arn: str) -> str:
    """The ARNs of an SNS platform application's endpoints:
    arn:aws:sns:<region>:<account>:app/GCM/<name> -> arn:aws:sns:<region>:<account>:endpoint/GCM/<name>/*."""
    return application_arn.replace(":app/", ":endpoint/", 1) + "/*"


@dataclass(frozen=True)
class RuntimeArns:
    """What one function needs to run, whatever its grants."""

    log_group_arn: str
    region: str
    account_id: str


def statement(sid: str, actions: Iterable[str], resources: Sequence[str], condition: dict | None = None) -> dict:
    out: dict = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": list(resources)}
    if condition:
        out["Condition"] = condition
    return out


def _sid(*parts: str) -> str:
    return "".join(p.replace("-", " ").title().replace(" ", "") for p in parts)


def table_statements(grants: Iterable[datamodel.Grant], table_arn: str) -> list[dict]:
    """One statement per (item set, table or index): the actions granted on those items, on
    that ARN, only where the partition key is one of the set's keys.

    ForAllValues: every partition key a request names (BatchGetItem names several) must
    match. A request naming none would pass, but the only such reads, Scan and
    PartiQL, are never granted."""
    by_target: dict[tuple[str, str, tuple[str, ...]], set[str]] = {}
    for grant in grants:
        if grant.resource != datamodel.TABLE:
            continue
        for items in grant.items:
            for action in grant.actions:
                if items.table_keys:
                    by_target.setdefault((items.name, "", items.table_keys), set()).add(TABLE_ACTIONS[action])
                if action == "query":
                    for index, keys in items.index_keys:
                        by_target.setdefault((items.name, index, keys), set()).add(TABLE_ACTIONS[action])
    return [
        statement(
            _sid("Table", name, index),
            actions,
            [f"{table_arn}/index/{index}" if index else table_arn],
            {"ForAllValues:StringLike": {LEADING_KEYS: list(keys)}},
        )
        for (name, index, keys), actions in by_target.items()
    ]


def grant_statements(grants: Iterable[datamodel.Grant], arns: GrantArns, region: str) -> list[dict]:
    """Statements for the neutral grants alone."""
    grants = list(grants)
    statements = table_statements(grants, arns.table_arn)
    kms_services: dict[str, set[str]] = {}
    for grant in grants:
        if grant.resource in _KMS_VIA:
            service, key_actions = _KMS_VIA[grant.resource]
            kms_services.setdefault(service, set()).update(key_actions)
        if grant.resource == datamodel.TABLE:
            continue
        for action in grant.actions:
            iam_actions = ACTIONS[(grant.resource, action)]
            if not iam_actions:
                continue
            sid = _sid(grant.resource, action)
            if grant.resource == datamodel.TOPIC:
                statements.append(statement(sid, iam_actions, [arns.topic_arn]))
            elif grant.resource == datamodel.QUEUE:
                statements.append(statement(sid, iam_actions, [arns.queue_arn]))
            elif grant.resource == datamodel.EMAIL:
                resources = [
                    arns.email_identity_arn,
                    *([arns.configuration_set_arn] if arns.configuration_set_arn else []),
                ]
                statements.append(
                    statement(sid, iam_actions, resources, {"StringEquals": {"ses:FromAddress": arns.sender_email}})
                )
            elif grant.resource == datamodel.IDENTITY:
                statements.append(statement(sid, iam_actions, [arns.user_pool_arn]))
            elif grant.resource == datamodel.MEDIA:
                prefix = arns.media_prefix.strip("/")
                statements.append(statement(sid, iam_actions, [f"{arns.bucket_arn}/{prefix}/*"]))
            elif grant.resource == datamodel.PUSH:
                statements.extend(push_statements(sid, arns.push_application_arn))
            elif grant.resource == datamodel.PAYMENTS:
                statements.extend(secret_parameter_statements(sid, arns.payment_parameter_arns, arns.key_arn, region))
            else:  # pragma: no cover - datamodel.Grant validates resources
                raise ValueError(f"no IAM mapping for grant resource {grant.resource!r}")
    for service, actions_on_key in sorted(kms_services.items()):
        statements.append(
            statement(
                f"StackKeyVia{service.title()}",
                actions_on_key,
                [arns.key_arn],
                {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}},
            )
        )
    return statements


def push_statements(sid: str, application_arn: str | None) -> list[dict]:
    """Endpoints made on the platform application; publish to and delete only its endpoints."""
    if not application_arn:
        return []  # no platform application: the function has no push channel to call
    return [
        statement(f"{sid}Endpoints", PUSH_APPLICATION_ACTIONS, [application_arn]),
        statement(f"{sid}ToEndpoints", PUSH_ENDPOINT_ACTIONS, [push_endpoints_arn(application_arn)]),
    ]


def secret_parameter_statements(sid: str, parameter_arns: Sequence[str], key_arn: str, region: str) -> list[dict]:
    """Read these SecureString parameters, and decrypt them (and nothing else) with the stack key."""
    if not parameter_arns:
        return []  # the stack takes no cards: nothing to read
    return [
        statement(f"{sid}Parameters", ACTIONS[(datamodel.PAYMENTS, "read")], list(parameter_arns)),
        statement(
            f"{sid}Decrypt",
            ["kms:Decrypt"],
            [key_arn],
            {
                "StringEquals": {
                    "kms:ViaService": f"ssm.{region}.amazonaws.com",
                    PARAMETER_ENCRYPTION_CONTEXT: list(parameter_arns),
                }
            },
        ),
    ]


def runtime_statements(runtime: RuntimeArns) -> list[dict]:
    """What every function needs, whatever its grants."""
    ec2 = f"arn:aws:ec2:{runtime.region}:{runtime.account_id}"
    return [
        # Its own log group only (created with retention before the function, so no CreateLogGroup).
        statement("OwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{runtime.log_group_arn}:*"]),
        # Active tracing; X-Ray has no resource-level permissions.
        statement("XRay", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
        # Lambda attaches the function to the private subnets through ENIs created with this
        # role: in this account and region only.
        statement(
            "VpcNetworkInterfaces",
            VPC_ENI_ACTIONS,
            [f"{ec2}:network-interface/*", f"{ec2}:subnet/*", f"{ec2}:security-group/*"],
        ),
        statement(
            "VpcDescribe",
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            ["*"],
            {"StringEquals": {"aws:RequestedRegion": runtime.region}},
        ),
    ]


def function_policy(grants: Iterable[datamodel.Grant], arns: GrantArns, runtime: RuntimeArns) -> dict:
    """The whole inline policy of one function's role."""
    return {
        "Version": "2012-10-17",
        "Statement": [*runtime_statements(runtime), *grant_statements(grants, arns, runtime.region)],
    }


def deny_insecure_transport(actions: str | list[str], resources: list[str]) -> dict[str, object]:
    """Deny statement refusing any request not made over TLS (resource policies of buckets, topics, queues)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def policy_document(*statements: dict[str, object]) -> str:
    """A policy document (IAM or resource policy) of `statements`, as JSON."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def invoke_policy(function_arn: str) -> dict[str, object]:
    """May invoke this one Lambda function (a scheduler's role)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "InvokeFunction", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}
        ],
    }


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service (e.g. lambda.amazonaws.com) assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )
