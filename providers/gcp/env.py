"""What every GCP module needs: context, settings, labels, the project, enabled APIs."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.specs import DeploymentContext
from providers.gcp.settings import GcpSettings, GcpSettingsError, check_region, parse_gcp_settings

# The Google APIs the stack's resources need (serviceusage). cloudresourcemanager serves the
# project IAM bindings and get_project; securetoken refreshes Identity Platform tokens.
REQUIRED_APIS = (
    "apigateway.googleapis.com",
    "apikeys.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudresourcemanager.googleapis.com",
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

_LABEL_BAD = re.compile(r"[^a-z0-9_-]")


def label(value: str) -> str:
    """GCP label keys/values: lowercase letters, digits, _ and -, at most 63 characters."""
    return _LABEL_BAD.sub("_", value.lower())[:63]


@dataclass
class GcpEnv:
    context: DeploymentContext
    settings: GcpSettings
    labels: dict[str, str]
    apis: dict[str, Any] = field(default_factory=dict)  # API name -> projects.Service
    _project_number: Any = field(default=None, repr=False)

    @classmethod
    def create(cls, context: DeploymentContext) -> GcpEnv:
        check_region(context.region)
        raw = {
            **context.tags,
            "project": context.project,
            "stack": context.stack,
            "environment": context.environment,
            "managed-by": "pulumi",
        }
        labels = {label(k): label(v) for k, v in raw.items() if label(k)[:1].isalpha()}
        settings = parse_gcp_settings(context.cloud_settings)
        # Every resource names its project explicitly; a different provider default would only
        # confuse (data sources, imports), so the two must agree when both are set.
        provider_project = pulumi.Config("gcp").get("project")
        if provider_project and provider_project != settings.project:
            raise GcpSettingsError(
                f"gcp:project {provider_project!r} and shop:gcp.project {settings.project!r} differ: "
                f"set `pulumi config set gcp:project {settings.project}`"
            )
        return cls(context=context, settings=settings, labels=labels)

    @property
    def project(self) -> str:
        return self.settings.project

    @property
    def region(self) -> str:
        return self.context.region

    @property
    def project_number(self) -> pulumi.Output[str]:
        if self._project_number is None:
            import pulumi_gcp as gcp

            self._project_number = gcp.organizations.get_project_output(project_id=self.project).number
        return self._project_number

    def short_id(self, *parts: str, n: int = 6) -> str:
        return hashlib.sha256("/".join((self.context.name_prefix, *parts)).encode()).hexdigest()[:n]

    def resource_id(self, prefix: str, max_len: int = 30) -> str:
        """A physical id unique per stack that fits GCP's shorter limits (service accounts: 30)."""
        suffix = self.short_id(prefix)
        head = f"{self.context.name_prefix}-{prefix}"[: max_len - len(suffix) - 1].rstrip("-")
        return f"{head}-{suffix}"

    def enable_apis(self, parent: pulumi.Resource) -> None:
        if self.apis or not self.settings.enable_apis:
            return
        import pulumi_gcp as gcp

        apis = (
            *REQUIRED_APIS,
            *(("dns.googleapis.com",) if self.settings.dns_managed_zone else ()),
            *(("fcm.googleapis.com",) if self.settings.push_notifications else ()),
        )
        for api in apis:
            self.apis[api] = gcp.projects.Service(
                f"api-{api.split('.')[0]}",
                project=self.project,
                service=api,
                # Other stacks in the project may use the API too: never turn it off on destroy.
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=parent),
            )

    def opts(self, parent: pulumi.Resource, *apis: str, **kwargs: Any) -> pulumi.ResourceOptions:
        """Child of `parent`, created after the APIs it needs (all of them when none named)."""
        needed = [self.apis[a] for a in (apis or self.apis) if a in self.apis]
        depends = [*needed, *kwargs.pop("depends_on", [])]
        return pulumi.ResourceOptions(parent=parent, depends_on=depends, **kwargs)
