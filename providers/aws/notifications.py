"""Order events: SNS topic -> SQS queue (+ dead-letter queue) -> notifications function;
SES identity and configuration set for the sender address. All encrypted with the stack key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import NotificationsArgs, NotificationsResult
from providers.aws.env import AwsEnv
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

    @property
    def result(self) -> NotificationsResult:
        return NotificationsResult(
            topic_ref=self.topic.arn,
            queue_ref=self.queue.arn,
            dead_letter_queue_ref=self.dead_letter_queue.arn,
            dead_letter_queue_name=self.dead_letter_queue.name,
            sender_email=pulumi.Output.from_input(self.sender_email),
        )


def deny_insecure_transport(sid: str, actions: list[str], resources: list[str]) -> dict:
    """Deny statement refusing any request not made over TLS."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def create_notifications(env: AwsEnv, args: NotificationsArgs, parent: Parent) -> AwsNotifications:
    opts = env.opts(parent)
    key = args.encryption.key_id

    topic = aws.sns.Topic(args.topic_name, kms_master_key_id=key, opts=opts)
    aws.sns.TopicPolicy(
        args.topic_name,
        arn=topic.arn,
        policy=pulumi.Output.all(topic.arn, env.account_id, env.partition).apply(
            lambda v: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountPublishes",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{v[2]}:iam::{v[1]}:root"},
                            "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
                            "Resource": v[0],
                        },
                        deny_insecure_transport("DenyInsecureTransport", ["sns:Publish"], [v[0]]),
                    ],
                }
            )
        ),
        opts=opts,
    )

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
        policy=pulumi.Output.all(queue.arn, topic.arn).apply(lambda v: json.dumps(queue_policy(v[0], v[1]))),
        opts=opts,
    )
    aws.sqs.QueuePolicy(
        f"{args.queue_name}-dlq",
        queue_url=dlq.url,
        policy=dlq.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [deny_insecure_transport("DenyInsecureTransport", ["sqs:*"], [arn])],
                }
            )
        ),
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
    return AwsNotifications(topic, queue, dlq, identity, configuration_set, args.sender_email)


def queue_policy(queue_arn: str, topic_arn: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrderEventsTopicOnly",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            },
            deny_insecure_transport("DenyInsecureTransport", ["sqs:*"], [queue_arn]),
        ],
    }
