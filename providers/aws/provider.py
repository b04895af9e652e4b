"""The AWS provider: one short method per component, each handing the typed handles it needs
(kept in ``Built``) to its module's ``create_`` function."""

from __future__ import annotations

from dataclasses import dataclass

from components import specs
from providers.aws.api import AwsApi, create_api
from providers.aws.auth import AwsAuth, create_auth
from providers.aws.cdn import AwsCdn, create_cdn, create_origin_secret
from providers.aws.configuration import AwsConfiguration, create_configuration
from providers.aws.database import AwsDatabase, create_database
from providers.aws.encryption import AwsEncryption, create_encryption
from providers.aws.env import AwsEnv
from providers.aws.functions import AwsFunctions, AwsGrantTargets, create_functions
from providers.aws.monitoring import AwsMonitoring, create_monitoring
from providers.aws.network import AwsNetwork, create_network
from providers.aws.notifications import AwsNotifications, create_notifications
from providers.aws.static_site import AwsStaticSite, create_static_site
from providers.base import CloudProvider, Parent, require


@dataclass
class Built:
    """The AWS handles of every component built so far, in Shop's call order."""

    encryption: AwsEncryption | None = None
    network: AwsNetwork | None = None
    database: AwsDatabase | None = None
    notifications: AwsNotifications | None = None
    auth: AwsAuth | None = None
    static_site: AwsStaticSite | None = None
    functions: AwsFunctions | None = None
    api: AwsApi | None = None
    cdn: AwsCdn | None = None
    configuration: AwsConfiguration | None = None
    monitoring: AwsMonitoring | None = None

    def need_network(self, user: str) -> AwsNetwork:
        return require(self.network, "network", user)

    def need_database(self, user: str) -> AwsDatabase:
        return require(self.database, "database", user)

    def need_notifications(self, user: str) -> AwsNotifications:
        return require(self.notifications, "notifications", user)

    def need_auth(self, user: str) -> AwsAuth:
        return require(self.auth, "auth", user)

    def need_static_site(self, user: str) -> AwsStaticSite:
        return require(self.static_site, "static_site", user)

    def need_functions(self, user: str) -> AwsFunctions:
        return require(self.functions, "functions", user)

    def need_api(self, user: str) -> AwsApi:
        return require(self.api, "api", user)

    def need_cdn(self, user: str) -> AwsCdn:
        return require(self.cdn, "cdn", user)


class Provider(CloudProvider):
    cloud = "aws"

    def __init__(self, context: specs.DeploymentContext) -> None:
        super().__init__(context)
        self.env = AwsEnv.create(context)
        self.built = Built()

    def encryption(self, args: specs.EncryptionArgs, parent: Parent) -> specs.EncryptionResult:
        self.built.encryption = create_encryption(self.env, args, parent)
        return self.built.encryption.result

    def network(self, args: specs.NetworkArgs, parent: Parent) -> specs.NetworkResult:
        self.built.network = create_network(self.env, args, parent)
        return self.built.network.result

    def database(self, args: specs.DatabaseArgs, parent: Parent) -> specs.DatabaseResult:
        self.built.database = create_database(self.env, args, parent)
        return self.built.database.result

    def notifications(self, args: specs.NotificationsArgs, parent: Parent) -> specs.NotificationsResult:
        self.built.notifications = create_notifications(self.env, args, parent)
        return self.built.notifications.result

    def auth(self, args: specs.AuthArgs, parent: Parent) -> specs.AuthResult:
        sender = self.built.need_notifications("auth") if args.email_sender is not None else None
        self.built.auth = create_auth(self.env, args, parent, sender)
        return self.built.auth.result

    def static_site(self, args: specs.StaticSiteArgs, parent: Parent) -> specs.StaticSiteResult:
        self.built.static_site = create_static_site(self.env, args, parent)
        return self.built.static_site.result

    def functions(self, args: specs.FunctionsArgs, parent: Parent) -> specs.FunctionsResult:
        built = self.built
        targets = AwsGrantTargets(
            database=built.need_database("functions"),
            notifications=built.need_notifications("functions"),
            auth=built.need_auth("functions"),
            site=built.need_static_site("functions"),
        )
        network = built.need_network("functions")
        built.functions = create_functions(self.env, args, parent, network, targets, create_origin_secret(parent))
        return built.functions.result

    def api(self, args: specs.ApiArgs, parent: Parent) -> specs.ApiResult:
        self.built.api = create_api(self.env, args, parent)
        return self.built.api.result

    def cdn(self, args: specs.CdnArgs, parent: Parent) -> specs.CdnResult:
        site = self.built.need_static_site("cdn")
        origin_secret = self.built.need_functions("cdn").origin_secret
        origin = self.built.need_api("cdn").origin
        client_certificate = origin.client_certificate.acm_certificate.arn if origin is not None else None
        self.built.cdn = create_cdn(self.env, args, parent, site, origin_secret, client_certificate)
        return self.built.cdn.result

    def stack_outputs(self) -> dict[str, str]:
        """With a domain: the API's mutual-TLS origin host (answers CloudFront's certificate only)."""
        origin = self.built.need_api("stack_outputs").origin
        return {"apiOriginDomain": origin.host} if origin is not None else {}

    def configuration(self, args: specs.ConfigurationArgs, parent: Parent) -> specs.ConfigurationResult:
        self.built.configuration = create_configuration(self.env, args, parent)
        return self.built.configuration.result

    def monitoring(self, args: specs.MonitoringArgs, parent: Parent) -> specs.MonitoringResult:
        api = self.built.need_api("monitoring")
        cdn = self.built.need_cdn("monitoring") if args.cdn is not None else None
        self.built.monitoring = create_monitoring(self.env, args, parent, api, cdn)
        return self.built.monitoring.result
