"""Functions: one Cloud Function (2nd gen, Python 3.12) per datamodel.SERVICES entry, same
source archive, each with its own service account, the Serverless VPC Access connector
(all egress through Cloud NAT), and logs routed to a stack log bucket with the stack's
retention. HTTP functions accept only authenticated calls (API Gateway's service account
is their only invoker, api.py); the queue consumer is internal-only and fed by a Pub/Sub
push subscription with a dead-letter policy.

Each service account gets exactly its service's grants (iam.py). The build account writes
images to the functions' own Artifact Registry repository only (repository-level binding),
and reads the source bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import pulumi
import pulumi_gcp as gcp

from components import specs
from functions.shop import datamodel as dm
from providers.gcp.configuration import GcpSecret, create_secret
from providers.gcp.encryption import GcpEncryption, cmek_opts
from providers.gcp.env import GcpEnv
from providers.gcp.iam import (
    RUN_INVOKER,
    TOKEN_CREATOR,
    CustomRoles,
    GrantTargets,
    ServiceGrants,
    create_custom_roles,
    grant_service,
)
from providers.gcp.monitoring import LogRoute, create_log_route
from providers.gcp.network import GcpNetwork
from providers.gcp.notifications import GcpNotifications
from providers.gcp.packaging import package_archive

RUNTIME_PREFIX = "python"
HTTP_ENTRY_POINT = "shop_api"
EVENT_ENTRY_POINT = "on_order_event"
# Entry point per datamodel trigger (functions/runtimes/gcp_app/main.py).
ENTRY_POINTS: Mapping[str, str] = {"http": HTTP_ENTRY_POINT, "queue": EVENT_ENTRY_POINT, "schedule": "expire_orders"}
SCHEDULER_API = "cloudscheduler.googleapis.com"
# Requests one HTTP instance serves at once (1 vCPU): fewer instances, fewer cold starts.
HTTP_CONCURRENCY = 16
IAM = "iam.googleapis.com"
FUNCTION_APIS = ("cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com")


@dataclass(frozen=True)
class GcpFunction:
    service: dm.ServiceSpec
    function: gcp.cloudfunctionsv2.Function
    account: gcp.serviceaccount.Account
    grants: ServiceGrants

    @property
    def result(self) -> specs.FunctionResult:
        return specs.FunctionResult(
            service=self.service.name,
            name=self.function.name,
            function_id=self.function.id,
            invoke_ref=self.function.url,
            identity_ref=self.account.email,
            trigger=self.service.trigger,
        )


@dataclass(frozen=True)
class GcpBuild:
    """What Cloud Build needs: the source archive, its own identity, the image repository."""

    source_bucket: gcp.storage.Bucket
    source_object: gcp.storage.BucketObject
    account: gcp.serviceaccount.Account
    images: gcp.artifactregistry.Repository
    grants: tuple[pulumi.CustomResource, ...]


@dataclass(frozen=True)
class GcpPushDelivery:
    account: gcp.serviceaccount.Account
    subscription: gcp.pubsub.Subscription
    grants: tuple[pulumi.CustomResource, ...]


@dataclass(frozen=True)
class GcpSchedule:
    account: gcp.serviceaccount.Account  # the job's OIDC identity: the function's only invoker
    job: gcp.cloudscheduler.Job
    invoker: gcp.cloudrunv2.ServiceIamMember


@dataclass(frozen=True)
class GcpFunctions:
    functions: Mapping[str, GcpFunction]  # by service name
    build: GcpBuild
    roles: CustomRoles
    push: GcpPushDelivery | None  # the notifications queue's push subscription
    schedule: GcpSchedule | None  # the expiry function's Cloud Scheduler job
    logs: LogRoute  # the functions' and the gateway's
    payment_secrets: Mapping[str, GcpSecret]  # Stripe's keys; empty when the stack takes no cards

    @property
    def result(self) -> specs.FunctionsResult:
        return specs.FunctionsResult(functions={name: fn.result for name, fn in self.functions.items()})


def memory_setting(memory_mb: int) -> str:
    return f"{memory_mb}Mi"


def _source(env: GcpEnv, code: specs.CodePackage, encryption: GcpEncryption,
            parent: pulumi.Resource) -> tuple[gcp.storage.Bucket, gcp.storage.BucketObject]:  # fmt: skip
    bucket = gcp.storage.Bucket(
        "bucket-source",
        project=env.project,
        location=env.region,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        encryption={"default_kms_key_name": encryption.key_id},
        force_destroy=True,  # only build inputs: the deployed revisions do not read it
        opts=cmek_opts(env, encryption, "storage", parent, "storage.googleapis.com"),
    )
    archive, object_name = package_archive(code)
    source = gcp.storage.BucketObject(
        "source", bucket=bucket.name, name=object_name, source=archive, opts=pulumi.ResourceOptions(parent=parent)
    )
    return bucket, source


def _build(env: GcpEnv, code: specs.CodePackage, encryption: GcpEncryption, parent: pulumi.Resource) -> GcpBuild:
    """Cloud Build runs as its own account, not the default compute account."""
    source_bucket, source_object = _source(env, code, encryption, parent)
    account = env.service_account("sa-build", "build", "function builds", parent, IAM)
    # The builds push the functions' images here, and may write nowhere else in Artifact Registry.
    images = gcp.artifactregistry.Repository(
        "repo-functions",
        project=env.project,
        location=env.region,
        repository_id=env.resource_id("functions"),
        format="DOCKER",
        description="Images Cloud Build makes of the shop's functions",
        kms_key_name=encryption.key_id,  # CMEK: the images hold the handler code and its dependencies
        opts=cmek_opts(env, encryption, "artifactregistry", parent, "artifactregistry.googleapis.com"),
    )
    member, child = account.member, pulumi.ResourceOptions(parent=parent)
    grants = (
        gcp.projects.IAMMember("build-logs", project=env.project, role="roles/logging.logWriter", member=member,
                               opts=child),
        gcp.artifactregistry.RepositoryIamMember(
            "build-images", project=env.project, location=images.location, repository=images.name,
            role="roles/artifactregistry.writer", member=member, opts=child),
        gcp.storage.BucketIAMMember("build-source", bucket=source_bucket.name, role="roles/storage.objectViewer",
                                    member=member, opts=child),
    )  # fmt: skip
    return GcpBuild(source_bucket, source_object, account, images, grants)


def _common_environment(env: GcpEnv, args: specs.FunctionsArgs, targets: GrantTargets) -> dict[str, pulumi.Input[str]]:
    auth = targets.auth
    return {
        **args.environment,
        dm.GcpSettingNames.PROJECT: env.project,
        dm.GcpSettingNames.FIRESTORE_DATABASE: targets.database.database_id,
        # HTTP functions are invocable by API Gateway's account only, and the gateway has
        # validated the JWT: the function trusts the claims header it forwards.
        dm.TokenEnv.GATEWAY_VALIDATED_JWT: "true",
        dm.TokenEnv.JWKS_URL: auth.jwks_uri,
        dm.TokenEnv.JWT_ISSUER: auth.issuer,
        dm.TokenEnv.JWT_AUDIENCE: auth.audience,
        "LOG_EXECUTION_ID": "true",
    }


def _service_config(env: GcpEnv, args: specs.FunctionsArgs, service: dm.ServiceSpec,
                    account: gcp.serviceaccount.Account, grants: ServiceGrants, environment: dict[str, pulumi.Input[str]],
                    network: GcpNetwork) -> gcp.cloudfunctionsv2.FunctionServiceConfigArgsDict:  # fmt: skip
    is_http = service.trigger == "http"
    fn_env = dict(environment)
    if env.settings.push_notifications and any(g.resource == dm.EMAIL for g in service.grants):
        fn_env[dm.GcpSettingNames.FCM_ENABLED] = "true"
    return {
        "available_memory": memory_setting(args.memory_mb),
        "available_cpu": "1",
        "max_instance_request_concurrency": HTTP_CONCURRENCY if is_http else 1,
        "timeout_seconds": args.timeout_seconds,
        "max_instance_count": args.reserved_concurrency or 100,
        # prod keeps one warm instance per HTTP function: no cold start on the first shopper.
        "min_instance_count": 1 if (env.context.is_prod and is_http) else 0,
        "environment_variables": dict(sorted(fn_env.items())),
        "secret_environment_variables": list(grants.secret_env) or None,
        "service_account_email": account.email,
        "vpc_connector": network.connector_id,
        "vpc_connector_egress_settings": "ALL_TRAFFIC",
        "ingress_settings": "ALLOW_ALL" if is_http else "ALLOW_INTERNAL_ONLY",
        "all_traffic_on_latest_revision": True,
    }


def _function(env: GcpEnv, args: specs.FunctionsArgs, service: dm.ServiceSpec, targets: GrantTargets,
              roles: CustomRoles, build: GcpBuild, environment: dict[str, pulumi.Input[str]], network: GcpNetwork,
              parent: pulumi.Resource) -> GcpFunction:  # fmt: skip
    name = service.name
    account = env.service_account(f"sa-{name}", name, f"{name} function", parent, description=service.description[:256])
    grants = grant_service(env, service, account, targets, roles, parent)
    function = gcp.cloudfunctionsv2.Function(
        f"fn-{name}",
        project=env.project,
        location=env.region,
        description=service.description,
        build_config={
            "runtime": f"{RUNTIME_PREFIX}{args.code.python_version.replace('.', '')}",
            "entry_point": ENTRY_POINTS[service.trigger],
            "source": {"storage_source": {"bucket": build.source_bucket.name, "object": build.source_object.name}},
            "service_account": build.account.id,
            "docker_repository": build.images.id,
        },
        service_config=_service_config(env, args, service, account, grants, environment, network),
        labels={"service": name},  # besides the stack's (env.py)
        opts=env.opts(parent, *FUNCTION_APIS, depends_on=[*grants.members, *build.grants]),
    )
    return GcpFunction(service=service, function=function, account=account, grants=grants)


def create_functions(env: GcpEnv, args: specs.FunctionsArgs, parent: pulumi.Resource, *, encryption: GcpEncryption,
                     network: GcpNetwork, targets: GrantTargets) -> GcpFunctions:  # fmt: skip
    build = _build(env, args.code, encryption, parent)
    targets = replace(targets, payments=_payment_secrets(env, args, encryption, parent))
    environment = _common_environment(env, args, targets)
    roles = create_custom_roles(env, parent)
    functions: dict[str, GcpFunction] = {}
    push: GcpPushDelivery | None = None
    schedule: GcpSchedule | None = None
    for service in args.services:
        made = _function(env, args, service, targets, roles, build, environment, network, parent)
        if made.grants.queue_consumer:
            push = _push_subscription(env, targets.notifications, encryption, made.function, parent)
        if service.trigger == "schedule":
            schedule = _schedule(env, service, made.function, parent)
        functions[service.name] = made
    logs = _log_route(env, args, encryption, functions, parent)
    return GcpFunctions(functions, build, roles, push, schedule, logs, targets.payments)


PAYMENT_SECRET_DESCRIPTION = "Stripe (payments); read by the orders function"


def _payment_secrets(env: GcpEnv, args: specs.FunctionsArgs, encryption: GcpEncryption,
                     parent: pulumi.Resource) -> dict[str, GcpSecret]:  # fmt: skip
    """Stripe's keys as Secret Manager secrets under the stack key (none without Stripe); the
    functions granted payments mount them as environment variables."""
    if args.payments is None:
        return {}
    return {
        name: create_secret(
            env, name, encryption=encryption, parent=parent, value=value, description=PAYMENT_SECRET_DESCRIPTION
        )
        for name, value in args.payments.values.items()
    }


def _log_route(env: GcpEnv, args: specs.FunctionsArgs, encryption: GcpEncryption,
               functions: Mapping[str, GcpFunction], parent: pulumi.Resource) -> LogRoute:  # fmt: skip
    """The functions' and the gateway's logs go to a stack log bucket kept logRetentionDays."""
    names = pulumi.Output.all(*[f.function.name for f in functions.values()])
    log_filter = names.apply(
        lambda ns: (
            '(resource.type="cloud_run_revision" AND resource.labels.service_name=('
            + " OR ".join(f'"{n}"' for n in ns)
            + ')) OR resource.type="apigateway.googleapis.com/Gateway"'
        )
    )
    return create_log_route(
        env,
        "log",
        bucket_id=env.resource_id("logs", max_len=100),
        description=f"{env.context.name_prefix}: functions and API Gateway logs",
        log_filter=log_filter,
        retention_days=args.log_retention_days,
        encryption=encryption,
        parent=parent,
    )


def _push_subscription(env: GcpEnv, notes: GcpNotifications, encryption: GcpEncryption,
                       function: gcp.cloudfunctionsv2.Function, parent: pulumi.Resource) -> GcpPushDelivery:  # fmt: skip
    """The notifications queue: a push subscription with retries and a dead-letter topic,
    authenticated by an OIDC token of a push-only account that may invoke just this function."""
    child = pulumi.ResourceOptions(parent=parent)
    pubsub_agent = encryption.agent_members["pubsub"]
    push_account = env.service_account("sa-push", "push", "Pub/Sub push to the notifications function", parent)
    invoker = gcp.cloudrunv2.ServiceIamMember(
        "iam-notifications-push-invoker",
        project=env.project,
        location=env.region,
        name=function.name,
        role=RUN_INVOKER,
        member=push_account.member,
        opts=child,
    )
    # Pub/Sub's agent mints the OIDC tokens for the push account.
    token = gcp.serviceaccount.IAMMember(
        "iam-push-token-pubsub-agent",
        service_account_id=push_account.name,
        role=TOKEN_CREATOR,
        member=pubsub_agent,
        opts=child,
    )
    subscription = gcp.pubsub.Subscription(
        "sub-notifications",
        project=env.project,
        name=notes.subscription_name,
        topic=notes.topic.id,
        ack_deadline_seconds=notes.ack_deadline_seconds,
        message_retention_duration="604800s",
        expiration_policy={"ttl": ""},
        retry_policy={"minimum_backoff": "10s", "maximum_backoff": "600s"},
        dead_letter_policy={"dead_letter_topic": notes.dead_letter_topic.id,
                            "max_delivery_attempts": notes.max_receives},
        push_config={"push_endpoint": function.url,
                     "oidc_token": {"service_account_email": push_account.email, "audience": function.url}},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[invoker, token, notes.dead_letter_grant]),
    )  # fmt: skip
    # Dead-lettering: Pub/Sub's agent must acknowledge what it forwards.
    agent_ack = gcp.pubsub.SubscriptionIAMMember(
        "iam-notifications-sub-pubsub-agent",
        project=env.project,
        subscription=subscription.name,
        role="roles/pubsub.subscriber",
        member=pubsub_agent,
        opts=child,
    )
    return GcpPushDelivery(account=push_account, subscription=subscription, grants=(invoker, token, agent_ack))


def _schedule(env: GcpEnv, service: dm.ServiceSpec, function: gcp.cloudfunctionsv2.Function,
              parent: pulumi.Resource) -> GcpSchedule:  # fmt: skip
    """Cloud Scheduler calls the function every EXPIRY_SCHEDULE_MINUTES with an OIDC token of
    its own account, the one identity allowed to invoke it (ingress stays internal-only:
    Cloud Scheduler of the same project is internal to Cloud Run)."""
    name = service.name
    account = env.service_account(f"sa-{name}-scheduler", f"{name}-scheduler", f"Cloud Scheduler: runs {name}", parent)
    invoker = gcp.cloudrunv2.ServiceIamMember(
        f"iam-{name}-scheduler-invoker",
        project=env.project,
        location=env.region,
        name=function.name,
        role=RUN_INVOKER,
        member=account.member,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    job = gcp.cloudscheduler.Job(
        f"schedule-{name}",
        project=env.project,
        region=env.region,
        name=env.resource_id(name, max_len=500),
        description=f"Runs the {name} function: {service.description}",
        schedule=f"*/{dm.EXPIRY_SCHEDULE_MINUTES} * * * *",
        time_zone="Etc/UTC",
        attempt_deadline=f"{2 * 60}s",
        # A missed run is the next run's work: retry briefly, never pile up.
        retry_config={"retry_count": 2, "max_retry_duration": f"{dm.EXPIRY_SCHEDULE_MINUTES * 60}s"},
        http_target={
            "uri": function.url,
            "http_method": "POST",
            "oidc_token": {"service_account_email": account.email, "audience": function.url},
        },
        opts=env.opts(parent, SCHEDULER_API, depends_on=[invoker]),
    )
    return GcpSchedule(account=account, job=job, invoker=invoker)
