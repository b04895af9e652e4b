"""Private network over several zones with NAT egress; the functions run in its private subnets."""

from __future__ import annotations

import pulumi

from components.specs import NetworkArgs, NetworkResult
from providers.base import CloudProvider


class Network(pulumi.ComponentResource):
    """Private network over several zones with NAT egress; the functions run in its private subnets."""

    result: NetworkResult

    def __init__(
        self, name: str, args: NetworkArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Network", name, None, opts)
        self.result = provider.network(args, self)
        self.register_outputs({"networkId": self.result.network_id, "privateSubnetIds": self.result.private_subnet_ids})
