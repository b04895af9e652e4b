"""Static site: a Cloud Storage bucket (uniform access, encrypted with the stack key,
versioned in prod) holding site/ files, the generated config.json and the media/ prefix
the admin function writes to through V4 signed URLs (CORS for PUT from the site's origin).

Reads: nobody reads anonymously (public access prevention is enforced). The load balancer
reads through Cloud Storage's XML API as a dedicated service account (roles/storage.
legacyObjectReader: storage.objects.get only, no listing) whose HMAC key signs each origin
request (Cloud CDN private origin authentication, cdn.py), so the bucket answers the CDN
and Cloud Armor's backend, not a direct caller. Every write needs IAM (Pulumi, or the admin
function under media/ through signed URLs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from providers.gcp.encryption import GcpEncryption, cmek_opts
from providers.gcp.env import GcpEnv
from providers.site_files import GENERATED_CONFIG, asset, build_site, cache_control

STORAGE = "storage.googleapis.com"
ORIGIN_READ_ROLE = "roles/storage.legacyObjectReader"


@dataclass(frozen=True)
class GcpStaticSite:
    bucket: gcp.storage.Bucket
    origin_reader: gcp.serviceaccount.Account  # the load balancer's identity
    origin_read: gcp.storage.BucketIAMMember  # its object-read grant on the bucket
    origin_key: gcp.storage.HmacKey  # its HMAC key (access_id, secret) signing origin requests
    file_count: int  # uploaded files, config.json included

    @property
    def result(self) -> specs.StaticSiteResult:
        return specs.StaticSiteResult(
            bucket_name=self.bucket.name, bucket_id=self.bucket.id, file_count=self.file_count
        )


def _bucket(env: GcpEnv, args: specs.StaticSiteArgs, parent: pulumi.Resource,
            encryption: GcpEncryption) -> gcp.storage.Bucket:  # fmt: skip
    return gcp.storage.Bucket(
        "bucket-site",
        project=env.project,
        location=env.region,
        storage_class="STANDARD",
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        encryption={"default_kms_key_name": encryption.key_id},
        versioning={"enabled": env.context.is_prod},
        force_destroy=args.force_destroy,
        website={"main_page_suffix": "index.html", "not_found_page": "index.html"},
        cors=[
            {
                # signed POST policy uploads (functions/adapters/gcp_media.py)
                "origins": list(args.upload_origins),
                "methods": ["POST"],
                "response_headers": ["Content-Type"],
                "max_age_seconds": 3600,
            }
        ],
        opts=cmek_opts(env, encryption, "storage", parent, STORAGE),
    )


def _upload(args: specs.StaticSiteArgs, bucket: gcp.storage.Bucket, parent: pulumi.Resource) -> int:
    """The site's files and the generated config.json; how many objects that is."""
    files = build_site(args.site_dir)
    for f in files:
        gcp.storage.BucketObject(
            f"file-{f.key}",
            bucket=bucket.name,
            name=f.key,
            source=asset(f),
            content_type=f.content_type,
            cache_control=f.cache_control,
            opts=pulumi.ResourceOptions(parent=parent),
        )
    config = pulumi.Output.from_input(dict(args.runtime_config)).apply(
        lambda cfg: json.dumps(cfg, indent=2, sort_keys=True)
    )
    gcp.storage.BucketObject(
        f"file-{GENERATED_CONFIG}",
        bucket=bucket.name,
        name=GENERATED_CONFIG,
        content=config,
        content_type="application/json",
        cache_control=cache_control(GENERATED_CONFIG),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return len(files) + 1


def create_static_site(
    env: GcpEnv, args: specs.StaticSiteArgs, parent: pulumi.Resource, encryption: GcpEncryption
) -> GcpStaticSite:
    bucket = _bucket(env, args, parent, encryption)
    origin_reader = env.service_account(
        "sa-cdn-origin", "cdn-origin", "load balancer reads the site bucket", parent, "iam.googleapis.com"
    )
    origin_read = gcp.storage.BucketIAMMember(
        "site-origin-object-read",
        bucket=bucket.name,
        role=ORIGIN_READ_ROLE,
        member=origin_reader.member,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    origin_key = gcp.storage.HmacKey(
        "site-origin-hmac",
        project=env.project,
        service_account_email=origin_reader.email,
        opts=env.opts(parent, STORAGE, depends_on=[origin_read]),
    )
    return GcpStaticSite(
        bucket=bucket,
        origin_reader=origin_reader,
        origin_read=origin_read,
        origin_key=origin_key,
        file_count=_upload(args, bucket, parent),
    )
