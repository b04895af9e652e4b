"""The Azure provider: one short method per component kind, each passing the typed handles of
the steps before it (``Built``) to its module's ``create_*``."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import specs
from providers.azure.api import AzureApi, create_api
from providers.azure.auth import AzureAuth, create_auth, register_site_redirects
from providers.azure.cdn import AzureCdn, create_cdn
from providers.azure.configuration import create_configuration
from providers.azure.database import AzureDatabase, create_database
from providers.azure.encryption import AzureEncryption, create_encryption
from providers.azure.env import AzureEnv, stack_tags, tag_resources
from providers.azure.functions import AzureFunctions, Upstream, create_functions
from providers.azure.monitoring import Watched, create_monitoring
from providers.azure.network import AzureNetwork, create_network, create_private_endpoints, private_only, targets
from providers.azure.notifications import AzureNotifications, create_notifications
from providers.azure.settings import AzureSettings, parse_azure_settings
from providers.azure.static_site import AzureStaticSite, create_static_site
from providers.base import CloudProvider, Parent, require


@dataclass
class Built:
    """The typed handles of the steps done so far; each accessor names the missing step."""

    env: AzureEnv | None = None
    encryption: AzureEncryption | None = None
    network: AzureNetwork | None = None
    database: AzureDatabase | None = None
    notifications: AzureNotifications | None = None
    auth: AzureAuth | None = None
    static_site: AzureStaticSite | None = None
    functions: AzureFunctions | None = None
    api: AzureApi | None = None
    cdn: AzureCdn | None = None

    def need_env(self, user: str) -> AzureEnv:
        return require(self.env, "foundation", user)

    def need_encryption(self, user: str) -> AzureEncryption:
        return require(self.encryption, "encryption", user)

    def need_network(self, user: str) -> AzureNetwork:
        return require(self.network, "network", user)

    def need_database(self, user: str) -> AzureDatabase:
        return require(self.database, "database", user)

    def need_notifications(self, user: str) -> AzureNotifications:
        return require(self.notifications, "notifications", user)

    def need_auth(self, user: str) -> AzureAuth:
        return require(self.auth, "auth", user)

    def need_static_site(self, user: str) -> AzureStaticSite:
        return require(self.static_site, "static_site", user)

    def need_functions(self, user: str) -> AzureFunctions:
        return require(self.functions, "functions", user)

    def need_api(self, user: str) -> AzureApi:
        return require(self.api, "api", user)

    def need_cdn(self, user: str) -> AzureCdn:
        return require(self.cdn, "cdn", user)


class Provider(CloudProvider):
    cloud = "azure"

    def __init__(self, context: specs.DeploymentContext) -> None:
        super().__init__(context)
        self.settings: AzureSettings = parse_azure_settings(context.cloud_settings)
        self.built = Built()
        # A resource inherits the transformations its parent had when the parent was made, so
        # the tags must be registered before the Shop exists (the provider is made before it).
        tag_resources(stack_tags(context))

    def foundation(self, parent: Parent) -> None:
        """The resource group every other resource lives in."""
        self.built.env = AzureEnv.create(self.context, self.settings, parent)

    def encryption(self, args: specs.EncryptionArgs, parent: Parent) -> specs.EncryptionResult:
        env = self.built.need_env("encryption")
        self.built.encryption = create_encryption(env, args, parent)
        return self.built.encryption.result

    def network(self, args: specs.NetworkArgs, parent: Parent) -> specs.NetworkResult:
        self.built.network = create_network(self.built.need_env("network"), args, parent)
        return self.built.network.result

    def database(self, args: specs.DatabaseArgs, parent: Parent) -> specs.DatabaseResult:
        b = self.built
        self.built.database = create_database(
            b.need_env("database"), args, parent, b.need_network("database"), b.need_encryption("database")
        )
        return self.built.database.result

    def notifications(self, args: specs.NotificationsArgs, parent: Parent) -> specs.NotificationsResult:
        b = self.built
        encryption = b.need_encryption("notifications")
        b.notifications = create_notifications(b.need_env("notifications"), args, parent, encryption)
        return b.notifications.result

    def auth(self, args: specs.AuthArgs, parent: Parent) -> specs.AuthResult:
        self.built.auth = create_auth(self.built.need_env("auth"), args, parent)
        return self.built.auth.result

    def static_site(self, args: specs.StaticSiteArgs, parent: Parent) -> specs.StaticSiteResult:
        b = self.built
        encryption = b.need_encryption("static_site")
        b.static_site = create_static_site(b.need_env("static_site"), args, parent, encryption)
        return b.static_site.result

    def functions(self, args: specs.FunctionsArgs, parent: Parent) -> specs.FunctionsResult:
        b, user = self.built, "functions"
        env = b.need_env(user)
        up = Upstream(
            network=b.need_network(user),
            encryption=b.need_encryption(user),
            database=b.need_database(user),
            notifications=b.need_notifications(user),
            auth=b.need_auth(user),
            site=b.need_static_site(user),
        )
        b.functions = fns = create_functions(env, args, parent, up)
        if private_only(env):
            # Every private target exists now (vault, Cosmos DB, Service Bus, functions' storage,
            # the uploads account the SAS-signing functions ask for user delegation keys).
            wanted = targets(
                up.encryption.vault.id,
                up.database.account.id,
                up.notifications.bus.namespace.id,
                fns.host_account.id,
                fns.package_account.id,
                up.site.uploads.account.id,
            )
            create_private_endpoints(env, up.network, wanted, parent)
        return fns.result

    def api(self, args: specs.ApiArgs, parent: Parent) -> specs.ApiResult:
        b = self.built
        b.api = create_api(b.need_env("api"), args, parent, b.need_auth("api"), b.need_functions("api"))
        return b.api.result

    def cdn(self, args: specs.CdnArgs, parent: Parent) -> specs.CdnResult:
        b = self.built
        b.cdn = create_cdn(b.need_env("cdn"), args, parent, b.need_static_site("cdn"), b.need_api("cdn"))
        result = b.cdn.result
        if b.auth is not None:
            # The storefront app's SPA redirect URI is the site URL, known once the CDN exists.
            register_site_redirects(b.auth, result.url, parent)
        return result

    def configuration(self, args: specs.ConfigurationArgs, parent: Parent) -> specs.ConfigurationResult:
        b = self.built
        encryption = b.need_encryption("configuration")
        return create_configuration(b.need_env("configuration"), args, parent, encryption).result

    def monitoring(self, args: specs.MonitoringArgs, parent: Parent) -> specs.MonitoringResult:
        b, user = self.built, "monitoring"
        watched = Watched(
            functions=b.need_functions(user),
            api=b.need_api(user),
            database=b.need_database(user),
            notifications=b.need_notifications(user),
            cdn=b.cdn,
        )
        return create_monitoring(b.need_env(user), args, parent, watched).result

    def stack_outputs(self) -> dict[str, pulumi.Output[str]]:
        """The names the az commands of docs/deploy-azure.md take (-g, --vault-name, --account-name...)."""
        b, user = self.built, "stack_outputs"
        return {
            "resourceGroup": b.need_env(user).rg_name,
            "keyVault": b.need_encryption(user).vault.name,
            "storageAccount": b.need_static_site(user).account.name,
            "apiManagement": b.need_api(user).service.name,
            "frontDoorProfile": b.need_cdn(user).profile.name,
        }
