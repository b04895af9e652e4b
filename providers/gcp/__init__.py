"""The GCP implementation of the provider interface (pulumi-gcp), one module per component
kind. pulumi_gcp is imported inside the functions that use it (a large package).

encryption     kms.py            key ring, stack key (90-day rotation), service agents' key grants
                                 (+ env.py: the Google APIs the stack enables)
network        network.py        custom VPC, functions + connector subnets, Serverless VPC Access
                                 connector, Cloud Router + Cloud NAT, deny-all ingress firewall
database       database.py       Firestore (native) database, composite indexes, TTL policy
notifications  notifications.py  Pub/Sub order-events topic, dead-letter topic + subscription,
                                 mail relay secret
auth           auth.py           Identity Platform config, API key (Secret Manager)
static_site    static_site.py    Cloud Storage bucket + files + config.json
functions      functions.py      Cloud Functions 2nd gen, service accounts, IAM bindings, source
                                 bucket (+ packaging.py), push subscription, log bucket + sink
api            api.py            API Gateway (API, config from the route table, gateway)
cdn            cdn.py            global external ALB, backend bucket + Cloud CDN, serverless NEG,
                                 Cloud Armor, managed certificate, HTTP->HTTPS redirect
configuration  secrets.py        Parameter Manager parameters, Secret Manager secrets
monitoring     monitoring.py     notification channel, alert policies, dashboard
"""

from __future__ import annotations

from typing import Any

from components import specs
from providers.base import CloudProvider, Parent
from providers.gcp.api import create_api
from providers.gcp.auth import create_auth
from providers.gcp.cdn import create_cdn
from providers.gcp.database import create_database
from providers.gcp.env import GcpEnv
from providers.gcp.functions import create_functions
from providers.gcp.kms import create_encryption
from providers.gcp.monitoring import create_monitoring
from providers.gcp.network import create_network
from providers.gcp.notifications import create_notifications
from providers.gcp.secrets import create_configuration
from providers.gcp.static_site import create_static_site


class Provider(CloudProvider):
    cloud = "gcp"

    def __init__(self, context: specs.DeploymentContext) -> None:
        super().__init__(context)
        self.env = GcpEnv.create(context)
        self._encryption: specs.EncryptionResult | None = None
        self._cdn: specs.CdnResult | None = None

    def _key(self) -> specs.EncryptionResult:
        if self._encryption is None:
            raise RuntimeError("GCP resources encrypt with the stack key: call encryption() first")
        return self._encryption

    def encryption(self, args: specs.EncryptionArgs, parent: Parent) -> specs.EncryptionResult:
        self.env.enable_apis(parent)
        self._encryption = create_encryption(self.env, args, parent)
        return self._encryption

    def network(self, args: specs.NetworkArgs, parent: Parent) -> specs.NetworkResult:
        return create_network(self.env, args, parent)

    def database(self, args: specs.DatabaseArgs, parent: Parent) -> specs.DatabaseResult:
        return create_database(self.env, args, parent)

    def notifications(self, args: specs.NotificationsArgs, parent: Parent) -> specs.NotificationsResult:
        return create_notifications(self.env, args, parent)

    def auth(self, args: specs.AuthArgs, parent: Parent) -> specs.AuthResult:
        return create_auth(self.env, args, parent, self._key())

    def static_site(self, args: specs.StaticSiteArgs, parent: Parent) -> specs.StaticSiteResult:
        return create_static_site(self.env, args, parent, self._key())

    def functions(self, args: specs.FunctionsArgs, parent: Parent) -> specs.FunctionsResult:
        return create_functions(self.env, args, parent)

    def api(self, args: specs.ApiArgs, parent: Parent) -> specs.ApiResult:
        return create_api(self.env, args, parent)

    def cdn(self, args: specs.CdnArgs, parent: Parent) -> specs.CdnResult:
        self._cdn = create_cdn(self.env, args, parent, self._key())
        return self._cdn

    def configuration(self, args: specs.ConfigurationArgs, parent: Parent) -> specs.ConfigurationResult:
        return create_configuration(self.env, args, parent)

    def monitoring(self, args: specs.MonitoringArgs, parent: Parent) -> specs.MonitoringResult:
        return create_monitoring(self.env, args, parent)

    def stack_outputs(self) -> dict[str, Any]:
        """The project, and the load balancer's address for the domain's A record (without Cloud DNS)."""
        if self._cdn is None:
            raise RuntimeError("stack_outputs() needs the whole shop built first")
        return {"project": self.env.project, "loadBalancerIp": self._cdn.native.address.address}
