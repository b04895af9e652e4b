"""The GCP provider: one short method per component, each passing the typed handles of the
steps before it (``Built``) to that component's module."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import specs
from providers.base import CloudProvider, Parent, require
from providers.gcp.api import GcpApi, create_api
from providers.gcp.auth import GcpAuth, create_auth
from providers.gcp.cdn import GcpCdn, create_cdn
from providers.gcp.configuration import create_configuration
from providers.gcp.database import GcpDatabase, create_database
from providers.gcp.encryption import GcpEncryption, create_encryption
from providers.gcp.env import GcpEnv
from providers.gcp.firewall import create_firewall
from providers.gcp.functions import GcpFunctions, create_functions
from providers.gcp.iam import GrantTargets
from providers.gcp.monitoring import create_monitoring
from providers.gcp.network import GcpNetwork, create_network
from providers.gcp.notifications import GcpNotifications, create_notifications
from providers.gcp.static_site import GcpStaticSite, create_static_site


@dataclass
class Built:
    """The handles each step made, for the steps after it (Shop's call order)."""

    encryption: GcpEncryption | None = None
    network: GcpNetwork | None = None
    database: GcpDatabase | None = None
    notifications: GcpNotifications | None = None
    auth: GcpAuth | None = None
    site: GcpStaticSite | None = None
    functions: GcpFunctions | None = None
    api: GcpApi | None = None
    cdn: GcpCdn | None = None

    def encryption_for(self, step: str) -> GcpEncryption:
        return require(self.encryption, "encryption", step)

    def network_for(self, step: str) -> GcpNetwork:
        return require(self.network, "network", step)

    def database_for(self, step: str) -> GcpDatabase:
        return require(self.database, "database", step)

    def notifications_for(self, step: str) -> GcpNotifications:
        return require(self.notifications, "notifications", step)

    def auth_for(self, step: str) -> GcpAuth:
        return require(self.auth, "auth", step)

    def site_for(self, step: str) -> GcpStaticSite:
        return require(self.site, "static_site", step)

    def functions_for(self, step: str) -> GcpFunctions:
        return require(self.functions, "functions", step)

    def api_for(self, step: str) -> GcpApi:
        return require(self.api, "api", step)

    def cdn_for(self, step: str) -> GcpCdn:
        return require(self.cdn, "cdn", step)


class Provider(CloudProvider):
    cloud = "gcp"

    def __init__(self, context: specs.DeploymentContext) -> None:
        super().__init__(context)
        self.env = GcpEnv.create(context)
        # Before the Shop exists, so that every component (and its resources) inherits it.
        self.env.label_resources()
        self.built = Built()

    def foundation(self, parent: Parent) -> None:
        """The Google APIs every component's resources need, enabled first."""
        self.env = self.env.with_apis_enabled(parent)

    def encryption(self, args: specs.EncryptionArgs, parent: Parent) -> specs.EncryptionResult:
        self.built.encryption = create_encryption(self.env, args, parent)
        return self.built.encryption.result

    def network(self, args: specs.NetworkArgs, parent: Parent) -> specs.NetworkResult:
        self.built.network = create_network(self.env, args, parent)
        return self.built.network.result

    def database(self, args: specs.DatabaseArgs, parent: Parent) -> specs.DatabaseResult:
        self.built.database = create_database(self.env, args, parent, self.built.encryption_for("database"))
        return self.built.database.result

    def notifications(self, args: specs.NotificationsArgs, parent: Parent) -> specs.NotificationsResult:
        self.built.notifications = create_notifications(
            self.env, args, parent, self.built.encryption_for("notifications")
        )
        return self.built.notifications.result

    def auth(self, args: specs.AuthArgs, parent: Parent) -> specs.AuthResult:
        self.built.auth = create_auth(self.env, args, parent, self.built.encryption_for("auth"))
        return self.built.auth.result

    def static_site(self, args: specs.StaticSiteArgs, parent: Parent) -> specs.StaticSiteResult:
        self.built.site = create_static_site(self.env, args, parent, self.built.encryption_for("static_site"))
        return self.built.site.result

    def functions(self, args: specs.FunctionsArgs, parent: Parent) -> specs.FunctionsResult:
        b, step = self.built, "functions"
        targets = GrantTargets(
            database=b.database_for(step), notifications=b.notifications_for(step), auth=b.auth_for(step), site=b.site_for(step),
            media_prefix=args.targets.media_prefix,
        )  # fmt: skip
        b.functions = create_functions(
            self.env, args, parent, encryption=b.encryption_for(step), network=b.network_for(step), targets=targets
        )
        return b.functions.result

    def api(self, args: specs.ApiArgs, parent: Parent) -> specs.ApiResult:
        b = self.built
        b.api = create_api(self.env, args, parent, functions=b.functions_for("api"), auth=b.auth_for("api"))
        return b.api.result

    def cdn(self, args: specs.CdnArgs, parent: Parent) -> specs.CdnResult:
        b = self.built
        firewall = create_firewall(self.env, args.firewall, args.log_retention_days, b.encryption_for("cdn"), parent)
        b.cdn = create_cdn(self.env, args, parent, site=b.site_for("cdn"), api=b.api_for("cdn"), firewall=firewall)
        return b.cdn.result

    def configuration(self, args: specs.ConfigurationArgs, parent: Parent) -> specs.ConfigurationResult:
        return create_configuration(self.env, args, parent, self.built.encryption_for("configuration")).result

    def monitoring(self, args: specs.MonitoringArgs, parent: Parent) -> specs.MonitoringResult:
        # The firewall's denied requests are alerted on when the stack has a CDN.
        blocked = self.built.cdn_for("monitoring").firewall.blocked_metric if args.cdn is not None else None
        return create_monitoring(self.env, args, parent, blocked).result

    def stack_outputs(self) -> dict[str, pulumi.Input[str]]:
        """The project, and the load balancer's address for the domain's A record (without Cloud DNS)."""
        address = self.built.cdn_for("stack_outputs").address.address
        return {"project": self.env.project, "loadBalancerIp": address}
