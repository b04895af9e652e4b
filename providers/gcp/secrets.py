"""Configuration: the stack's settings under ``<project>-<stack>-``. Plain settings are
Parameter Manager parameters in the stack's region; secrets are Secret Manager secrets
replicated only in that region and encrypted with the stack key.

``create_secret`` is also used for the credentials functions mount as environment
variables (Identity Platform API key, mail relay credential). A secret whose value the
operator sets later gets a placeholder version (a function cannot deploy against a secret
without versions); ``gcloud secrets versions add`` then supersedes it as ``latest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from providers.gcp.env import GcpEnv
from providers.gcp.kms import cmek_opts

SECRETS = "secretmanager.googleapis.com"
PARAMETERS = "parametermanager.googleapis.com"
PLACEHOLDER = "unset: add a version with gcloud secrets versions add"


@dataclass
class SecretNative:
    secret: Any
    version: Any
    secret_id: str


@dataclass
class ConfigurationNative:
    secrets: dict[str, SecretNative] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)  # name -> RegionalParameter
    versions: dict[str, Any] = field(default_factory=dict)


def physical_prefix(env: GcpEnv) -> str:
    """``/shop/dev/`` -> ``shop-dev-``: Secret Manager and Parameter Manager ids have no slashes."""
    return env.context.parameters_path.strip("/").replace("/", "-") + "-"


def create_secret(
    env: GcpEnv,
    name: str,
    *,
    encryption: specs.EncryptionResult,
    parent: pulumi.Resource,
    value: pulumi.Input[str] | None = None,
    placeholder: bool = False,
    description: str = "",
) -> SecretNative:
    import pulumi_gcp as gcp

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
        labels=env.labels,
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
    return SecretNative(secret=secret, version=version, secret_id=secret_id)


def create_configuration(
    env: GcpEnv, args: specs.ConfigurationArgs, parent: pulumi.Resource
) -> specs.ConfigurationResult:
    import pulumi_gcp as gcp

    native = ConfigurationNative()
    names: dict[str, pulumi.Output[str]] = {}
    for spec in args.parameters:
        if spec.secret:
            made = create_secret(
                env,
                spec.name,
                encryption=args.encryption,
                parent=parent,
                value=spec.value,
                description=spec.description,
            )
            native.secrets[spec.name] = made
            names[spec.name] = made.secret.name
            continue
        parameter = gcp.parametermanager.RegionalParameter(
            f"param-{spec.name}",
            project=env.project,
            location=env.region,
            parameter_id=physical_prefix(env) + spec.name,
            format="UNFORMATTED",
            kms_key=args.encryption.key_id,
            labels=env.labels,
            opts=cmek_opts(env, args.encryption, "parametermanager", parent, PARAMETERS),
        )
        native.parameters[spec.name] = parameter
        native.versions[spec.name] = gcp.parametermanager.RegionalParameterVersion(
            f"param-{spec.name}-v",
            parameter=parameter.id,
            parameter_version_id="v1",
            parameter_data=spec.value,
            opts=pulumi.ResourceOptions(
                parent=parent, replace_on_changes=["parameter_data"], delete_before_replace=True
            ),
        )
        names[spec.name] = parameter.name
    return specs.ConfigurationResult(path=env.context.parameters_path, parameter_names=names, native=native)
