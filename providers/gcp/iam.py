"""Grants -> IAM: each function's service account gets exactly its service's datamodel
grants (``grant_plan``), on exactly the resource the grant names:
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
  payments read      roles/secretmanager.secretAccessor  on each of Stripe's two secrets (none when the
                                                         stack takes no cards)
  media write        roles/storage.objectCreator         on the site bucket, condition: objects under media/
                     + roles/iam.serviceAccountTokenCreator on its own account (signBlob for signed URLs)
Firestore's IAM is project-level; an IAM condition on the database name scopes it to this
stack's database (no narrower: Firestore IAM has no per-document conditions, so the per-item
scoping AWS has, dynamodb:LeadingKeys, has no equivalent; a service that only reads gets the
viewer role). No function gets a KMS role: the service agents hold the stack key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from functions.shop import datamodel as dm
from providers.gcp.auth import GcpAuth
from providers.gcp.configuration import GcpSecret
from providers.gcp.database import GcpDatabase
from providers.gcp.env import GcpEnv
from providers.gcp.notifications import GcpNotifications
from providers.gcp.static_site import GcpStaticSite

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
# The grant the queue consumer needs is given to the push identity (functions.py), not to it.
PUSH_INVOKER = "push-invoker"

SecretEnv = gcp.cloudfunctionsv2.FunctionServiceConfigSecretEnvironmentVariableArgsDict
# The grant targets of Stripe's secrets (datamodel.PAYMENT_SECRETS name -> target).
PAYMENT_TARGETS: dict[str, str] = {
    dm.STRIPE_SECRET_KEY: "stripe-secret-key",
    dm.STRIPE_WEBHOOK_SECRET: "stripe-webhook-secret",
}


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
            plan.append((RUN_INVOKER, PUSH_INVOKER))
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
        elif grant.resource == dm.PUSH:
            continue  # FCM: the sender role, granted with e-mail above
        elif grant.resource == dm.PAYMENTS:
            plan.extend((SECRET_ACCESSOR, target) for target in PAYMENT_TARGETS.values())
        else:  # pragma: no cover - datamodel.Grant validates resources
            raise ValueError(f"no GCP mapping for grant {grant}")
    return list(dict.fromkeys(plan))


def database_condition(project: str, database_id: str) -> gcp.projects.IAMMemberConditionArgsDict:
    name = f"projects/{project}/databases/{database_id}"
    return {
        "title": "this stack's Firestore database",
        "expression": f'resource.name == "{name}" || resource.name.startsWith("{name}/")',
    }


def media_condition(bucket: str, prefix: str) -> gcp.storage.BucketIAMMemberConditionArgsDict:
    return {
        "title": f"objects under {prefix}",
        "expression": f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}")',
    }


@dataclass(frozen=True)
class CustomRoles:
    """Project custom roles of one permission each (no predefined role is that narrow)."""

    revoker: gcp.projects.IAMCustomRole
    fcm_sender: gcp.projects.IAMCustomRole | None  # when shop:gcp.pushNotifications is on


def _one_permission_role(env: GcpEnv, parent: pulumi.Resource, name: str, role_id: str, title: str,
                         description: str, permission: str) -> gcp.projects.IAMCustomRole:  # fmt: skip
    return gcp.projects.IAMCustomRole(
        name,
        project=env.project,
        role_id=role_id,
        title=f"{env.context.name_prefix} {title}",
        description=description,
        permissions=[permission],
        opts=env.opts(parent, "iam.googleapis.com"),
    )


def create_custom_roles(env: GcpEnv, parent: pulumi.Resource) -> CustomRoles:
    fcm_sender = None
    if env.settings.push_notifications:
        fcm_sender = _one_permission_role(
            env, parent, "role-fcm-sender", f"shopFcmSender{env.short_id('fcm')}", "FCM sender",
            "Send Firebase Cloud Messaging messages, nothing else", "cloudmessaging.messages.create",
        )  # fmt: skip
    revoker = _one_permission_role(
        env, parent, "role-auth-revoker", f"shopAuthRevoker{env.short_id('revoke')}", "sign-out revoker",
        "Update Identity Platform users (sign-out sets validSince), nothing else", "firebaseauth.users.update",
    )  # fmt: skip
    return CustomRoles(revoker=revoker, fcm_sender=fcm_sender)


@dataclass(frozen=True)
class GrantTargets:
    """The GCP resources a datamodel grant may name."""

    database: GcpDatabase
    notifications: GcpNotifications
    auth: GcpAuth
    site: GcpStaticSite
    media_prefix: str
    # Stripe's keys (datamodel.PAYMENT_SECRETS name -> secret); empty when the stack takes no cards
    payments: Mapping[str, GcpSecret] = field(default_factory=dict)

    def secret(self, target: str) -> tuple[str, GcpSecret] | None:
        """(environment variable, secret) a secret-reading target mounts, else None."""
        if target == "identity-secret":
            return dm.GcpSettingNames.IDENTITY_API_KEY, self.auth.api_key_secret
        if target == "email-secret":
            return self.notifications.email_secret_env, self.notifications.email_secret
        for name, payment_target in PAYMENT_TARGETS.items():
            if target == payment_target and name in self.payments:
                return dm.PaymentSettingNames.BY_SECRET[name], self.payments[name]
        return None


@dataclass(frozen=True)
class ServiceGrants:
    members: tuple[pulumi.CustomResource, ...]  # the IAM members the service's account was given
    secret_env: tuple[SecretEnv, ...]  # the secrets it reads, as the function's environment
    queue_consumer: bool  # its push identity may invoke it (functions.py)


def _member(env: GcpEnv, targets: GrantTargets, roles: CustomRoles, account: gcp.serviceaccount.Account,
            role: str, target: str, name: str, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:  # fmt: skip
    project, member = env.project, account.member
    if target == "database":
        condition = targets.database.database_id.apply(lambda d: database_condition(project, d))
        return gcp.projects.IAMMember(name, project=project, role=role, member=member, condition=condition, opts=opts)
    if target == "topic":
        topic = targets.notifications.topic.name
        return gcp.pubsub.TopicIAMMember(name, project=project, topic=topic, role=role, member=member, opts=opts)
    mounted = targets.secret(target)
    if mounted is not None:
        secret_id = mounted[1].secret.secret_id
        return gcp.secretmanager.SecretIamMember(
            name, project=project, secret_id=secret_id, role=role, member=member, opts=opts
        )
    if target == "identity-pool":
        return gcp.projects.IAMMember(name, project=project, role=role, member=member, opts=opts)
    if target == "media":
        bucket = targets.site.bucket.name
        condition = bucket.apply(lambda b: media_condition(b, targets.media_prefix))
        return gcp.storage.BucketIAMMember(
            name, bucket=bucket, role=role, member=member, condition=condition, opts=opts
        )
    if target == "self":
        return gcp.serviceaccount.IAMMember(name, service_account_id=account.name, role=role, member=member, opts=opts)
    if target == "identity-revoke":
        return gcp.projects.IAMMember(name, project=project, role=roles.revoker.name, member=member, opts=opts)
    if target == "push-channel" and roles.fcm_sender is not None:
        return gcp.projects.IAMMember(name, project=project, role=roles.fcm_sender.name, member=member, opts=opts)
    raise ValueError(f"unknown GCP grant target {target}")  # pragma: no cover


def grant_service(env: GcpEnv, service: dm.ServiceSpec, account: gcp.serviceaccount.Account,
                  targets: GrantTargets, roles: CustomRoles, parent: pulumi.Resource) -> ServiceGrants:  # fmt: skip
    """The service's grants on its account, and the secrets it mounts."""
    members: list[pulumi.CustomResource] = []
    secret_env: list[SecretEnv] = []
    plan = grant_plan(service, push=roles.fcm_sender is not None)
    for role, target in plan:
        if target == PUSH_INVOKER:
            continue
        if target in PAYMENT_TARGETS.values() and targets.secret(target) is None:
            continue  # the stack takes no cards: no secrets to read
        name = f"iam-{service.name}-{target}"
        opts = pulumi.ResourceOptions(parent=parent)
        members.append(_member(env, targets, roles, account, role, target, name, opts))
        mounted = targets.secret(target)
        if mounted is not None:
            env_name, secret = mounted
            secret_env.append(
                {"key": env_name, "project_id": env.project, "secret": secret.secret_id,
                 "version": secret.mounted_version}
            )  # fmt: skip
    queue_consumer = any(target == PUSH_INVOKER for _, target in plan)
    return ServiceGrants(members=tuple(members), secret_env=tuple(secret_env), queue_consumer=queue_consumer)
