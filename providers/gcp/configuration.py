"""Configuration: the stack's settings under ``<project>-<stack>-``. Plain settings are
Parameter Manager parameters in the stack's region; secrets are Secret Manager secrets
replicated only in that region and encrypted with the stack key.

``create_secret`` is also used for the credentials functions mount as environment
variables (Identity Platform API key, mail relay credential). A secret whose value the
operator sets later gets a placeholder version (a function cannot deploy against a secret
without versions); ``gcloud secrets versions add`` then supersedes it as ``latest``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from providers.gcp.encryption import GcpEncryption, cmek_opts
from providers.gcp.env import GcpEnv

SECRETS = "secretmanager.googleapis.com"
PARAMETERS = "parametermanager.googleapis.com"
PLACEHOLDER = "unset: add a version with gcloud secrets versions add"


@dataclass(frozen=True)
class GcpSecret:
    secret: gcp.secretmanager.Secret
    version: gcp.secretmanager.SecretVersion
    secret_id: str
    placeholder: bool = False  # the operator adds the real value outside Pulumi

    @property
    def mounted_version(self) -> pulumi.Input[str]:
        """The version a function mounts: the stack's own, so a new value set through Pulumi
        changes the function and `pulumi up` rolls out instances that resolve it; "latest"
        for a placeholder, which the operator supersedes outside Pulumi."""
        return "latest" if self.placeholder else self.version.version


@dataclass(frozen=True)
class GcpParameter:
    parameter: gcp.parametermanager.RegionalParameter
    version: gcp.parametermanager.RegionalParameterVersion


@dataclass(frozen=True)
class GcpConfiguration:
    path: str
    secrets: Mapping[str, GcpSecret]
    parameters: Mapping[str, GcpParameter]

    @property
    def result(self) -> specs.ConfigurationResult:
        names = {name: made.secret.name for name, made in self.secrets.items()}
        names.update({name: made.parameter.name for name, made in self.parameters.items()})
        return specs.ConfigurationResult(path=self.path, parameter_names=names)


def physical_prefix(env: GcpEnv) -> str:
    """``/shop/dev/`` -> ``shop-dev-``: Secret Manager and Parameter Manager ids have no slashes."""
    return env.context.parameters_path.strip("/").replace("/", "-") + "-"


def create_secret(
    env: GcpEnv,
    name: str,
    *,
    encryption: GcpEncryption,
    parent: pulumi.Resource,
    value: pulumi.Input[str] | None = None,
    placeholder: bool = False,
    description: str = "",
) -> GcpSecret:
    secret_id = physical_prefix(env) + name
    secret = gcp.secretmanager.Secret(
        f"secret-{name}",
        project=env.project,
        secret_id=secret_id,
        replication={
            "user_managed": {
                "replicas": [
                    {"location": env.region, "customer_managed_encryption": {"kms_key_name": encryption.key_id}}
                ]
            }
        },
        annotations={"description": description} if description else None,
        deletion_protection=env.context.is_prod,
        opts=cmek_opts(env, encryption, "secretmanager", parent, SECRETS),
    )
    data = pulumi.Output.secret(value) if value is not None else PLACEHOLDER
    version = gcp.secretmanager.SecretVersion(
        f"secret-{name}-v",
        secret=secret.id,
        secret_data=data,
        # The operator's own versions supersede a placeholder; Pulumi never rewrites it.
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["secret_data"] if placeholder else None),
    )
    return GcpSecret(secret=secret, version=version, secret_id=secret_id, placeholder=placeholder)


def create_parameter(
    env: GcpEnv, spec: specs.ParameterSpec, encryption: GcpEncryption, parent: pulumi.Resource
) -> GcpParameter:
    parameter = gcp.parametermanager.RegionalParameter(
        f"param-{spec.name}",
        project=env.project,
        location=env.region,
        parameter_id=physical_prefix(env) + spec.name,
        format="UNFORMATTED",
        kms_key=encryption.key_id,
        opts=cmek_opts(env, encryption, "parametermanager", parent, PARAMETERS),
    )
    version = gcp.parametermanager.RegionalParameterVersion(
        f"param-{spec.name}-v",
        parameter=parameter.id,
        parameter_version_id="v1",
        parameter_data=spec.value,
        opts=pulumi.ResourceOptions(parent=parent, replace_on_changes=["parameter_data"], delete_before_replace=True),
    )
    return GcpParameter(parameter=parameter, version=version)


def create_configuration(
    env: GcpEnv, args: specs.ConfigurationArgs, parent: pulumi.Resource, encryption: GcpEncryption
) -> GcpConfiguration:
    secrets = {
        spec.name: create_secret(
            env, spec.name, encryption=encryption, parent=parent, value=spec.value, description=spec.description
        )
        for spec in args.parameters
        if spec.secret
    }
    parameters = {
        spec.name: create_parameter(env, spec, encryption, parent) for spec in args.parameters if not spec.secret
    }
    return GcpConfiguration(path=env.context.parameters_path, secrets=secrets, parameters=parameters)
