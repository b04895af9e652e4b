"""Order events: SNS topic -> SQS queue (+ dead-letter queue) -> notifications function;
SES identity and configuration set for the sender address. All encrypted with the stack key.
Mobile push: an SNS platform application for Firebase Cloud Messaging, when
``shop:fcmCredentials`` is set (functions/adapters/sns_push.py makes one endpoint per device).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import NotificationsArgs, NotificationsResult
from providers.aws.env import AwsEnv
from providers.aws.iam import deny_insecure_transport, policy_document
from providers.base import Parent

_FOURTEEN_DAYS = 14 * 24 * 3600


@dataclass(frozen=True)
class AwsNotifications:
    topic: aws.sns.Topic
    queue: aws.sqs.Queue
    dead_letter_queue: aws.sqs.Queue
    email_identity: aws.sesv2.EmailIdentity
    configuration_set: aws.sesv2.ConfigurationSet
    sender_email: str
    platform_application: aws.sns.PlatformApplication | None = None  # FCM push; None: not configured

    @property
    def result(self) -> NotificationsResult:
        return NotificationsResult(
            topic_ref=self.topic.arn,
            queue_ref=self.queue.arn,
            dead_letter_queue_ref=self.dead_letter_queue.arn,
            dead_letter_queue_name=self.dead_letter_queue.name,
            sender_email=pulumi.Output.from_input(self.sender_email),
        )


def create_notifications(env: AwsEnv, args: NotificationsArgs, parent: Parent) -> AwsNotifications:
    topic = _topic(env, args, parent)
    dead_letter_queue, queue = _queues(env, args, topic, parent)
    configuration_set, identity = _sender(env, args, parent)
    push = _push_application(env, args, parent)
    return AwsNotifications(topic, queue, dead_letter_queue, identity, configuration_set, args.sender_email, push)


def _push_application(env: AwsEnv, args: NotificationsArgs, parent: Parent) -> aws.sns.PlatformApplication | None:
    """The FCM platform application (token-based: the service-account key, FCM HTTP v1)."""
    if args.push_credentials is None:
        return None
    return aws.sns.PlatformApplication(
        "push",
        name=f"{env.context.name_prefix}-push",
        platform="GCM",
        platform_credential=args.push_credentials,
        opts=env.opts(parent),
    )


def _topic(env: AwsEnv, args: NotificationsArgs, parent: Parent) -> aws.sns.Topic:
    """The order-events topic: the account publishes, over TLS only."""
    opts = env.opts(parent)
    topic = aws.sns.Topic(args.topic_name, kms_master_key_id=args.encryption.key_id, opts=opts)
    aws.sns.TopicPolicy(
        args.topic_name,
        arn=topic.arn,
        policy=pulumi.Output.all(topic.arn, env.account_id, env.partition).apply(
            lambda v: policy_document(
                {
                    "Sid": "AccountPublishes",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{v[2]}:iam::{v[1]}:root"},
                    "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
                    "Resource": v[0],
                },
                deny_insecure_transport(["sns:Publish"], [v[0]]),
            )
        ),
        opts=opts,
    )
    return topic


def _queues(
    env: AwsEnv, args: NotificationsArgs, topic: aws.sns.Topic, parent: Parent
) -> tuple[aws.sqs.Queue, aws.sqs.Queue]:
    """(dead-letter queue, queue subscribed to the topic), both encrypted and TLS-only."""
    opts = env.opts(parent)
    key = args.encryption.key_id
    dlq = aws.sqs.Queue(
        f"{args.queue_name}-dlq",
        kms_master_key_id=key,
        kms_data_key_reuse_period_seconds=300,
        message_retention_seconds=_FOURTEEN_DAYS,
        opts=opts,
    )
    queue = aws.sqs.Queue(
        args.queue_name,
        kms_master_key_id=key,
        kms_data_key_reuse_period_seconds=300,
        visibility_timeout_seconds=args.visibility_timeout_seconds,
        message_retention_seconds=4 * 24 * 3600,
        redrive_policy=dlq.arn.apply(
            lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receives})
        ),
        opts=opts,
    )
    # Only the notifications queue may send its failures here.
    aws.sqs.RedriveAllowPolicy(
        f"{args.queue_name}-dlq",
        queue_url=dlq.url,
        redrive_allow_policy=queue.arn.apply(
            lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]})
        ),
        opts=opts,
    )
    # Only the order-events topic may send to the queue, and only over TLS.
    aws.sqs.QueuePolicy(
        args.queue_name,
        queue_url=queue.url,
        policy=pulumi.Output.all(queue.arn, topic.arn).apply(lambda v: queue_policy(v[0], v[1])),
        opts=opts,
    )
    aws.sqs.QueuePolicy(
        f"{args.queue_name}-dlq",
        queue_url=dlq.url,
        policy=dlq.arn.apply(lambda arn: policy_document(deny_insecure_transport(["sqs:*"], [arn]))),
        opts=opts,
    )
    aws.sns.TopicSubscription(
        args.queue_name,
        topic=topic.arn,
        protocol="sqs",
        endpoint=queue.arn,
        # The queue message body is the event itself, not an SNS envelope around it.
        raw_message_delivery=True,
        opts=opts,
    )
    return dlq, queue


def _sender(
    env: AwsEnv, args: NotificationsArgs, parent: Parent
) -> tuple[aws.sesv2.ConfigurationSet, aws.sesv2.EmailIdentity]:
    """The SES configuration set (TLS required, bounces and complaints suppressed) and sender identity."""
    opts = env.opts(parent)
    configuration_set = aws.sesv2.ConfigurationSet(
        "email",
        configuration_set_name=f"{env.context.name_prefix}-email",
        delivery_options=aws.sesv2.ConfigurationSetDeliveryOptionsArgs(tls_policy="REQUIRE"),
        reputation_options=aws.sesv2.ConfigurationSetReputationOptionsArgs(reputation_metrics_enabled=True),
        sending_options=aws.sesv2.ConfigurationSetSendingOptionsArgs(sending_enabled=True),
        suppression_options=aws.sesv2.ConfigurationSetSuppressionOptionsArgs(
            suppressed_reasons=["BOUNCE", "COMPLAINT"]
        ),
        opts=opts,
    )
    identity = aws.sesv2.EmailIdentity(
        "sender",
        email_identity=args.sender_email,
        configuration_set_name=configuration_set.configuration_set_name,
        opts=opts,
    )
    return configuration_set, identity


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    return policy_document(
        {
            "Sid": "OrderEventsTopicOnly",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
        },
        deny_insecure_transport(["sqs:*"], [queue_arn]),
    )
