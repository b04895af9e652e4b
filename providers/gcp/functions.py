"""Functions: one Cloud Function (2nd gen, Python 3.12) per datamodel.SERVICES entry, same
source archive, each with its own service account, the Serverless VPC Access connector
(all egress through Cloud NAT), and logs routed to a stack log bucket with the stack's
retention. HTTP functions accept only authenticated calls (API Gateway's service account
is their only invoker, api.py); the queue consumer is internal-only and fed by a Pub/Sub
push subscription with a dead-letter policy.

Each service account gets exactly its service's grants (``grant_plan``), on exactly the
resource the grant names:
  table read         roles/datastore.viewer              on the project, condition: this database
  table read,write   roles/datastore.user                on the project, condition: this database
  topic publish      roles/pubsub.publisher              on the order-events topic
  queue consume      roles/run.invoker (push identity)   on the notifications function
  email send         roles/secretmanager.secretAccessor  on the mail relay secret
                     + custom role cloudmessaging.messages.create on the project (FCM push, when
                       shop:gcp.pushNotifications is on)
  identity *         roles/secretmanager.secretAccessor  on the Identity Platform API key secret
  identity read      + roles/firebaseauth.viewer         on the project (the project *is* the user pool)
  identity verify    + roles/firebaseauth.viewer         on the project (admin re-check)
  identity authenticate + custom role firebaseauth.users.update on the project: sign-out revokes
                       the user's refresh tokens (validSince); Identity Platform has no narrower
                       permission, so the accounts function could also edit users (it already
                       creates them)
  media write        roles/storage.objectCreator         on the site bucket, condition: objects under media/
                     + roles/iam.serviceAccountTokenCreator on its own account (signBlob for signed URLs)
Firestore's IAM is project-level; an IAM condition on the database name scopes it to this
stack's database (no narrower: Firestore IAM has no per-document conditions, so the per-item
scoping AWS has, dynamodb:LeadingKeys, has no equivalent; a service that only reads gets the
viewer role). The build account writes images to the functions' own Artifact Registry
repository only (repository-level binding), and reads the source bucket. No function gets a KMS role: the service agents hold the stack key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from functions.shop import datamodel as dm
from providers.gcp.env import GcpEnv
from providers.gcp.kms import cmek_opts
from providers.gcp.packaging import package_archive

RUNTIME_PREFIX = "python"
HTTP_ENTRY_POINT = "shop_api"
EVENT_ENTRY_POINT = "on_order_event"
# Requests one HTTP instance serves at once (1 vCPU): fewer instances, fewer cold starts.
HTTP_CONCURRENCY = 16

DATASTORE_VIEWER = "roles/datastore.viewer"
DATASTORE_USER = "roles/datastore.user"
PUBSUB_PUBLISHER = "roles/pubsub.publisher"
RUN_INVOKER = "roles/run.invoker"
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"
FIREBASE_AUTH_VIEWER = "roles/firebaseauth.viewer"
OBJECT_CREATOR = "roles/storage.objectCreator"
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
FCM_SENDER = "fcm-sender"  # custom role: cloudmessaging.messages.create only
AUTH_REVOKER = "auth-revoker"  # custom role: firebaseauth.users.update only (sign-out)


@dataclass
class FunctionsNative:
    functions: dict[str, Any]
    accounts: dict[str, Any]
    grants: dict[str, list[Any]]  # service -> the IAM members it was given
    source_bucket: Any
    source_object: Any
    build_account: Any
    push_account: Any = None
    push_subscription: Any = None
    log_bucket: Any = None
    log_sink: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def grant_plan(service: dm.ServiceSpec, push: bool = False) -> list[tuple[str, str]]:
    """(role, target) pairs for a service's neutral grants; target names the exact resource.
    `push`: e-mail senders may also send FCM messages."""
    plan: list[tuple[str, str]] = []
    if service.table_access:
        plan.append((DATASTORE_USER if service.table_access == "write" else DATASTORE_VIEWER, "database"))
    for grant in service.grants:
        acts = set(grant.actions)
        if grant.resource == dm.TABLE:
            continue
        elif grant.resource == dm.TOPIC:
            plan.append((PUBSUB_PUBLISHER, "topic"))
        elif grant.resource == dm.QUEUE:
            plan.append((RUN_INVOKER, "push-invoker"))
        elif grant.resource == dm.EMAIL:
            plan.append((SECRET_ACCESSOR, "email-secret"))
            if push:
                plan.append((FCM_SENDER, "push-channel"))
        elif grant.resource == dm.IDENTITY:
            plan.append((SECRET_ACCESSOR, "identity-secret"))
            if "read" in acts or "verify" in acts:
                plan.append((FIREBASE_AUTH_VIEWER, "identity-pool"))
            if "authenticate" in acts:
                plan.append((AUTH_REVOKER, "identity-revoke"))
        elif grant.resource == dm.MEDIA:
            plan.append((OBJECT_CREATOR, "media"))
            plan.append((TOKEN_CREATOR, "self"))
        else:  # pragma: no cover - datamodel.Grant validates resources
            raise ValueError(f"no GCP mapping for grant {grant}")
    return list(dict.fromkeys(plan))


def database_condition(project: str, database_id: str) -> dict[str, str]:
    name = f"projects/{project}/databases/{database_id}"
    return {
        "title": "this stack's Firestore database",
        "expression": f'resource.name == "{name}" || resource.name.startsWith("{name}/")',
    }


def media_condition(bucket: str, prefix: str) -> dict[str, str]:
    return {
        "title": f"objects under {prefix}",
        "expression": f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}")',
    }


def memory_setting(memory_mb: int) -> str:
    return f"{memory_mb}Mi"


def _one_permission_role(
    env: GcpEnv, parent: pulumi.Resource, name: str, role_id: str, title: str, description: str, permission: str
) -> Any:
    """A project custom role holding exactly one permission (no predefined role is that narrow)."""
    import pulumi_gcp as gcp

    return gcp.projects.IAMCustomRole(
        name,
        project=env.project,
        role_id=role_id,
        title=f"{env.context.name_prefix} {title}",
        description=description,
        permissions=[permission],
        opts=env.opts(parent, "iam.googleapis.com"),
    )


def create_functions(env: GcpEnv, args: specs.FunctionsArgs, parent: pulumi.Resource) -> specs.FunctionsResult:
    import pulumi_gcp as gcp

    t = args.targets
    db = t.database.native
    notes = t.notifications.native
    site = t.site.native
    auth = t.auth.native
    kms = t.encryption.native
    connector = args.network.native.connector
    project = env.project
    fn_apis = ("cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com")

    # -- source -----------------------------------------------------------------------------
    source_bucket = gcp.storage.Bucket(
        "bucket-source",
        project=project,
        location=env.region,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        encryption={"default_kms_key_name": t.encryption.key_id},
        force_destroy=True,  # only build inputs: the deployed revisions do not read it
        labels=env.labels,
        opts=cmek_opts(env, t.encryption, "storage", parent, "storage.googleapis.com"),
    )
    archive, object_name = package_archive(args.code)
    source_object = gcp.storage.BucketObject(
        "source", bucket=source_bucket.name, name=object_name, source=archive,
        opts=pulumi.ResourceOptions(parent=parent),
    )  # fmt: skip

    # -- build identity: Cloud Build runs as this account, not the default compute account --
    build_account = gcp.serviceaccount.Account(
        "sa-build",
        project=project,
        account_id=env.resource_id("build"),
        display_name=f"{env.context.name_prefix} function builds",
        opts=env.opts(parent, "iam.googleapis.com"),
    )
    build_member = build_account.member
    # The builds push the functions' images here, and may write nowhere else in Artifact Registry.
    images = gcp.artifactregistry.Repository(
        "repo-functions",
        project=project,
        location=env.region,
        repository_id=env.resource_id("functions"),
        format="DOCKER",
        description="Images Cloud Build makes of the shop's functions",
        kms_key_name=t.encryption.key_id,  # CMEK: the images hold the handler code and its dependencies
        labels=env.labels,
        opts=cmek_opts(env, t.encryption, "artifactregistry", parent, "artifactregistry.googleapis.com"),
    )
    build_grants = [
        gcp.projects.IAMMember("build-logs", project=project, role="roles/logging.logWriter", member=build_member,
                               opts=pulumi.ResourceOptions(parent=parent)),
        gcp.artifactregistry.RepositoryIamMember(
            "build-images", project=project, location=images.location, repository=images.name,
            role="roles/artifactregistry.writer", member=build_member, opts=pulumi.ResourceOptions(parent=parent)),
        gcp.storage.BucketIAMMember("build-source", bucket=source_bucket.name, role="roles/storage.objectViewer",
                                    member=build_member, opts=pulumi.ResourceOptions(parent=parent)),
    ]  # fmt: skip

    # -- shared settings --------------------------------------------------------------------
    common_env: dict[str, pulumi.Input[str]] = {
        **args.environment,
        dm.GcpEnv.PROJECT: project,
        dm.GcpEnv.FIRESTORE_DATABASE: db.database_id,
        # HTTP functions are invocable by API Gateway's account only, and the gateway has
        # validated the JWT: the function trusts the claims header it forwards.
        dm.TokenEnv.GATEWAY_VALIDATED_JWT: "true",
        dm.TokenEnv.JWKS_URL: auth.jwks_uri,
        dm.TokenEnv.JWT_ISSUER: auth.issuer,
        dm.TokenEnv.JWT_AUDIENCE: auth.audience,
        "LOG_EXECUTION_ID": "true",
    }
    secrets_by_target = {
        "identity-secret": (dm.GcpEnv.IDENTITY_API_KEY, auth.api_key_secret),
        "email-secret": (notes.email_secret_env, notes.email_secret),
    }

    functions: dict[str, Any] = {}
    accounts: dict[str, Any] = {}
    grants: dict[str, list[Any]] = {}
    results: dict[str, specs.FunctionResult] = {}
    push = env.settings.push_notifications
    fcm_role = None
    if push:
        fcm_role = _one_permission_role(
            env, parent, "role-fcm-sender", f"shopFcmSender{env.short_id('fcm')}", "FCM sender",
            "Send Firebase Cloud Messaging messages, nothing else", "cloudmessaging.messages.create",
        )  # fmt: skip
    revoker_role = _one_permission_role(
        env, parent, "role-auth-revoker", f"shopAuthRevoker{env.short_id('revoke')}", "sign-out revoker",
        "Update Identity Platform users (sign-out sets validSince), nothing else", "firebaseauth.users.update",
    )  # fmt: skip
    push_account = push_subscription = None
    push_grants: list[Any] = []
    for service in args.services:
        name = service.name
        account = gcp.serviceaccount.Account(
            f"sa-{name}",
            project=project,
            account_id=env.resource_id(name),
            display_name=f"{env.context.name_prefix} {name} function",
            description=service.description[:256],
            opts=env.opts(parent),
        )
        member = account.member
        given: list[Any] = []
        secret_env: list[dict[str, Any]] = []
        queue_consumer = False
        child = pulumi.ResourceOptions(parent=parent)
        for role, target in grant_plan(service, push):
            label = f"{name}-{target}"
            if target == "database":
                given.append(gcp.projects.IAMMember(
                    f"iam-{label}", project=project, role=role, member=member,
                    condition=db.database_id.apply(lambda d: database_condition(project, d)), opts=child,
                ))  # fmt: skip
            elif target == "topic":
                given.append(gcp.pubsub.TopicIAMMember(
                    f"iam-{label}", project=project, topic=notes.topic.name, role=role, member=member, opts=child,
                ))  # fmt: skip
            elif target in secrets_by_target:
                env_name, secret = secrets_by_target[target]
                given.append(gcp.secretmanager.SecretIamMember(
                    f"iam-{label}", project=project, secret_id=secret.secret.secret_id, role=role, member=member,
                    opts=child,
                ))  # fmt: skip
                secret_env.append({"key": env_name, "project_id": project, "secret": secret.secret_id,
                                   "version": "latest"})  # fmt: skip
            elif target == "identity-pool":
                given.append(gcp.projects.IAMMember(
                    f"iam-{label}", project=project, role=role, member=member, opts=child,
                ))  # fmt: skip
            elif target == "media":
                given.append(gcp.storage.BucketIAMMember(
                    f"iam-{label}", bucket=site.bucket.name, role=role, member=member,
                    condition=site.bucket.name.apply(lambda b: media_condition(b, t.media_prefix)), opts=child,
                ))  # fmt: skip
            elif target == "self":
                given.append(gcp.serviceaccount.IAMMember(
                    f"iam-{label}", service_account_id=account.name, role=role, member=member, opts=child,
                ))  # fmt: skip
            elif target == "identity-revoke":
                given.append(gcp.projects.IAMMember(
                    f"iam-{label}", project=project, role=revoker_role.name, member=member, opts=child,
                ))  # fmt: skip
            elif target == "push-channel":
                given.append(gcp.projects.IAMMember(
                    f"iam-{label}", project=project, role=fcm_role.name, member=member, opts=child,
                ))  # fmt: skip
            elif target == "push-invoker":
                queue_consumer = True  # granted to the push identity below, once the function exists
            else:  # pragma: no cover
                raise ValueError(f"unknown GCP grant target {target}")

        is_http = service.trigger == "http"
        fn_env = dict(common_env)
        if push and any(g.resource == dm.EMAIL for g in service.grants):
            fn_env[dm.GcpEnv.FCM_ENABLED] = "true"
        function = gcp.cloudfunctionsv2.Function(
            f"fn-{name}",
            project=project,
            location=env.region,
            description=service.description,
            build_config={
                "runtime": f"{RUNTIME_PREFIX}{args.code.python_version.replace('.', '')}",
                "entry_point": HTTP_ENTRY_POINT if is_http else EVENT_ENTRY_POINT,
                "source": {"storage_source": {"bucket": source_bucket.name, "object": source_object.name}},
                "service_account": build_account.id,
                "docker_repository": images.id,
            },
            service_config={
                "available_memory": memory_setting(args.memory_mb),
                "available_cpu": "1",
                "max_instance_request_concurrency": HTTP_CONCURRENCY if is_http else 1,
                "timeout_seconds": args.timeout_seconds,
                "max_instance_count": args.reserved_concurrency or 100,
                # prod keeps one warm instance per HTTP function: no cold start on the first shopper.
                "min_instance_count": 1 if (env.context.is_prod and is_http) else 0,
                "environment_variables": dict(sorted(fn_env.items())),
                "secret_environment_variables": secret_env or None,
                "service_account_email": account.email,
                "vpc_connector": connector.id,
                "vpc_connector_egress_settings": "ALL_TRAFFIC",
                "ingress_settings": "ALLOW_ALL" if is_http else "ALLOW_INTERNAL_ONLY",
                "all_traffic_on_latest_revision": True,
            },
            labels={**env.labels, "service": name},
            opts=env.opts(parent, *fn_apis, depends_on=[*given, *build_grants]),
        )
        if queue_consumer:
            push_account, push_subscription, push_grants = _push_subscription(env, notes, kms, function, parent)
        functions[name] = function
        accounts[name] = account
        grants[name] = given
        results[name] = specs.FunctionResult(
            service=name,
            name=function.name,
            function_id=function.id,
            invoke_ref=function.url,
            identity_ref=account.email,
            trigger=service.trigger,
            native=function,
        )

    log_bucket, log_sink = _log_routing(env, args, functions, parent)
    native = FunctionsNative(
        functions=functions, accounts=accounts, grants=grants, source_bucket=source_bucket,
        source_object=source_object, build_account=build_account, push_account=push_account,
        push_subscription=push_subscription, log_bucket=log_bucket, log_sink=log_sink,
        extra={"push_grants": push_grants, "build_grants": build_grants, "images": images},
    )  # fmt: skip
    return specs.FunctionsResult(functions=results, native=native)


def _push_subscription(env: GcpEnv, notes: Any, kms: Any, function: Any, parent: pulumi.Resource):
    """The notifications queue: a push subscription with retries and a dead-letter topic,
    authenticated by an OIDC token of a push-only account that may invoke just this function."""
    import pulumi_gcp as gcp

    child = pulumi.ResourceOptions(parent=parent)
    push_account = gcp.serviceaccount.Account(
        "sa-push",
        project=env.project,
        account_id=env.resource_id("push"),
        display_name=f"{env.context.name_prefix} Pub/Sub push to the notifications function",
        opts=env.opts(parent),
    )
    push_member = push_account.member
    invoker = gcp.cloudrunv2.ServiceIamMember(
        "iam-notifications-push-invoker",
        project=env.project,
        location=env.region,
        name=function.name,
        role=RUN_INVOKER,
        member=push_member,
        opts=child,
    )
    # Pub/Sub's agent mints the OIDC tokens for the push account.
    token = gcp.serviceaccount.IAMMember(
        "iam-push-token-pubsub-agent",
        service_account_id=push_account.name,
        role=TOKEN_CREATOR,
        member=kms.agent_members["pubsub"],
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
        dead_letter_policy={
            "dead_letter_topic": notes.dead_letter_topic.id,
            "max_delivery_attempts": notes.max_receives,
        },
        push_config={
            "push_endpoint": function.url,
            "oidc_token": {"service_account_email": push_account.email, "audience": function.url},
        },
        labels=env.labels,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[invoker, token, notes.dead_letter_grant]),
    )
    # Dead-lettering: Pub/Sub's agent must acknowledge what it forwards.
    agent_ack = gcp.pubsub.SubscriptionIAMMember(
        "iam-notifications-sub-pubsub-agent",
        project=env.project,
        subscription=subscription.name,
        role="roles/pubsub.subscriber",
        member=kms.agent_members["pubsub"],
        opts=child,
    )
    return push_account, subscription, [invoker, token, agent_ack]


def _log_routing(env: GcpEnv, args: specs.FunctionsArgs, functions: dict[str, Any], parent: pulumi.Resource):
    """The functions' and the gateway's logs go to a stack log bucket kept logRetentionDays."""
    import pulumi_gcp as gcp

    # Regional, like the stack key: a CMEK log bucket must live where its key does.
    bucket = gcp.logging.ProjectBucketConfig(
        "log-bucket",
        project=env.project,
        location=env.region,
        bucket_id=env.resource_id("logs", max_len=100),
        retention_days=args.log_retention_days,
        description=f"{env.context.name_prefix}: functions and API Gateway logs",
        cmek_settings={"kms_key_name": args.targets.encryption.key_id},
        opts=cmek_opts(env, args.targets.encryption, "logging", parent, "logging.googleapis.com"),
    )
    names = pulumi.Output.all(*[f.name for f in functions.values()])
    log_filter = names.apply(
        lambda ns: (
            '(resource.type="cloud_run_revision" AND resource.labels.service_name=('
            + " OR ".join(f'"{n}"' for n in ns)
            + ')) OR resource.type="apigateway.googleapis.com/Gateway"'
        )
    )
    sink = gcp.logging.ProjectSink(
        "log-sink",
        project=env.project,
        destination=bucket.id.apply(lambda b: f"logging.googleapis.com/{b}"),
        filter=log_filter,
        unique_writer_identity=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return bucket, sink
