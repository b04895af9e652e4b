"""Lambda functions, one per service: arm64, shared layer, X-Ray, private subnets, a log
group with retention created first, and a role allowing exactly the service's grants.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pulumi
import pulumi_aws as aws

from components.specs import FunctionResult, FunctionsArgs, FunctionsResult, ParameterSpec
from functions.runtimes.origin import ORIGIN_SECRET_ENV
from functions.shop.datamodel import (
    EXPIRY_SCHEDULE_MINUTES,
    PAYMENTS,
    PUSH,
    SHOP_TABLE,
    AwsSettingNames,
    ServiceSpec,
)
from providers.aws import iam, packaging
from providers.aws.auth import AwsAuth
from providers.aws.configuration import create_parameter
from providers.aws.database import AwsDatabase
from providers.aws.env import AwsEnv
from providers.aws.network import AwsNetwork
from providers.aws.notifications import AwsNotifications
from providers.aws.static_site import AwsStaticSite
from providers.base import Parent

# Entry points per trigger (functions/runtimes/): API Gateway v2 events, SQS batches, schedules.
HANDLERS = {
    "http": "functions.runtimes.aws_http.handler",
    "queue": "functions.runtimes.aws_notifications.handler",
    "schedule": "functions.runtimes.aws_expiry.handler",
}
QUEUE_BATCH_SIZE = 10
QUEUE_MAX_CONCURRENCY = 5
# Service Quotas code of "Concurrent executions" (Lambda); AWS keeps 100 of it unreserved.
CONCURRENCY_QUOTA_CODE = "L-B99A9384"
UNRESERVED_MINIMUM = 100


@dataclass(frozen=True)
class AwsGrantTargets:
    """The handles of FunctionsArgs.targets: the resources a datamodel Grant may name."""

    database: AwsDatabase
    notifications: AwsNotifications
    auth: AwsAuth
    site: AwsStaticSite


@dataclass(frozen=True)
class AwsFunction:
    service: str
    trigger: str  # "http" | "queue"
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup

    @property
    def result(self) -> FunctionResult:
        return FunctionResult(
            service=self.service,
            name=self.function.name,
            function_id=self.function.arn,
            invoke_ref=self.function.arn,
            identity_ref=self.role.arn,
            trigger=self.trigger,
        )


@dataclass(frozen=True)
class AwsFunctions:
    functions: Mapping[str, AwsFunction]  # by service name
    origin_secret: pulumi.Output[str]  # CloudFront sends it to the API origin (cdn.py), the functions demand it
    # Stripe's keys as SecureString parameters (datamodel.PAYMENT_SECRETS name -> parameter); empty without Stripe
    payment_parameters: Mapping[str, aws.ssm.Parameter]

    @property
    def result(self) -> FunctionsResult:
        return FunctionsResult(functions={name: f.result for name, f in self.functions.items()})


def create_functions(
    env: AwsEnv,
    args: FunctionsArgs,
    parent: Parent,
    network: AwsNetwork,
    targets: AwsGrantTargets,
    origin_secret: pulumi.Output[str],
) -> AwsFunctions:
    """`network`, `targets`: the handles of args.network and args.targets."""
    args = replace(args, environment={**args.environment, ORIGIN_SECRET_ENV: origin_secret})
    if args.reserved_concurrency:
        check_concurrency_quota(env, args.reserved_concurrency, len(_reserving(args.services)), parent)
    opts = env.opts(parent)
    layer = aws.lambda_.LayerVersion(
        "dependencies",
        layer_name=f"{env.context.name_prefix}-dependencies",
        description="Third-party packages of requirements/runtime.txt for Lambda arm64",
        code=packaging.layer_archive(args.code),
        compatible_runtimes=[packaging.runtime_name(args.code.python_version)],
        compatible_architectures=[packaging.LAMBDA_ARCHITECTURE],
        opts=opts,
    )
    code = packaging.code_archive(args.code)
    payments = _payment_parameters(env, args, parent)
    grant_arns = _grant_arns(args, targets, payments)
    shared = _Shared(layer, code, grant_arns, payments)
    functions = {
        service.name: _create_function(env, args, service, shared, network, targets, parent)
        for service in args.services
    }
    return AwsFunctions(functions, origin_secret, payments)


@dataclass(frozen=True)
class _Shared:
    """What every function of the stack shares: the dependencies layer, the code, the grants' ARNs
    and the secret parameters some of them read."""

    layer: aws.lambda_.LayerVersion
    code: pulumi.AssetArchive
    grant_arns: pulumi.Output[iam.GrantArns]
    payment_parameters: Mapping[str, aws.ssm.Parameter]


def _payment_parameters(env: AwsEnv, args: FunctionsArgs, parent: Parent) -> dict[str, aws.ssm.Parameter]:
    """Stripe's keys as SecureString parameters under the stack's path, encrypted with the stack
    key: never a plain function setting (the functions get their names and read them lazily)."""
    if args.payments is None:
        return {}
    return {
        name: create_parameter(
            env,
            ParameterSpec(name, value, secret=True, description="Stripe (payments); read by the orders function"),
            args.targets.encryption.key_id,
            parent,
        )
        for name, value in args.payments.values.items()
    }


def _reserving(services: tuple[ServiceSpec, ...]) -> tuple[ServiceSpec, ...]:
    """The functions that get shop:reservedConcurrency: a scheduled run draws on the
    unreserved pool (one invocation per period needs no reservation)."""
    return tuple(s for s in services if s.trigger != "schedule")


def check_concurrency_quota(env: AwsEnv, per_function: int, functions: int, parent: Parent) -> None:
    """Fail the preview, not the deploy, when the account cannot reserve `per_function` for each function.

    Lambda refuses a reservation that leaves fewer than 100 concurrent executions unreserved,
    and new accounts often start with a quota far below the default 1,000.
    """
    quota = aws.servicequotas.get_service_quota(
        service_code="lambda", quota_code=CONCURRENCY_QUOTA_CODE, opts=env.invoke_opts(parent)
    )
    available = int(quota.value)
    reserved = per_function * functions
    needed = reserved + UNRESERVED_MINIMUM
    if available < needed:
        fits = (available - UNRESERVED_MINIMUM) // functions
        lower = (
            f"`pulumi config set shop:reservedConcurrency {fits}`"
            if fits >= 1
            else "`pulumi config rm shop:reservedConcurrency` (the functions share the unreserved pool)"
        )
        raise ValueError(
            f"shop:reservedConcurrency {per_function} x {functions} functions reserves {reserved} concurrent "
            f"executions, so the account needs a Lambda concurrency quota of at least {needed} in {env.region} "
            f"(AWS keeps {UNRESERVED_MINIMUM} unreserved; other functions' reservations count too), but it is "
            f"{available}: run `aws service-quotas request-service-quota-increase --service-code lambda "
            f"--quota-code {CONCURRENCY_QUOTA_CODE} --desired-value {needed} --region {env.region}` and wait for "
            f"the approval, or {lower}"
        )


def _grant_arns(
    args: FunctionsArgs, targets: AwsGrantTargets, payments: Mapping[str, aws.ssm.Parameter]
) -> pulumi.Output[iam.GrantArns]:
    t = args.targets
    db, notes, auth, site = targets.database, targets.notifications, targets.auth, targets.site
    return pulumi.Output.all(
        table=db.tables[SHOP_TABLE.name].arn,
        topic=notes.topic.arn,
        queue=notes.queue.arn,
        identity=notes.email_identity.arn,
        configuration_set=notes.configuration_set.arn,
        sender=t.notifications.sender_email,
        pool=auth.user_pool.arn,
        bucket=site.bucket.arn,
        key=t.encryption.key_id,
        push=notes.platform_application.arn if notes.platform_application else "",
        payments=pulumi.Output.all(*(p.arn for p in payments.values())),
    ).apply(
        lambda v: iam.GrantArns(
            table_arn=v["table"],
            topic_arn=v["topic"],
            queue_arn=v["queue"],
            email_identity_arn=v["identity"],
            configuration_set_arn=v["configuration_set"],
            sender_email=v["sender"],
            user_pool_arn=v["pool"],
            bucket_arn=v["bucket"],
            media_prefix=t.media_prefix,
            key_arn=v["key"],
            push_application_arn=v["push"] or None,
            payment_parameter_arns=tuple(v["payments"]),
        )
    )


def _environment(
    args: FunctionsArgs, service: ServiceSpec, targets: AwsGrantTargets, shared: _Shared
) -> dict[str, pulumi.Input[str]]:
    """The common settings, the push channel for a function granted push, and the names (not
    the values) of Stripe's key parameters for a function granted payments."""
    variables = dict(args.environment)
    application = targets.notifications.platform_application
    if application is not None and any(g.resource == PUSH for g in service.grants):
        variables[AwsSettingNames.PUSH_APPLICATION_ARN] = application.arn
    if any(g.resource == PAYMENTS for g in service.grants) and shared.payment_parameters:
        parameters = [shared.payment_parameters[name] for name in sorted(shared.payment_parameters)]
        for name, parameter in shared.payment_parameters.items():
            variables[AwsSettingNames.PAYMENT_PARAMETERS[name]] = parameter.name
        variables[AwsSettingNames.STRIPE_KEYS_VERSION] = pulumi.Output.all(*[p.version for p in parameters]).apply(
            lambda versions: ".".join(str(v) for v in versions)
        )
    return variables


