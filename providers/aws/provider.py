"""The AWS provider: one short method per component, each handing the typed handles it needs to its module."""

from __future__ import annotations

from dataclasses import replace

import pulumi

from components import specs
from functions.runtimes.origin import ORIGIN_SECRET_ENV
from providers.aws.api import create_api
from providers.aws.auth import create_auth
from providers.aws.cdn import create_cdn, create_origin_secret
from providers.aws.configuration import create_parameters
from providers.aws.database import create_database
from providers.aws.encryption import create_key
from providers.aws.env import AwsEnv
from providers.aws.functions import create_functions
from providers.aws.monitoring import create_monitoring
from providers.aws.network import create_network
from providers.aws.notifications import create_notifications
from providers.aws.static_site import create_static_site
from providers.base import CloudProvider, Parent


class Provider(CloudProvider):
    cloud = "aws"

    def __init__(self, context: specs.DeploymentContext) -> None:
        super().__init__(context)
        self.env = AwsEnv.create(context)
        self._origin_secret: pulumi.Output[str] | None = None

    def encryption(self, args: specs.EncryptionArgs, parent: Parent) -> specs.EncryptionResult:
        return create_key(self.env, args, parent)

    def network(self, args: specs.NetworkArgs, parent: Parent) -> specs.NetworkResult:
        return create_network(self.env, args, parent)

    def database(self, args: specs.DatabaseArgs, parent: Parent) -> specs.DatabaseResult:
        return create_database(self.env, args, parent)

    def notifications(self, args: specs.NotificationsArgs, parent: Parent) -> specs.NotificationsResult:
        return create_notifications(self.env, args, parent)

    def auth(self, args: specs.AuthArgs, parent: Parent) -> specs.AuthResult:
        return create_auth(self.env, args, parent)

    def static_site(self, args: specs.StaticSiteArgs, parent: Parent) -> specs.StaticSiteResult:
        return create_static_site(self.env, args, parent)

    def functions(self, args: specs.FunctionsArgs, parent: Parent) -> specs.FunctionsResult:
        # CloudFront sends it to the API origin (cdn.py), the HTTP functions demand it.
        self._origin_secret = create_origin_secret(parent)
        args = replace(args, environment={**args.environment, ORIGIN_SECRET_ENV: self._origin_secret})
        return create_functions(self.env, args, parent)

    def api(self, args: specs.ApiArgs, parent: Parent) -> specs.ApiResult:
        return create_api(self.env, args, parent)

    def cdn(self, args: specs.CdnArgs, parent: Parent) -> specs.CdnResult:
        if self._origin_secret is None:
            raise RuntimeError("the functions (and their origin secret) must exist before the CDN that fronts them")
        return create_cdn(self.env, args, parent, self._origin_secret)

    def configuration(self, args: specs.ConfigurationArgs, parent: Parent) -> specs.ConfigurationResult:
        return create_parameters(self.env, args, parent)

    def monitoring(self, args: specs.MonitoringArgs, parent: Parent) -> specs.MonitoringResult:
        return create_monitoring(self.env, args, parent)
