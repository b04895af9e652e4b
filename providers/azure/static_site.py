"""Static site: a StorageV2 account with the static website ($web) holding site/ files and
the generated config.json; a second account (uploads) takes the admins' image uploads.

HTTPS only, TLS 1.2 minimum, Entra ID by default (shared keys only for Pulumi's uploads, or
none with shop:azure.sharedKeyUploads=false), SAS lifetime capped at 1 hour, anonymous blob
access disabled, infrastructure (double) encryption; in prod with the stack's Key Vault key
(CMK: Azure requires purge protection on the vault, which dev vaults do not have).

Front Door Premium (prod) reaches both accounts through Private Link and they refuse the
internet (public network access disabled, or only shop:azure.deployerIpRanges let through:
Pulumi sets the static-website property through the blob data plane, and uploads the site
files). Front Door Standard (dev) has no Private Link, so there both accounts stay public
(static websites are served anonymously by design) and answer around Front Door.

The uploads account holds nothing but the uploaded images. Browsers PUT them with a
create-only SAS (functions/adapters/azure_media.py) to the shop's own origin: Front Door's
uploads route forwards them to the account's blob endpoint (group ``blob``) behind the WAF's
method, size and type rules, and serves them under /media/* from its static website (group
``web``). Same origin, so the account needs no CORS. The functions reach its blob endpoint
for user delegation keys through their own private endpoint (network.py). No identity can
write the site account but the deployer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.storage as storage

from components import specs
from functions.adapters.azure_media import WEB_CONTAINER
from providers.azure import iam
from providers.azure.encryption import AzureEncryption
from providers.azure.env import AzureEnv
from providers.site_files import GENERATED_CONFIG, asset, build_site

# Front Door Premium's Private Link targets these sub-resources of an account: the static
# website (reads of the site and of /media/*) and the blob endpoint (the admins' SAS PUTs).
STATIC_WEBSITE_GROUP = "web"
BLOB_GROUP = "blob"
PREMIUM = "Premium_AzureFrontDoor"


def web_host(account: storage.StorageAccount) -> pulumi.Output[str]:
    """<account>.z6.web.core.windows.net (a Front Door origin)."""
    return account.primary_endpoints.apply(lambda e: _host(e.web) if e and e.web else "")


@dataclass(frozen=True)
class AzureUploads:
    """The admins' image uploads: written with a create-only SAS, both through Front Door."""

    account: storage.StorageAccount
    website: storage.StorageAccountStaticWebsite
    container: str = WEB_CONTAINER

    @property
    def blob_host(self) -> pulumi.Output[str]:
        """<account>.blob.core.windows.net: the origin of Front Door's uploads route."""
        return self.account.primary_endpoints.apply(lambda e: _host(e.blob) if e else "")


@dataclass(frozen=True)
class AzureStaticSite:
    account: storage.StorageAccount
    website: storage.StorageAccountStaticWebsite
    uploads: AzureUploads
    file_count: int
    # True: Front Door reaches both accounts over Private Link and they refuse the internet.
    private: bool
    container: str = WEB_CONTAINER

    @property
    def web_host(self) -> pulumi.Output[str]:
        """<account>.z6.web.core.windows.net (the Front Door origin)."""
        return web_host(self.account)

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
    public_network_access: str = "Enabled",
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
        public_network_access=public_network_access,
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


def private_site(env: AzureEnv) -> bool:
    """Only Front Door Premium has Private Link: the site is private wherever Premium fronts it."""
    return env.settings.sku_for(env.context.is_prod) == PREMIUM


def front_door_only_network(env: AzureEnv) -> tuple[storage.NetworkRuleSetArgs | None, str]:
    """(network rules, public network access) of an account Front Door reads. Private: private
    endpoints only, plus the deployer's addresses if any (Pulumi writes the static-website
    property and the site files through the blob data plane)."""
    if not private_site(env):
        return None, "Enabled"
    ranges = env.settings.deployer_ip_ranges
    rules = storage.NetworkRuleSetArgs(
        bypass="None",
        default_action=storage.DefaultAction.DENY,
        ip_rules=[storage.IPRuleArgs(i_p_address_or_range=r, action=storage.Action.ALLOW) for r in ranges],
    )
    return rules, "Enabled" if ranges else "Disabled"


def create_static_site(
    env: AzureEnv, args: specs.StaticSiteArgs, parent: pulumi.Resource, encryption: AzureEncryption
) -> AzureStaticSite:
    # Shared keys are off: the deployer uploads the files with its Entra identity.
    rules, public = front_door_only_network(env)
    account = secure_account(
        env, "site", parent, encryption=encryption, protect=not args.force_destroy,
        network_rules=rules, public_network_access=public,
    )  # fmt: skip
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
    uploads = _create_uploads(env, parent, encryption)
    private = private_site(env)
    if not env.settings.shared_key_uploads:  # key-less: the operator uploads (docs/deploy-azure.md)
        return AzureStaticSite(account, website, uploads, file_count=0, private=private)
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
    return AzureStaticSite(account, website, uploads, file_count=len(files) + 1, private=private)


def _create_uploads(env: AzureEnv, parent: pulumi.Resource, encryption: AzureEncryption) -> AzureUploads:
    """The uploads account: nothing in it but images, written and read through Front Door."""
    rules, public = front_door_only_network(env)
    account = secure_account(
        env, "uploads", parent, encryption=encryption, network_rules=rules, public_network_access=public
    )
    website = storage.StorageAccountStaticWebsite(
        "uploads-website", resource_group_name=env.rg_name, account_name=account.name,
        opts=pulumi.ResourceOptions(parent=parent),
    )  # fmt: skip
    storage.BlobServiceProperties(
        "uploads-blob-service",
        resource_group_name=env.rg_name,
        account_name=account.name,
        blob_services_name="default",
        delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=7),
        container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=7),
        # No CORS: browsers PUT to the shop's own origin (Front Door's uploads route).
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return AzureUploads(account, website)


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
        # No CORS: nothing is uploaded from a browser to the site account (see AzureUploads).
        opts=pulumi.ResourceOptions(parent=parent),
    )