def _create_function(
    env: AwsEnv,
    args: FunctionsArgs,
    service: ServiceSpec,
    shared: _Shared,
    network: AwsNetwork,
    targets: AwsGrantTargets,
    parent: Parent,
) -> AwsFunction:
    # Explicit name: the log group must exist, with retention, before Lambda would create
    # one without it, and Lambda writes to /aws/lambda/<function name>.
    function_name = f"{env.context.name_prefix}-{service.name}"
    log_group = aws.cloudwatch.LogGroup(
        f"{service.name}-logs",
        name=f"/aws/lambda/{function_name}",
        retention_in_days=args.log_retention_days,
        kms_key_id=args.targets.encryption.key_id,
        opts=env.opts(parent),
    )
    role, policy = _role(env, service, shared.grant_arns, log_group, parent)
    function = aws.lambda_.Function(
        service.name,
        name=function_name,
        description=service.description,
        role=role.arn,
        runtime=packaging.runtime_name(args.code.python_version),
        architectures=[packaging.LAMBDA_ARCHITECTURE],
        handler=HANDLERS[service.trigger],
        code=shared.code,
        layers=[shared.layer.arn],
        memory_size=args.memory_mb,
        timeout=args.timeout_seconds,
        reserved_concurrent_executions=args.reserved_concurrency if service in _reserving(args.services) else None,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=_environment(args, service, targets, shared)),
        tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
        vpc_config=aws.lambda_.FunctionVpcConfigArgs(
            subnet_ids=list(network.private_subnet_ids),
            security_group_ids=[network.function_security_group.id],
        ),
        # The role's policy must exist before the first invocation/ENI creation, and the log
        # group before Lambda would create its own.
        opts=env.opts(parent, depends_on=[log_group, policy]),
    )
    if service.trigger == "queue":
        _queue_trigger(env, service, function, targets.notifications.queue, policy, parent)
    if service.trigger == "schedule":
        _schedule_trigger(env, service, function, policy, parent)
    return AwsFunction(service.name, service.trigger, function, role, log_group)


