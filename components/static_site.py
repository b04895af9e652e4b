"""Private, encrypted storage for the storefront files (plus a generated config.json) and product media."""

from __future__ import annotations

import pulumi

from components.specs import StaticSiteArgs, StaticSiteResult
from providers.base import CloudProvider


class StaticSite(pulumi.ComponentResource):
    """Private, encrypted storage for the storefront files (plus a generated config.json) and product media."""

    result: StaticSiteResult

    def __init__(
        self, name: str, args: StaticSiteArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:StaticSite", name, None, opts)
        self.result = provider.static_site(args, self)
        self.register_outputs({"bucketName": self.result.bucket_name})
