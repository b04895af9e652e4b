"""Configuration: each setting is a Key Vault secret named <project>-<stack>-<name> (Key Vault
names allow only letters, digits and dashes: the path /shop/dev/ becomes the prefix shop-dev-).
The other secrets of the stack (the Graph app's client secret, the Notification Hub key) are
made the same way, by ``vault_secret``."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.keyvault as keyvault

from components import specs
from providers.azure.encryption import AzureEncryption
from providers.azure.env import AzureEnv


@dataclass(frozen=True)
class AzureConfiguration:
    path: str
    secrets: dict[str, keyvault.Secret]  # setting name -> its secret
    secret_names: dict[str, str]

    @property
    def result(self) -> specs.ConfigurationResult:
        names = {k: pulumi.Output.from_input(v) for k, v in self.secret_names.items()}
        return specs.ConfigurationResult(path=self.path, parameter_names=names)


def secret_name(env: AzureEnv, name: str) -> str:
    return f"{env.secret_prefix}-{name}"


def secret_uri(encryption: AzureEncryption, name: str) -> pulumi.Output[str]:
    """The versionless URI a Key Vault reference (@Microsoft.KeyVault(SecretUri=...)) takes."""
    return pulumi.Output.concat(encryption.vault_uri, "secrets/", name, "/")


def vault_secret(
    env: AzureEnv,
    logical_name: str,
    name: str,
    value: pulumi.Input[str],
    encryption: AzureEncryption,
    opts: pulumi.ResourceOptions,
    *,
    tags: dict[str, str] | None = None,
    enabled: bool | None = None,
) -> keyvault.Secret:
    return keyvault.Secret(
        logical_name,
        resource_group_name=env.rg_name,
        vault_name=encryption.vault.name,
        secret_name=name,
        tags=tags,
        properties=keyvault.SecretPropertiesArgs(
            value=value,
            content_type="text/plain",
            attributes=keyvault.SecretAttributesArgs(enabled=enabled) if enabled is not None else None,
        ),
        opts=opts,
    )


def create_configuration(
    env: AzureEnv, args: specs.ConfigurationArgs, parent: pulumi.Resource, encryption: AzureEncryption
) -> AzureConfiguration:
    opts = pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["properties"])
    secrets: dict[str, keyvault.Secret] = {}
    names: dict[str, str] = {}
    for spec in args.parameters:
        names[spec.name] = secret_name(env, spec.name)
        secrets[spec.name] = vault_secret(
            env,
            f"setting-{spec.name}",
            names[spec.name],
            pulumi.Output.secret(spec.value) if spec.secret else spec.value,
            encryption,
            opts,
            tags={"secret": str(spec.secret).lower()},
            enabled=True,
        )
    return AzureConfiguration(path=env.context.parameters_path, secrets=secrets, secret_names=names)