def _role(
    env: AwsEnv,
    service: ServiceSpec,
    grant_arns: pulumi.Output[iam.GrantArns],
    log_group: aws.cloudwatch.LogGroup,
    parent: Parent,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The function's own role, allowing exactly the service's grants (iam.function_policy)."""
    role = aws.iam.Role(
        f"{service.name}-role",
        description=f"Runs the {service.name} function: {service.description}",
        assume_role_policy=iam.assume_role_policy("lambda.amazonaws.com"),
        opts=env.opts(parent),
    )
    policy = aws.iam.RolePolicy(
        f"{service.name}-grants",
        role=role.id,
        policy=pulumi.Output.all(grant_arns, log_group.arn, env.account_id).apply(
            lambda v: json.dumps(
                iam.function_policy(
                    service.grants, v[0], iam.RuntimeArns(log_group_arn=v[1], region=env.region, account_id=v[2])
                ),
                indent=1,
            )
        ),
        opts=env.opts(parent),
    )
    return role, policy


def _queue_trigger(
    env: AwsEnv,
    service: ServiceSpec,
    function: aws.lambda_.Function,
    queue: aws.sqs.Queue,
    policy: aws.iam.RolePolicy,
    parent: Parent,
) -> None:
    aws.lambda_.EventSourceMapping(
        f"{service.name}-queue",
        event_source_arn=queue.arn,
        function_name=function.arn,
        batch_size=QUEUE_BATCH_SIZE,
        maximum_batching_window_in_seconds=1,
        # Only failed messages go back to the queue (and, after retries, to the DLQ).
        function_response_types=["ReportBatchItemFailures"],
        # A burst of orders must not outrun SES's per-second sending quota.
        scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(maximum_concurrency=QUEUE_MAX_CONCURRENCY),
        opts=env.opts(parent, depends_on=[policy]),
    )


def _schedule_trigger(
    env: AwsEnv, service: ServiceSpec, function: aws.lambda_.Function, policy: aws.iam.RolePolicy, parent: Parent
) -> None:
    """EventBridge Scheduler invokes the function every EXPIRY_SCHEDULE_MINUTES, through a role
    that may invoke this one function and nothing else."""
    role = aws.iam.Role(
        f"{service.name}-scheduler-role",
        description=f"EventBridge Scheduler: invokes the {service.name} function on its schedule",
        assume_role_policy=iam.assume_role_policy("scheduler.amazonaws.com"),
        opts=env.opts(parent),
    )
    invoke = aws.iam.RolePolicy(
        f"{service.name}-scheduler-invoke",
        role=role.id,
        policy=function.arn.apply(lambda arn: json.dumps(iam.invoke_policy(arn))),
        opts=env.opts(parent),
    )
    aws.scheduler.Schedule(
        f"{service.name}-schedule",
        name=f"{env.context.name_prefix}-{service.name}",
        description=f"Runs the {service.name} function: {service.description}",
        schedule_expression=f"rate({EXPIRY_SCHEDULE_MINUTES} minutes)",
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        target=aws.scheduler.ScheduleTargetArgs(
            arn=function.arn,
            role_arn=role.arn,
            # A missed run is simply the next run's work: retry briefly, never pile up.
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_retry_attempts=2, maximum_event_age_in_seconds=EXPIRY_SCHEDULE_MINUTES * 60
            ),
        ),
        opts=env.opts(parent, depends_on=[policy, invoke]),
    )
