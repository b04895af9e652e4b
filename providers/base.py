"""The provider interface: what a cloud must implement to deploy the shop.

One method per component kind. The component (``components/<kind>.py``) calls it with
neutral args (``components/specs.py``) and *itself* as ``parent``; the provider creates
that cloud's resources as children of the parent
(``pulumi.ResourceOptions(parent=parent)``) and returns a neutral result of Outputs.

Rules every implementation keeps (AWS, Azure, GCP):
- Create every resource under ``parent``; never register outputs on it (the component does).
- Tag/label every taggable resource with ``context.resource_tags``, once per cloud
  (provider default tags/labels or one stack transformation), not per resource.
- Name Pulumi resources with short logical names ("table-shop", "queue-dlq"); Pulumi
  parents make URNs unique, and auto-naming keeps physical names unique per stack.
- Turn each ``datamodel.Grant`` into least-privilege access on exactly the resources in
  ``FunctionsArgs.targets``; never grant wildcard actions.
- Return neutral results only; keep the cloud's own handles (resource objects a later
  call needs) in the provider, typed (``providers/aws/provider.py``'s ``Built``), and make
  what every component shares in ``foundation()``, never lazily.

Call order (``components/shop.py``), each step may use the results before it:
encryption, network, database, notifications, auth, static_site, functions, api, cdn,
configuration, monitoring.

Adding a cloud = a new ``providers/<cloud>/`` package whose ``provider.py`` holds a
``Provider(CloudProvider)`` class, named in ``providers/__init__.py``'s ``CLOUDS``. No component changes.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import TypeVar

import pulumi

from components.specs import (
    ApiArgs,
    ApiResult,
    AuthArgs,
    AuthResult,
    CdnArgs,
    CdnResult,
    ConfigurationArgs,
    ConfigurationResult,
    DatabaseArgs,
    DatabaseResult,
    DeploymentContext,
    EncryptionArgs,
    EncryptionResult,
    FunctionsArgs,
    FunctionsResult,
    MonitoringArgs,
    MonitoringResult,
    NetworkArgs,
    NetworkResult,
    NotificationsArgs,
    NotificationsResult,
    StaticSiteArgs,
    StaticSiteResult,
)

Parent = pulumi.ComponentResource

T = TypeVar("T")


def require(handles: T | None, step: str, user: str) -> T:
    """The handles `step()` built, for `user()`; a clear error when Shop's call order was not kept."""
    if handles is None:
        raise RuntimeError(f"{user}() needs {step}() first")
    return handles


class CloudProvider(abc.ABC):
    """Builds one cloud's resources for each neutral component."""

    #: "aws" | "azure" | "gcp": matches StackConfig.cloud
    cloud: str = ""

    def __init__(self, context: DeploymentContext) -> None:
        self.context = context

    def stack_outputs(self) -> Mapping[str, object]:
        """Outputs only this cloud has (names its deploy guide's commands need); call after Shop is built."""
        return {}

    def foundation(self, parent: Parent) -> None:
        """What every later component of this cloud shares (Azure's resource group), made
        explicitly and first, under the Shop itself, instead of by whichever component
        happens to need it first. Most clouds need nothing here."""
        return None

    # Order below = the order Shop calls them, after foundation().

    @abc.abstractmethod
    def encryption(self, args: EncryptionArgs, parent: Parent) -> EncryptionResult:
        """The stack's customer-managed key (rotation on); other services encrypt with it."""

    @abc.abstractmethod
    def network(self, args: NetworkArgs, parent: Parent) -> NetworkResult:
        """Private network over >= 2 zones with egress (NAT) for the functions."""

    @abc.abstractmethod
    def database(self, args: DatabaseArgs, parent: Parent) -> DatabaseResult:
        """One NoSQL table/container/collection per TableSpec, keys and indexes as declared."""

    @abc.abstractmethod
    def notifications(self, args: NotificationsArgs, parent: Parent) -> NotificationsResult:
        """Order-events topic -> queue (+ dead-letter) for the notifications function; sender identity."""

    @abc.abstractmethod
    def auth(self, args: AuthArgs, parent: Parent) -> AuthResult:
        """User directory with e-mail sign-in, a public client without secret, the admin group."""

    @abc.abstractmethod
    def static_site(self, args: StaticSiteArgs, parent: Parent) -> StaticSiteResult:
        """Private, encrypted storage with the storefront files and a generated config.json."""

    @abc.abstractmethod
    def functions(self, args: FunctionsArgs, parent: Parent) -> FunctionsResult:
        """One function per ServiceSpec: same code package, own identity with only its grants,
        logs with retention, private network access; queue trigger for trigger="queue"."""

    @abc.abstractmethod
    def api(self, args: ApiArgs, parent: Parent) -> ApiResult:
        """HTTP API: one route per Route, JWT validation for customer/admin routes,
        integration with the route's service function, access logs, throttling."""

    @abc.abstractmethod
    def cdn(self, args: CdnArgs, parent: Parent) -> CdnResult:
        """CDN in front of the site (private origin access) and of the API path, HTTPS only,
        firewall with managed rules + rate limit, certificate when a domain is set."""

    @abc.abstractmethod
    def configuration(self, args: ConfigurationArgs, parent: Parent) -> ConfigurationResult:
        """Settings under context.parameters_path; secrets encrypted with the stack key."""

    @abc.abstractmethod
    def monitoring(self, args: MonitoringArgs, parent: Parent) -> MonitoringResult:
        """Alert channel to the alert e-mail, alarms (function errors/throttles, API 5xx and
        p99 latency, database throttles, dead-letter depth), a dashboard."""
