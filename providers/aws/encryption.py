"""The stack's customer-managed KMS key (rotation on) and its key policy.

The key encrypts the table, the topics, the queues, the log groups and the secure
parameters. Its policy names actions explicitly (no ``kms:*``) and lets AWS services use
it only for this account's resources. In a key policy, Resource "*" means "this key".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import EncryptionArgs, EncryptionResult
from providers.aws.env import AwsEnv
from providers.base import Parent

# Administration of the key by the account (IAM decides who in the account may do it).
_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# Use of the key by the account's principals, as their IAM policies allow (the functions'
# roles narrow it further with kms:ViaService).
_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


@dataclass(frozen=True)
class AwsEncryption:
    key_arn: pulumi.Output[str]  # the stack's key, or the one shop:existingKeyId names

    @property
    def result(self) -> EncryptionResult:
        return EncryptionResult(key_id=self.key_arn)


def key_policy(account_id: str, partition: str, region: str) -> str:
    root = f"arn:{partition}:iam::{account_id}:root"
    source_account = {"StringEquals": {"aws:SourceAccount": account_id}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersAndUsesTheKeyThroughIam",
                    "Effect": "Allow",
                    "Principal": {"AWS": root},
                    "Action": sorted({*_ADMIN_ACTIONS, *_USE_ACTIONS}),
                    "Resource": "*",
                },
                {
                    # Log groups of this account and region encrypted with the key.
                    "Sid": "CloudWatchLogsEncryptsLogGroups",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": (
                                f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                            )
                        }
                    },
                },
                {
                    # SNS delivering order events into the encrypted queue.
                    "Sid": "SnsDeliversToEncryptedQueues",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": source_account,
                },
                {
                    # CloudWatch alarms publishing to the encrypted alarm topic.
                    "Sid": "CloudWatchPublishesAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": source_account,
                },
            ],
        }
    )


def create_encryption(env: AwsEnv, args: EncryptionArgs, parent: Parent) -> AwsEncryption:
    if args.existing_key_id:
        # A key made outside the stack: its key policy must allow what key_policy() allows.
        return AwsEncryption(pulumi.Output.from_input(args.existing_key_id))
    key = aws.kms.Key(
        "stack-key",
        description=args.description,
        enable_key_rotation=args.rotation,
        deletion_window_in_days=30 if env.context.is_prod else 7,
        policy=pulumi.Output.all(env.account_id, env.partition).apply(lambda v: key_policy(v[0], v[1], env.region)),
        opts=env.opts(parent),
    )
    aws.kms.Alias(
        "stack-key-alias",
        name=f"alias/{env.context.name_prefix}",
        target_key_id=key.key_id,
        opts=env.opts(parent),
    )
    return AwsEncryption(key.arn)
