"""Static site: a Cloud Storage bucket (uniform access, encrypted with the stack key,
versioned in prod) holding site/ files, the generated config.json and the media/ prefix
the admin function writes to through V4 signed URLs (CORS for PUT from the site's origin).

Reads: a load balancer's backend bucket fetches objects anonymously, so anonymous
*object reads* are granted with roles/storage.legacyObjectReader (storage.objects.get
only: no listing, no bucket metadata). The bucket holds only what the storefront shows
anyway (pages and product images); every write needs IAM (Pulumi, or the admin function
under media/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from components import specs
from providers.gcp.env import GcpEnv
from providers.gcp.kms import cmek_opts
from providers.site_files import GENERATED_CONFIG, asset, build_site, cache_control

STORAGE = "storage.googleapis.com"
ANONYMOUS_READ_ROLE = "roles/storage.legacyObjectReader"


@dataclass(frozen=True)
class StaticSiteNative:
    bucket: Any
    public_read: Any


def create_static_site(
    env: GcpEnv, args: specs.StaticSiteArgs, parent: pulumi.Resource, encryption: specs.EncryptionResult
) -> specs.StaticSiteResult:
    import pulumi_gcp as gcp

    bucket = gcp.storage.Bucket(
        "bucket-site",
        project=env.project,
        location=env.region,
        storage_class="STANDARD",
        uniform_bucket_level_access=True,
        # "inherited": the one anonymous grant below is the point of this bucket.
        public_access_prevention="inherited",
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
        labels=env.labels,
        opts=cmek_opts(env, encryption, "storage", parent, STORAGE),
    )
    public_read = gcp.storage.BucketIAMMember(
        "site-anonymous-object-read",
        bucket=bucket.name,
        role=ANONYMOUS_READ_ROLE,
        member="allUsers",
        opts=pulumi.ResourceOptions(parent=parent),
    )
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
    return specs.StaticSiteResult(
        bucket_name=bucket.name,
        bucket_id=bucket.id,
        file_count=len(files) + 1,
        native=StaticSiteNative(bucket=bucket, public_read=public_read),
    )
