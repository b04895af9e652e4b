"""What every GCP module needs: context, settings, the project, the enabled APIs, and the
stack's labels, applied once to every labellable resource."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_gcp as gcp

from components.specs import DeploymentContext
from providers.gcp.settings import GcpSettings, GcpSettingsError, check_region, parse_gcp_settings

# The Google APIs the stack's resources need (serviceusage). cloudresourcemanager serves the
# project IAM bindings and get_project; securetoken refreshes Identity Platform tokens.
# Push (shop:gcp.pushNotifications): the Firebase Management API makes the project a Firebase
# project, FCM HTTP v1 sends the messages.
FIREBASE_APIS = ("firebase.googleapis.com", "fcm.googleapis.com")
REQUIRED_APIS = (
    "apigateway.googleapis.com",
    "apikeys.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "iamcredentials.googleapis.com",
    "iam.googleapis.com",
    "identitytoolkit.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "parametermanager.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "securetoken.googleapis.com",
    "servicecontrol.googleapis.com",
    "servicemanagement.googleapis.com",
    "vpcaccess.googleapis.com",
)
# Cloud Monitoring's `labels` configure the channel (e.g. its e-mail address): its resource
# labels are `user_labels`. Every other labellable resource calls them `labels`.
LABEL_PROPERTIES = ("user_labels", "labels")

_LABEL_BAD = re.compile(r"[^a-z0-9_-]")


def label(value: str) -> str:
    """GCP label keys/values: lowercase letters, digits, _ and -, at most 63 characters."""
    return _LABEL_BAD.sub("_", value.lower())[:63]


def stack_labels(context: DeploymentContext) -> dict[str, str]:
    raw = {
        **context.tags,
        "project": context.project,
        "stack": context.stack,
        "environment": context.environment,
        "managed-by": "pulumi",
    }
    return {label(k): label(v) for k, v in raw.items() if label(k)[:1].isalpha()}


def with_labels(labels: Mapping[str, str], props: dict[str, object]) -> dict[str, object] | None:
    """`props` of a gcp resource with the stack labels under its label property (a resource's
    own labels win), or None when it has none. pulumi_gcp sets every property it accepts,
    None when not given, so the keys say what the resource takes."""
    key = next((k for k in LABEL_PROPERTIES if k in props), None)
    if key is None:
        return None
    own = props.get(key)
    return {**props, key: {**labels, **own} if isinstance(own, Mapping) else dict(labels)}


@dataclass(frozen=True)
class GcpEnv:
    context: DeploymentContext
    settings: GcpSettings
    labels: Mapping[str, str]
    # API name -> its projects.Service, once foundation() enabled them (empty when a platform
    # team enables them: shop:gcp.enableApis false)
    apis: Mapping[str, gcp.projects.Service] = field(default_factory=dict)

    @classmethod
    def create(cls, context: DeploymentContext) -> GcpEnv:
        check_region(context.region)
        settings = parse_gcp_settings(context.cloud_settings)
        # Every resource names its project explicitly; a different provider default would only
        # confuse (data sources, imports), so the two must agree when both are set.
        provider_project = pulumi.Config("gcp").get("project")
        if provider_project and provider_project != settings.project:
            raise GcpSettingsError(
                f"gcp:project {provider_project!r} and shop:gcp.project {settings.project!r} differ: "
                f"set `pulumi config set gcp:project {settings.project}`"
            )
        return cls(context=context, settings=settings, labels=stack_labels(context))

    @property
    def project(self) -> str:
        return self.settings.project

    @property
    def region(self) -> str:
        return self.context.region

    def short_id(self, *parts: str, n: int = 6) -> str:
        return hashlib.sha256("/".join((self.context.name_prefix, *parts)).encode()).hexdigest()[:n]

    def resource_id(self, prefix: str, max_len: int = 30) -> str:
        """A physical id unique per stack that fits GCP's shorter limits (service accounts: 30)."""
        suffix = self.short_id(prefix)
        head = f"{self.context.name_prefix}-{prefix}"[: max_len - len(suffix) - 1].rstrip("-")
        return f"{head}-{suffix}"

    def service_account(self, name: str, id_prefix: str, purpose: str, parent: pulumi.Resource, *apis: str,
                        description: str | None = None) -> gcp.serviceaccount.Account:  # fmt: skip
        """An identity of this stack, created after the APIs named (all when none named)."""
        return gcp.serviceaccount.Account(
            name,
            project=self.project,
            account_id=self.resource_id(id_prefix),
            display_name=f"{self.context.name_prefix} {purpose}",
            description=description,
            opts=self.opts(parent, *apis),
        )

    def label_resources(self) -> None:
        """Label every gcp resource made from now on. A stack transformation (run by the SDK,
        so the test mocks see it too; pulumi_gcp's default_labels are merged by the provider
        plugin, which mocks lack). Registered before the Shop exists: a component inherits
        only the transformations registered before it is made."""

        def apply(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
            if not args.type_.startswith("gcp:"):
                return None
            props = with_labels(self.labels, dict(args.props))
            return None if props is None else pulumi.ResourceTransformationResult(props, args.opts)

        pulumi.runtime.register_stack_transformation(apply)

    def with_apis_enabled(self, parent: pulumi.Resource) -> GcpEnv:
        """This env, its resources created after the Google APIs they need, enabled here."""
        if not self.settings.enable_apis:
            return self
        names = (
            *REQUIRED_APIS,
            *(("dns.googleapis.com",) if self.settings.dns_managed_zone else ()),
            *(FIREBASE_APIS if self.settings.push_notifications else ()),
        )
        apis = {
            api: gcp.projects.Service(
                f"api-{api.split('.')[0]}",
                project=self.project,
                service=api,
                # Other stacks in the project may use the API too: never turn it off on destroy.
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=parent),
            )
            for api in names
        }
        return replace(self, apis=apis)

    def opts(
        self,
        parent: pulumi.Resource,
        *apis: str,
        depends_on: Sequence[pulumi.Resource] = (),
        protect: bool | None = None,
    ) -> pulumi.ResourceOptions:
        """Child of `parent`, created after the APIs it needs (all of them when none named)."""
        needed = [self.apis[a] for a in (apis or self.apis) if a in self.apis]
        return pulumi.ResourceOptions(parent=parent, depends_on=[*needed, *depends_on], protect=protect)
