"""The storefront bucket: private, encrypted, versioned; site/ files + generated config.json.

Only CloudFront reads it (origin access control); the bucket policy saying so is created by
the CDN module (it needs the distribution's ARN) from ``site_bucket_policy`` below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import StaticSiteArgs, StaticSiteResult
from providers.aws.env import AwsEnv
from providers.aws.iam import deny_insecure_transport, policy_document
from providers.base import Parent
from providers.site_files import GENERATED_CONFIG, REVALIDATE, asset, build_site


@dataclass(frozen=True)
class AwsStaticSite:
    bucket: aws.s3.Bucket
    file_count: int  # uploaded files, config.json included

    @property
    def result(self) -> StaticSiteResult:
        return StaticSiteResult(bucket_name=self.bucket.bucket, bucket_id=self.bucket.arn, file_count=self.file_count)


def create_static_site(env: AwsEnv, args: StaticSiteArgs, parent: Parent) -> AwsStaticSite:
    opts = env.opts(parent)
    bucket = aws.s3.Bucket("site", force_destroy=args.force_destroy, opts=opts)
    public_access_block = harden_bucket(env, "site", bucket, parent, object_ownership="BucketOwnerEnforced")
    aws.s3.BucketVersioning(
        "site",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=opts,
    )
    aws.s3.BucketLifecycleConfiguration(
        "site",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-old-versions",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=30
                ),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1
                ),
            )
        ],
        opts=opts,
    )
    # Admins upload product images straight from the browser as signed POST forms
    # (multipart/form-data, a CORS-safelisted type: no preflight, no request headers to allow).
    aws.s3.BucketCorsConfiguration(
        "site",
        bucket=bucket.id,
        cors_rules=[
            aws.s3.BucketCorsConfigurationCorsRuleArgs(
                allowed_methods=["POST"],
                allowed_origins=list(args.upload_origins),
                max_age_seconds=3600,
            )
        ],
        opts=opts,
    )
    file_count = _upload_files(env, args, bucket, env.opts(parent, depends_on=[public_access_block]))
    return AwsStaticSite(bucket, file_count=file_count)


def harden_bucket(
    env: AwsEnv, name: str, bucket: aws.s3.Bucket, parent: Parent, *, object_ownership: str
) -> aws.s3.BucketPublicAccessBlock:
    """Ownership controls, every kind of public access blocked, SSE-S3 by default.

    SSE-S3 rather than the stack key: the site's content is published by the CDN anyway, and
    SSE-KMS would make CloudFront (OAC) and every pre-signed upload need key permissions;
    CloudFront log delivery cannot write with a customer-managed key at all.
    """
    opts = env.opts(parent)
    aws.s3.BucketOwnershipControls(
        name,
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=object_ownership),
        opts=opts,
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name,
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                ),
            )
        ],
        opts=opts,
    )
    return public_access_block


def deny_insecure_transport_policy(
    env: AwsEnv, name: str, bucket: aws.s3.Bucket, parent: Parent
) -> aws.s3.BucketPolicy:
    """A bucket policy refusing every request that is not over TLS (a bucket with no other
    policy statement: the site bucket's own policy adds the same statement to its OAC grant)."""
    return aws.s3.BucketPolicy(
        name,
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: policy_document(deny_insecure_transport("s3:*", [arn, f"{arn}/*"]))),
        opts=env.opts(parent),
    )


def _upload_files(env: AwsEnv, args: StaticSiteArgs, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions) -> int:
    """The site/ files and the generated config.json; how many objects that is."""
    files = build_site(args.site_dir)
    for f in files:
        aws.s3.BucketObjectv2(
            f"file-{f.key}",
            bucket=bucket.id,
            key=f.key,
            source=asset(f),
            content_type=f.content_type,
            cache_control=f.cache_control,
            opts=opts,
        )
    aws.s3.BucketObjectv2(
        f"file-{GENERATED_CONFIG}",
        bucket=bucket.id,
        key=GENERATED_CONFIG,
        content=pulumi.Output.from_input(dict(args.runtime_config)).apply(
            lambda cfg: json.dumps(cfg, indent=2, sort_keys=True)
        ),
        content_type="application/json",
        cache_control=REVALIDATE,
        opts=opts,
    )
    return len(files) + 1


def site_bucket_policy(bucket_arn: str, distribution_arn: str) -> str:
    """Read access for exactly one CloudFront distribution (OAC); TLS-only for everyone."""
    from_distribution = {"StringEquals": {"AWS:SourceArn": distribution_arn}}
    return policy_document(
        {
            "Sid": "CloudFrontReadsObjects",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": from_distribution,
        },
        {
            # Lets S3 answer 404 (not 403) for a missing file, so errors are honest.
            "Sid": "CloudFrontListsBucket",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": from_distribution,
        },
        deny_insecure_transport("s3:*", [bucket_arn, f"{bucket_arn}/*"]),
    )
