"""Static site: a StorageV2 account with the static website ($web) holding site/ files and
the generated config.json, plus the media/ prefix the admin function writes to.

HTTPS only, TLS 1.2 minimum, Entra ID by default (shared keys only for Pulumi's uploads, or
none with shop:azure.sharedKeyUploads=false), SAS lifetime capped at 1 hour, anonymous blob
access disabled, infrastructure (double) encryption; in prod with the stack's Key Vault key
(CMK: Azure requires purge protection on the vault, which dev vaults do not have).
The static-website endpoint (<account>.z*.web.core.windows.net) is the one anonymous read
path and Azure gives it no private option on Front Door Standard: static websites are
served anonymously by design, whatever allowBlobPublicAccess says. It serves only what is
in $web (the storefront and product images, public anyway) and Front Door is its only
advertised entry; the blob endpoint stays Entra-ID-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from components import specs
from providers.azure import roles
from providers.azure.env import AzureEnv
from providers.azure.keyvault import KeyVaultNative
from providers.site_files import GENERATED_CONFIG, asset, build_site

WEB_CONTAINER = "$web"


@dataclass(frozen=True)
class StaticSiteNative:
    account: Any
    website: Any
    web_host: pulumi.Output[str]  # <account>.z6.web.core.windows.net (the Front Door origin)
    blob_endpoint: pulumi.Output[str]
    container: str


def _host(url: str) -> str:
    return url.removeprefix("https://").split("/")[0]


def secure_account(
    env: AzureEnv,
    name: str,
    parent: pulumi.Resource,
    *,
    encryption: specs.EncryptionResult | None,
    subnets: list[Any] | None = None,
    protect: bool = False,
    depends_on: list[Any] | None = None,
    network_rules: dict[str, Any] | None = None,
) -> Any:
    """A StorageV2 account with every baseline this stack requires (also used for function packages)."""
    import pulumi_azure_native.storage as storage

    # Azure Storage accepts a Key Vault key only from a vault with purge protection, which is
    # on in prod only (dev vaults must be purgeable): dev uses Microsoft-managed keys.
    kv: KeyVaultNative | None = encryption.native if encryption is not None and env.context.is_prod else None
    encryption_args: dict[str, Any] = {
        "require_infrastructure_encryption": True,
        "services": {
            "blob": {"enabled": True, "key_type": "Account"},
            "file": {"enabled": True, "key_type": "Account"},
            "queue": {"enabled": True, "key_type": "Account"},
            "table": {"enabled": True, "key_type": "Account"},
        },
        "key_source": "Microsoft.Storage",
    }
    identity = None
    depends_on = list(depends_on or [])
    if kv is not None:
        depends_on.append(kv.cmk_grant)
        encryption_args.update(
            key_source="Microsoft.Keyvault",
            key_vault_properties={"key_name": kv.key.name, "key_vault_uri": kv.vault_uri},
            encryption_identity={"encryption_user_assigned_identity": kv.cmk_identity.id},
        )
        identity = {"type": "UserAssigned", "user_assigned_identities": [kv.cmk_identity.id]}
    return storage.StorageAccount(
        name,
        resource_group_name=env.rg_name,
        location=env.location,
        kind="StorageV2",
        sku={"name": "Standard_ZRS" if env.context.is_prod else "Standard_LRS"},
        access_tier="Hot",
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        # Only Pulumi's own uploads may use the key (see AzureSettings.shared_key_uploads);
        # the functions, the portal and the CLI default to Entra ID, SAS lifetimes are capped.
        allow_shared_key_access=env.settings.shared_key_uploads,
        default_to_o_auth_authentication=True,
        sas_policy={"sas_expiration_period": "00.01:00:00", "expiration_action": "Block"},
        key_policy={"key_expiration_period_in_days": 90},
        allow_cross_tenant_replication=False,
        public_network_access="Enabled",
        network_rule_set=network_rules or {"bypass": "AzureServices", "default_action": "Allow"},
        identity=identity,
        encryption=encryption_args,
        tags=env.tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, depends_on=depends_on),
    )


def create_static_site(
    env: AzureEnv, args: specs.StaticSiteArgs, parent: pulumi.Resource, encryption: specs.EncryptionResult
) -> specs.StaticSiteResult:
    import pulumi_azure_native.storage as storage

    opts = pulumi.ResourceOptions(parent=parent)
    # Shared keys are off: the deployer uploads the files with its Entra identity.
    account = secure_account(env, "site", parent, encryption=encryption, protect=not args.force_destroy)
    deployer = roles.assign(
        "site-deployer-blob",
        scope=account.id,
        role=roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
        principal_id=env.client.object_id,
        principal_type=None,
        subscription_id=env.client.subscription_id,
        parent=parent,
        description="the deploying principal uploads the storefront (shared keys are disabled)",
    )
    storage.BlobServiceProperties(
        "site-blob-service",
        resource_group_name=env.rg_name,
        account_name=account.name,
        blob_services_name="default",
        is_versioning_enabled=not args.force_destroy,
        delete_retention_policy={"enabled": True, "days": 7 if args.force_destroy else 30},
        container_delete_retention_policy={"enabled": True, "days": 7},
        cors={
            "cors_rules": [
                {
                    "allowed_origins": list(args.upload_origins),
                    "allowed_methods": ["PUT"],
                    # the headers of the SAS upload (functions/adapters/azure_media.py)
                    "allowed_headers": ["content-type", "x-ms-blob-type", "x-ms-blob-content-type", "x-ms-version"],
                    "exposed_headers": ["etag"],
                    "max_age_in_seconds": 3600,
                }
            ]
        },
        opts=opts,
    )
    website = storage.StorageAccountStaticWebsite(
        "site-website",
        resource_group_name=env.rg_name,
        account_name=account.name,
        index_document="index.html",
        error404_document="index.html",
        opts=opts,
    )
    upload_opts = pulumi.ResourceOptions(parent=parent, depends_on=[website, deployer])
    # Blobs carry no Cache-Control here (the resource has no such property): Front Door's
    # site rule set sets it from the name (providers/azure/cdn.py).
    files = build_site(args.site_dir) if env.settings.shared_key_uploads else []
    for f in files:
        storage.Blob(
            f"file-{f.key}",
            resource_group_name=env.rg_name,
            account_name=account.name,
            container_name=website.container_name,
            blob_name=f.key,
            type="Block",
            source=asset(f),
            content_type=f.content_type,
            opts=upload_opts,
        )
    if not env.settings.shared_key_uploads:  # key-less: the operator uploads (docs/deploy-azure.md)
        return specs.StaticSiteResult(
            bucket_name=pulumi.Output.from_input(WEB_CONTAINER),
            bucket_id=account.id,
            file_count=0,
            native=StaticSiteNative(
                account, website, account.primary_endpoints.apply(lambda e: _host(e.web) if e and e.web else ""),
                account.primary_endpoints.apply(lambda e: e.blob if e else ""), WEB_CONTAINER,
            ),
        )  # fmt: skip
    storage.Blob(
        f"file-{GENERATED_CONFIG}",
        resource_group_name=env.rg_name,
        account_name=account.name,
        container_name=website.container_name,
        blob_name=GENERATED_CONFIG,
        type="Block",
        source=pulumi.Output.from_input(dict(args.runtime_config)).apply(
            lambda cfg: pulumi.StringAsset(json.dumps(cfg, indent=2, sort_keys=True))
        ),
        content_type="application/json",
        opts=upload_opts,
    )
    web_host = account.primary_endpoints.apply(lambda e: _host(e.web) if e and e.web else "")
    blob_endpoint = account.primary_endpoints.apply(lambda e: e.blob if e else "")
    native = StaticSiteNative(account, website, web_host, blob_endpoint, WEB_CONTAINER)
    return specs.StaticSiteResult(
        bucket_name=pulumi.Output.from_input(WEB_CONTAINER),
        bucket_id=account.id,
        file_count=len(files) + 1,
        native=native,
    )
