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
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.storage as storage

from components import specs
from providers.azure import iam
from providers.azure.encryption import AzureEncryption
from providers.azure.env import AzureEnv
from providers.site_files import GENERATED_CONFIG, asset, build_site

WEB_CONTAINER = "$web"


@dataclass(frozen=True)
class AzureStaticSite:
    account: storage.StorageAccount
    website: storage.StorageAccountStaticWebsite
    file_count: int
    container: str = WEB_CONTAINER

    @property
    def web_host(self) -> pulumi.Output[str]:
        """<account>.z6.web.core.windows.net (the Front Door origin)."""
        return self.account.primary_endpoints.apply(lambda e: _host(e.web) if e and e.web else "")

    @property
    def blob_endpoint(self) -> pulumi.Output[str]:
        return self.account.primary_endpoints.apply(lambda e: e.blob if e else "")

    @property
    def result(self) -> specs.StaticSiteResult:
        return specs.StaticSiteResult(
            bucket_name=pulumi.Output.from_input(self.container), bucket_id=self.account.id, file_count=self.file_count
        )


def _host(url: str) -> str:
    return url.removeprefix("https://").split("/")[0]


_SERVICE_KEYS = storage.EncryptionServiceArgs(enabled=True, key_type="Account")


def _encryption(env: AzureEnv, kv: AzureEncryption | None) -> storage.EncryptionArgs:
    services = storage.EncryptionServicesArgs(
        blob=_SERVICE_KEYS, file=_SERVICE_KEYS, queue=_SERVICE_KEYS, table=_SERVICE_KEYS
    )
    if kv is None:
        return storage.EncryptionArgs(
            require_infrastructure_encryption=True, services=services, key_source=storage.KeySource.MICROSOFT_STORAGE
        )
    return storage.EncryptionArgs(
        require_infrastructure_encryption=True,
        services=services,
        key_source=storage.KeySource.MICROSOFT_KEYVAULT,
        key_vault_properties=storage.KeyVaultPropertiesArgs(key_name=kv.key.name, key_vault_uri=kv.key.vault_uri),
        encryption_identity=storage.EncryptionIdentityArgs(encryption_user_assigned_identity=kv.cmk_identity.id),
    )


def secure_account(
    env: AzureEnv,
    name: str,
    parent: pulumi.Resource,
    *,
    encryption: AzureEncryption,
    protect: bool = False,
    network_rules: storage.NetworkRuleSetArgs | None = None,
) -> storage.StorageAccount:
    """A StorageV2 account with every baseline this stack requires (also used for function packages)."""
    # Azure Storage accepts a Key Vault key only from a vault with purge protection, which is
    # on in prod only (dev vaults must be purgeable): dev uses Microsoft-managed keys.
    kv = encryption if env.context.is_prod else None
    return storage.StorageAccount(
        name,
        resource_group_name=env.rg_name,
        location=env.location,
        kind="StorageV2",
        sku=storage.SkuArgs(name=storage.SkuName.STANDARD_ZRS if env.context.is_prod else storage.SkuName.STANDARD_LRS),
        access_tier=storage.AccessTier.HOT,
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        # Only Pulumi's own uploads may use the key (see AzureSettings.shared_key_uploads);
        # the functions, the portal and the CLI default to Entra ID, SAS lifetimes are capped.
        allow_shared_key_access=env.settings.shared_key_uploads,
        default_to_o_auth_authentication=True,
        sas_policy=storage.SasPolicyArgs(sas_expiration_period="00.01:00:00", expiration_action="Block"),
        key_policy=storage.KeyPolicyArgs(key_expiration_period_in_days=90),
        allow_cross_tenant_replication=False,
        public_network_access="Enabled",
        network_rule_set=network_rules
        or storage.NetworkRuleSetArgs(bypass="AzureServices", default_action=storage.DefaultAction.ALLOW),
        identity=storage.IdentityArgs(
            type=storage.IdentityType.USER_ASSIGNED, user_assigned_identities=[kv.cmk_identity.id]
        )
        if kv
        else None,
        encryption=_encryption(env, kv),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, depends_on=[kv.cmk_grant] if kv else []),
    )


def create_static_site(
    env: AzureEnv, args: specs.StaticSiteArgs, parent: pulumi.Resource, encryption: AzureEncryption
) -> AzureStaticSite:
    # Shared keys are off: the deployer uploads the files with its Entra identity.
    account = secure_account(env, "site", parent, encryption=encryption, protect=not args.force_destroy)
    deployer = iam.assign_to_deployer(
        env, "site-deployer-blob", account.id, iam.STORAGE_BLOB_DATA_CONTRIBUTOR, parent,
        "the deploying principal uploads the storefront (shared keys are disabled)",
    )  # fmt: skip
    _blob_service(env, args, account, parent)
    website = storage.StorageAccountStaticWebsite(
        "site-website",
        resource_group_name=env.rg_name,
        account_name=account.name,
        index_document="index.html",
        error404_document="index.html",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if not env.settings.shared_key_uploads:  # key-less: the operator uploads (docs/deploy-azure.md)
        return AzureStaticSite(account, website, file_count=0)
    upload_opts = pulumi.ResourceOptions(parent=parent, depends_on=[website, deployer])
    # Blobs carry no Cache-Control here (the resource has no such property): Front Door's
    # site rule set sets it from the name (providers/azure/cdn.py).
    files = build_site(args.site_dir)
    for f in files:
        _upload(env, account, website, f"file-{f.key}", f.key, asset(f), f.content_type, upload_opts)
    config = pulumi.Output.from_input(dict(args.runtime_config)).apply(_config_json)
    _upload(
        env, account, website, f"file-{GENERATED_CONFIG}", GENERATED_CONFIG, config, "application/json", upload_opts
    )
    return AzureStaticSite(account, website, file_count=len(files) + 1)


def _config_json(config: Mapping[str, object]) -> pulumi.Asset | pulumi.Archive | None:
    return pulumi.StringAsset(json.dumps(config, indent=2, sort_keys=True))


def _upload(
    env: AzureEnv,
    account: storage.StorageAccount,
    website: storage.StorageAccountStaticWebsite,
    logical_name: str,
    key: str,
    source: pulumi.Input[pulumi.Asset | pulumi.Archive | None],
    content_type: str,
    opts: pulumi.ResourceOptions,
) -> storage.Blob:
    return storage.Blob(
        logical_name,
        resource_group_name=env.rg_name,
        account_name=account.name,
        container_name=website.container_name,
        blob_name=key,
        type=storage.BlobType.BLOCK,
        source=source,
        content_type=content_type,
        opts=opts,
    )


def _blob_service(
    env: AzureEnv, args: specs.StaticSiteArgs, account: storage.StorageAccount, parent: pulumi.Resource
) -> storage.BlobServiceProperties:
    return storage.BlobServiceProperties(
        "site-blob-service",
        resource_group_name=env.rg_name,
        account_name=account.name,
        blob_services_name="default",
        is_versioning_enabled=not args.force_destroy,
        delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=7 if args.force_destroy else 30),
        container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=7),
        cors=storage.CorsRulesArgs(
            cors_rules=[
                storage.CorsRuleArgs(
                    allowed_origins=list(args.upload_origins),
                    allowed_methods=["PUT"],
                    # the headers of the SAS upload (functions/adapters/azure_media.py)
                    allowed_headers=["content-type", "x-ms-blob-type", "x-ms-blob-content-type", "x-ms-version"],
                    exposed_headers=["etag"],
                    max_age_in_seconds=3600,
                )
            ]
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
