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

Push (``shop:gcp.pushNotifications``): the project is made a Firebase project (FCM sends only
for Firebase projects); the notifications function sends through FCM HTTP v1 with its own
account, which holds the one permission that takes (providers/gcp/iam.py). A project that is
already a Firebase project is imported once (docs/deploy-gcp.md).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
from pulumi.runtime.config import get_config

from components import specs
from components.config import NAMESPACE
from functions.shop import datamodel as dm
from providers.gcp.configuration import GcpSecret, create_secret
from providers.gcp.encryption import GcpEncryption, cmek_opts
from providers.gcp.env import FIREBASE_APIS, GcpEnv
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


@dataclass(frozen=True)
class GcpNotifications:
    topic: gcp.pubsub.Topic
    dead_letter_topic: gcp.pubsub.Topic
    dead_letter_subscription: gcp.pubsub.Subscription
    dead_letter_grant: gcp.pubsub.TopicIAMMember  # Pub/Sub's agent publishes dead letters
    email_secret: GcpSecret
    email_secret_env: str  # dm.GcpSettingNames.EMAIL_API_KEY or dm.GcpSettingNames.SMTP_URL
    subscription_name: str  # created by functions.py with the push endpoint
    subscription_path: str  # projects/<project>/subscriptions/<subscription_name>
    max_receives: int
    ack_deadline_seconds: int
    sender_email: str
    firebase: gcp.firebase.Project | None  # when shop:gcp.pushNotifications is on

    @property
    def result(self) -> specs.NotificationsResult:
        return specs.NotificationsResult(
            topic_ref=self.topic.id,
            queue_ref=pulumi.Output.from_input(self.subscription_path),
            dead_letter_queue_ref=self.dead_letter_topic.id,
            dead_letter_queue_name=self.dead_letter_subscription.name,
            sender_email=pulumi.Output.from_input(self.sender_email),
        )


def _topic(env: GcpEnv, name: str, encryption: GcpEncryption, parent: pulumi.Resource) -> gcp.pubsub.Topic:
    return gcp.pubsub.Topic(
        name,
        project=env.project,
        kms_key_name=encryption.key_id,
        message_storage_policy={"allowed_persistence_regions": [env.region]},
        opts=cmek_opts(env, encryption, "pubsub", parent, PUBSUB),
    )


def _email_secret(env: GcpEnv, encryption: GcpEncryption, parent: pulumi.Resource) -> GcpSecret:
    provider = env.settings.email_provider
    credential = mail_credential(provider, env.context.is_prod)
    return create_secret(
        env,
        EMAIL_SECRET[provider],
        value=credential,
        placeholder=credential is None,
        encryption=encryption,
        parent=parent,
        description=f"Mail relay credential ({provider}) of the notifications function",
    )


def create_notifications(
    env: GcpEnv, args: specs.NotificationsArgs, parent: pulumi.Resource, encryption: GcpEncryption
) -> GcpNotifications:
    topic = _topic(env, "topic-order-events", encryption, parent)
    dead_letter_topic = _topic(env, "topic-dead-letter", encryption, parent)
    dead_letter_subscription = gcp.pubsub.Subscription(
        "sub-dead-letter",
        project=env.project,
        topic=dead_letter_topic.id,
        message_retention_duration="604800s",  # 7 days to look at and replay failed events
        expiration_policy={"ttl": ""},  # never expires for inactivity
        ack_deadline_seconds=60,
        opts=env.opts(parent, PUBSUB),
    )
    # Pub/Sub's own agent moves undeliverable messages: it must publish to the dead-letter topic.
    dead_letter_grant = gcp.pubsub.TopicIAMMember(
        "dlq-publisher-pubsub-agent",
        project=env.project,
        topic=dead_letter_topic.name,
        role="roles/pubsub.publisher",
        member=encryption.agent_members["pubsub"],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    subscription_name = f"{env.context.name_prefix}-{args.queue_name}"
    sendgrid = env.settings.email_provider == "sendgrid"
    return GcpNotifications(
        topic=topic,
        dead_letter_topic=dead_letter_topic,
        dead_letter_subscription=dead_letter_subscription,
        dead_letter_grant=dead_letter_grant,
        email_secret=_email_secret(env, encryption, parent),
        email_secret_env=dm.GcpSettingNames.EMAIL_API_KEY if sendgrid else dm.GcpSettingNames.SMTP_URL,
        subscription_name=subscription_name,
        subscription_path=f"projects/{env.project}/subscriptions/{subscription_name}",
        max_receives=args.max_receives,
        ack_deadline_seconds=min(600, max(10, args.visibility_timeout_seconds)),
        sender_email=args.sender_email,
        firebase=_firebase(env, parent),
    )


def _firebase(env: GcpEnv, parent: pulumi.Resource) -> gcp.firebase.Project | None:
    if not env.settings.push_notifications:
        return None
    # Firebase cannot be removed from a project: destroying the stack leaves it (and its
    # other apps) in place rather than failing.
    return gcp.firebase.Project(
        "firebase",
        project=env.project,
        opts=pulumi.ResourceOptions.merge(
            env.opts(parent, *FIREBASE_APIS), pulumi.ResourceOptions(retain_on_delete=True)
        ),
    )
