"""Settings and secrets under /<project>/<stack>/, secrets encrypted with the stack key."""

from __future__ import annotations

import pulumi

from components.specs import ConfigurationArgs, ConfigurationResult
from providers.base import CloudProvider


class Configuration(pulumi.ComponentResource):
    """Settings and secrets under /<project>/<stack>/, secrets encrypted with the stack key."""

    result: ConfigurationResult

    def __init__(
        self, name: str, args: ConfigurationArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Configuration", name, None, opts)
        self.result = provider.configuration(args, self)
        self.register_outputs({"path": self.result.path, "parameters": dict(self.result.parameter_names)})
