"""HTTP API generated from the route table: JWT auth per route, one integration per service function."""

from __future__ import annotations

import pulumi

from components.specs import ApiArgs, ApiResult
from providers.base import CloudProvider


class Api(pulumi.ComponentResource):
    """HTTP API generated from the route table: JWT auth per route, one integration per service function."""

    result: ApiResult

    def __init__(
        self, name: str, args: ApiArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Api", name, None, opts)
        self.result = provider.api(args, self)
        self.register_outputs({"url": self.result.url, "apiId": self.result.api_id})
