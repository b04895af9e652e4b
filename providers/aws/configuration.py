"""Parameter Store: settings under /<project>/<stack>/, secrets as SecureString with the stack key."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import ConfigurationArgs, ConfigurationResult
from providers.aws.env import AwsEnv
from providers.base import Parent


@dataclass(frozen=True)
class ParametersNative:
    parameters: dict[str, aws.ssm.Parameter]


def create_parameters(env: AwsEnv, args: ConfigurationArgs, parent: Parent) -> ConfigurationResult:
    path = env.context.parameters_path
    parameters: dict[str, aws.ssm.Parameter] = {}
    for spec in args.parameters:
        parameters[spec.name] = aws.ssm.Parameter(
            spec.name,
            # Explicit names: the path hierarchy is the contract (ENV_PARAMETERS_PATH).
            name=f"{path}{spec.name}",
            type="SecureString" if spec.secret else "String",
            key_id=args.encryption.key_id if spec.secret else None,
            value=pulumi.Output.secret(spec.value) if spec.secret else spec.value,
            description=spec.description or None,
            tier="Standard",
            opts=env.opts(parent),
        )
    return ConfigurationResult(
        path=path,
        parameter_names={name: p.name for name, p in parameters.items()},
        native=ParametersNative(parameters),
    )
