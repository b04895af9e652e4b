"""The Azure implementation of the provider interface (pulumi-azure-native), one module per
component kind. Every pulumi_azure_native submodule is imported inside the function that
uses it: importing the whole package takes many seconds.

encryption     keyvault.py       resource group, Key Vault (RBAC), stack key, CMK identity
network        network.py        VNet, delegated function subnets, NAT gateway + IP, NSG
database       database.py       Cosmos DB for NoSQL (serverless), database, container
notifications  notifications.py  Service Bus topic/subscription (DLQ), ACS Email, Notification Hubs
auth           auth.py           Entra External ID app registrations (pulumi-azuread) in a tenant
                                 made by hand (ARM cannot create it), or references to them
static_site    static_site.py    storage account static website + files + config.json
functions      functions.py      Flex Consumption Function Apps, identities, role assignments
                                 (+ packaging.py, roles.py), Log Analytics, Application Insights
api            api.py            API Management (Consumption), operations from the route table
cdn            cdn.py            Front Door Standard/Premium, WAF policy, custom domain
configuration  keyvault.py       Key Vault secrets under <project>-<stack>-
monitoring     monitoring.py     action group + metric alerts
"""

from __future__ import annotations

from typing import Any

from components import specs
from providers.azure.api import create_api
from providers.azure.auth import create_auth, register_site_redirects
from providers.azure.cdn import create_cdn
from providers.azure.database import create_database
from providers.azure.env import AzureEnv
from providers.azure.functions import create_functions
from providers.azure.keyvault import create_configuration, create_encryption
from providers.azure.monitoring import create_monitoring
from providers.azure.network import create_network
from providers.azure.notifications import create_notifications
from providers.azure.private_endpoints import create_private_endpoints, private_only
from providers.azure.private_endpoints import targets as private_targets
from providers.azure.static_site import create_static_site
from providers.base import CloudProvider, Parent


class Provider(CloudProvider):
    cloud = "azure"

    def __init__(self, context: specs.DeploymentContext) -> None:
        super().__init__(context)
        self.env = AzureEnv.create(context)
        self._network: specs.NetworkResult | None = None
        self._encryption: specs.EncryptionResult | None = None
        self._built: dict[str, Any] = {}  # component kind -> result, for stack_outputs()
        self._auth: specs.AuthResult | None = None

    def encryption(self, args: specs.EncryptionArgs, parent: Parent) -> specs.EncryptionResult:
        self._encryption = create_encryption(self.env, args, parent)
        return self._encryption

    def network(self, args: specs.NetworkArgs, parent: Parent) -> specs.NetworkResult:
        self.env.ensure_resource_group(parent)
        self._network = create_network(self.env, args, parent)
        return self._network

    def database(self, args: specs.DatabaseArgs, parent: Parent) -> specs.DatabaseResult:
        self.env.ensure_resource_group(parent)
        return create_database(self.env, args, parent, self._network)

    def notifications(self, args: specs.NotificationsArgs, parent: Parent) -> specs.NotificationsResult:
        self.env.ensure_resource_group(parent)
        return create_notifications(self.env, args, parent)

    def auth(self, args: specs.AuthArgs, parent: Parent) -> specs.AuthResult:
        self._auth = create_auth(self.env, args, parent)
        return self._auth

    def static_site(self, args: specs.StaticSiteArgs, parent: Parent) -> specs.StaticSiteResult:
        self.env.ensure_resource_group(parent)
        if self._encryption is None:
            raise RuntimeError("the Azure static site encrypts with the stack key: call encryption() first")
        self._built["static_site"] = create_static_site(self.env, args, parent, self._encryption)
        return self._built["static_site"]

    def functions(self, args: specs.FunctionsArgs, parent: Parent) -> specs.FunctionsResult:
        result = create_functions(self.env, args, parent)
        if private_only(self.env):
            # Every private target exists now (vault, Cosmos DB, Service Bus, functions' storage).
            t = args.targets
            wanted = private_targets(
                t.encryption.native.vault.id,
                t.database.native.account.id,
                t.notifications.native.namespace.id,
                result.native.host_account.id,
                result.native.package_account.id,
            )
            result.native.private_endpoints = create_private_endpoints(self.env, args.network.native, wanted, parent)
        return result

    def api(self, args: specs.ApiArgs, parent: Parent) -> specs.ApiResult:
        self._built["api"] = create_api(self.env, args, parent)
        return self._built["api"]

    def cdn(self, args: specs.CdnArgs, parent: Parent) -> specs.CdnResult:
        result = create_cdn(self.env, args, parent)
        if self._auth is not None:
            # The storefront app's SPA redirect URI is the site URL, known once the CDN exists.
            register_site_redirects(self._auth, result.url, parent)
        self._built["cdn"] = result
        return result

    def configuration(self, args: specs.ConfigurationArgs, parent: Parent) -> specs.ConfigurationResult:
        return create_configuration(self.env, args, parent)

    def monitoring(self, args: specs.MonitoringArgs, parent: Parent) -> specs.MonitoringResult:
        return create_monitoring(self.env, args, parent)

    def stack_outputs(self) -> dict[str, Any]:
        """The names the az commands of docs/deploy-azure.md take (-g, --vault-name, --account-name...)."""
        if self._encryption is None or not {"static_site", "api", "cdn"} <= set(self._built):
            raise RuntimeError("stack_outputs() needs the whole shop built first")
        return {
            "resourceGroup": self.env.rg_name,
            "keyVault": self._encryption.native.vault.name,
            "storageAccount": self._built["static_site"].native.account.name,
            "apiManagement": self._built["api"].native.service.name,
            "frontDoorProfile": self._built["cdn"].native.profile.name,
        }
