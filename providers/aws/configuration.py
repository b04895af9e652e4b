"""Parameter Store: settings under /<project>/<stack>/, secrets as SecureString with the stack key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import ConfigurationArgs, ConfigurationResult, ParameterSpec
from providers.aws.env import AwsEnv
from providers.base import Parent


@dataclass(frozen=True)
class AwsConfiguration:
    path: str
    parameters: Mapping[str, aws.ssm.Parameter]  # ParameterSpec.name -> parameter

    @property
    def result(self) -> ConfigurationResult:
        return ConfigurationResult(path=self.path, parameter_names={n: p.name for n, p in self.parameters.items()})


def create_parameter(env: AwsEnv, spec: ParameterSpec, key_id: pulumi.Input[str], parent: Parent) -> aws.ssm.Parameter:
    """One parameter under the stack's path; a secret one is a SecureString under the stack key."""
    return aws.ssm.Parameter(
        spec.name,
        # Explicit names: the path hierarchy is the contract (ENV_PARAMETERS_PATH).
        name=f"{env.context.parameters_path}{spec.name}",
        type="SecureString" if spec.secret else "String",
        key_id=key_id if spec.secret else None,
        value=pulumi.Output.secret(spec.value) if spec.secret else spec.value,
        description=spec.description or None,
        tier="Standard",
        opts=env.opts(parent),
    )


def create_configuration(env: AwsEnv, args: ConfigurationArgs, parent: Parent) -> AwsConfiguration:
    parameters = {spec.name: create_parameter(env, spec, args.encryption.key_id, parent) for spec in args.parameters}
    return AwsConfiguration(env.context.parameters_path, parameters)
