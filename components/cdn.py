"""CDN in front of the site and the API, HTTPS only, behind a web application firewall."""

from __future__ import annotations

import pulumi

from components.specs import CdnArgs, CdnResult
from providers.base import CloudProvider


class Cdn(pulumi.ComponentResource):
    """CDN in front of the site and the API, HTTPS only, behind a web application firewall."""

    result: CdnResult

    def __init__(
        self, name: str, args: CdnArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Cdn", name, None, opts)
        self.result = provider.cdn(args, self)
        self.register_outputs(
            {
                "url": self.result.url,
                "distributionId": self.result.distribution_id,
                "firewallId": self.result.firewall_id,
            }
        )
