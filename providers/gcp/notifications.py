"""Notifications: the order-events Pub/Sub topic, its dead-letter topic with a pull
subscription that keeps failed events 7 days for inspection and replay, and the Secret
Manager secret holding the mail relay's credential (SendGrid API key or SMTP URL; GCP
has no first-party e-mail sending). The credential comes from the stack's secret config
(``pulumi config set --secret shop:sendgridApiKey`` or ``shop:smtpUrl``), checked before
anything is created; a dev stack may leave it unset (a placeholder version, e-mail fails
until an operator adds one), a prod stack may not.

The push subscription that feeds the notifications function (dead-letter policy, retry
backoff, OIDC-authenticated push) needs the function's URL, so functions.py creates it
under the name fixed here (``queue_ref``). Topics are encrypted with the stack key.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.config import get_config

from components import specs
from components.config import NAMESPACE
from providers.gcp.env import GcpEnv
from providers.gcp.kms import cmek_opts
from providers.gcp.secrets import create_secret
from providers.gcp.settings import GcpSettingsError

PUBSUB = "pubsub.googleapis.com"
EMAIL_SECRET = {"sendgrid": "emailApiKey", "smtp": "smtpUrl"}
# The stack-config key (a Pulumi secret) holding each relay's credential.
MAIL_CREDENTIAL_KEY = {"sendgrid": "sendgridApiKey", "smtp": "smtpUrl"}
# SendGrid API keys: "SG." + key id + "." + secret, both URL-safe base64.
_SENDGRID_KEY = re.compile(r"^SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{20,64}$")
_EXAMPLE = {"sendgrid": "SG.xxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
            "smtp": "smtp+starttls://user:password@smtp.example.com:587"}  # fmt: skip


def _credential_problem(provider: str, value: str) -> str | None:
    if provider == "sendgrid":
        return None if _SENDGRID_KEY.match(value) else "is not a SendGrid API key (SG.<id>.<secret>)"
    url = urllib.parse.urlsplit(value)
    if url.scheme not in ("smtp+starttls", "smtps") or not url.hostname:
        return "must be smtp+starttls://user:password@host:587 or smtps://user:password@host:465"
    return None


def mail_credential(provider: str, is_prod: bool) -> pulumi.Output[str] | None:
    """The relay credential from the stack's secret config, validated (never echoed) before
    any resource exists; None (placeholder) when a dev stack leaves it unset."""
    key = MAIL_CREDENTIAL_KEY[provider]
    raw = get_config(f"{NAMESPACE}:{key}")  # the plaintext, only to check its shape
    fix = f"`pulumi config set --secret {NAMESPACE}:{key} {_EXAMPLE[provider]}`"
    if not raw:
        if is_prod:
            raise GcpSettingsError(
                f"{NAMESPACE}:{key} is required in prod (shop:gcp.emailProvider {provider}): set {fix}"
            )
        pulumi.log.warn(f"{NAMESPACE}:{key} is not set: order e-mails fail until it is ({fix}, then pulumi up)")
        return None
    problem = _credential_problem(provider, raw)
    if problem:
        raise GcpSettingsError(f"{NAMESPACE}:{key} {problem}: set {fix}")
    return pulumi.Output.secret(raw)


@dataclass
class NotificationsNative:
    topic: Any
    dead_letter_topic: Any
    dead_letter_subscription: Any
    subscription_name: str  # created by functions.py with the push endpoint
    email_secret: Any
    email_secret_env: str  # GcpEnv.EMAIL_API_KEY or GcpEnv.SMTP_URL
    max_receives: int
    ack_deadline_seconds: int
    dead_letter_grant: Any = None


def create_notifications(
    env: GcpEnv, args: specs.NotificationsArgs, parent: pulumi.Resource
) -> specs.NotificationsResult:
    import pulumi_gcp as gcp

    from functions.shop import datamodel as dm

    key = args.encryption
    topic = gcp.pubsub.Topic(
        "topic-order-events",
        project=env.project,
        kms_key_name=key.key_id,
        message_storage_policy={"allowed_persistence_regions": [env.region]},
        labels=env.labels,
        opts=cmek_opts(env, key, "pubsub", parent, PUBSUB),
    )
    dead_letter_topic = gcp.pubsub.Topic(
        "topic-dead-letter",
        project=env.project,
        kms_key_name=key.key_id,
        message_storage_policy={"allowed_persistence_regions": [env.region]},
        labels=env.labels,
        opts=cmek_opts(env, key, "pubsub", parent, PUBSUB),
    )
    dead_letter_subscription = gcp.pubsub.Subscription(
        "sub-dead-letter",
        project=env.project,
        topic=dead_letter_topic.id,
        message_retention_duration="604800s",  # 7 days to look at and replay failed events
        expiration_policy={"ttl": ""},  # never expires for inactivity
        ack_deadline_seconds=60,
        labels=env.labels,
        opts=env.opts(parent, PUBSUB),
    )
    # Pub/Sub's own agent moves undeliverable messages: it must publish to the dead-letter topic.
    dead_letter_grant = gcp.pubsub.TopicIAMMember(
        "dlq-publisher-pubsub-agent",
        project=env.project,
        topic=dead_letter_topic.name,
        role="roles/pubsub.publisher",
        member=key.native.agent_members["pubsub"],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    secret_name = EMAIL_SECRET[env.settings.email_provider]
    credential = mail_credential(env.settings.email_provider, env.context.is_prod)
    email_secret = create_secret(
        env,
        secret_name,
        value=credential,
        placeholder=credential is None,
        encryption=key,
        parent=parent,
        description=f"Mail relay credential ({env.settings.email_provider}) of the notifications function",
    )
    subscription_name = f"{env.context.name_prefix}-{args.queue_name}"
    native = NotificationsNative(
        topic=topic,
        dead_letter_topic=dead_letter_topic,
        dead_letter_subscription=dead_letter_subscription,
        subscription_name=subscription_name,
        email_secret=email_secret,
        email_secret_env=dm.GcpEnv.EMAIL_API_KEY if env.settings.email_provider == "sendgrid" else dm.GcpEnv.SMTP_URL,
        max_receives=args.max_receives,
        ack_deadline_seconds=min(600, max(10, args.visibility_timeout_seconds)),
        dead_letter_grant=dead_letter_grant,
    )
    return specs.NotificationsResult(
        topic_ref=topic.id,
        queue_ref=pulumi.Output.from_input(f"projects/{env.project}/subscriptions/{subscription_name}"),
        dead_letter_queue_ref=dead_letter_topic.id,
        dead_letter_queue_name=dead_letter_subscription.name,
        sender_email=pulumi.Output.from_input(args.sender_email),
        native=native,
    )
