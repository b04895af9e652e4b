"""Parameter Store: settings under /<project>/<stack>/, secrets as SecureString with the stack key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import ConfigurationArgs, ConfigurationResult
from providers.aws.env import AwsEnv
from providers.base import Parent


@dataclass(frozen=True)
class AwsConfiguration:
    path: str
    parameters: Mapping[str, aws.ssm.Parameter]  # ParameterSpec.name -> parameter

    @property
    def result(self) -> ConfigurationResult:
        return ConfigurationResult(path=self.path, parameter_names={n: p.name for n, p in self.parameters.items()})


def create_configuration(env: AwsEnv, args: ConfigurationArgs, parent: Parent) -> AwsConfiguration:
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
    return AwsConfiguration(path, parameters)
