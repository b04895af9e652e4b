"""Network: VNet over the region's zones, a delegated subnet per function app (Flex
Consumption VNet integration: Microsoft.App/environments), a private-endpoint subnet, a zone-
redundant NAT gateway (Standard public IP) for egress, and an NSG on every subnet.

Azure subnets are regional (they span zones), so ``az_count`` becomes the zones of the NAT
gateway's public IP; ``natMode: perAz`` is met by a zone-redundant Standard NAT gateway
(one NAT gateway per subnet is the Azure limit).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi

from components import specs
from functions.shop import datamodel
from providers.azure.env import AzureEnv

# Flex Consumption apps integrate with a subnet delegated to Microsoft.App/environments;
# each app needs its own subnet (a subnet serves one Flex app's integration).
FLEX_DELEGATION = "Microsoft.App/environments"


@dataclass(frozen=True)
class NetworkNative:
    vnet: Any
    nsg: Any
    nat: Any
    public_ip: Any
    function_subnets: dict[str, Any]  # service name -> subnet
    endpoint_subnet: Any


def _subnets(cidr: str, count: int) -> list[str]:
    net = ipaddress.ip_network(cidr)
    return [str(s) for s in list(net.subnets(new_prefix=24))[:count]]


def create_network(env: AzureEnv, args: specs.NetworkArgs, parent: pulumi.Resource) -> specs.NetworkResult:
    import pulumi_azure_native.network as network

    opts = pulumi.ResourceOptions(parent=parent)
    zones = [str(z) for z in range(1, min(args.az_count, 3) + 1)]
    public_ip = network.PublicIPAddress(
        "pip-nat",
        resource_group_name=env.rg_name,
        location=env.location,
        sku={"name": "Standard", "tier": "Regional"},
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
        zones=zones,
        tags=env.tags,
        opts=opts,
    )
    nat = network.NatGateway(
        "nat",
        resource_group_name=env.rg_name,
        location=env.location,
        sku={"name": "Standard"},
        idle_timeout_in_minutes=4,
        public_ip_addresses=[{"id": public_ip.id}],
        tags=env.tags,
        opts=opts,
    )
    nsg = network.NetworkSecurityGroup(
        "nsg",
        resource_group_name=env.rg_name,
        location=env.location,
        tags=env.tags,
        security_rules=[
            {
                "name": "deny-internet-inbound",
                "priority": 4000,
                "direction": "Inbound",
                "access": "Deny",
                "protocol": "*",
                "source_address_prefix": "Internet",
                "source_port_range": "*",
                "destination_address_prefix": "VirtualNetwork",
                "destination_port_range": "*",
            },
            {
                "name": "allow-https-outbound",
                "priority": 100,
                "direction": "Outbound",
                "access": "Allow",
                "protocol": "Tcp",
                "source_address_prefix": "VirtualNetwork",
                "source_port_range": "*",
                "destination_address_prefix": "*",
                "destination_port_range": "443",
            },
        ],
        opts=opts,
    )
    services = [s.name for s in datamodel.SERVICES]
    prefixes = _subnets(args.cidr_block, len(services) + 1)
    vnet = network.VirtualNetwork(
        "vnet",
        resource_group_name=env.rg_name,
        location=env.location,
        address_space={"address_prefixes": [args.cidr_block]},
        tags=env.tags,
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["subnets"]),
    )
    function_subnets: dict[str, Any] = {}
    previous: Any = None
    for service, prefix in zip(services, prefixes, strict=False):
        # Subnets of one VNet are created one after another (ARM rejects concurrent updates).
        subnet = network.Subnet(
            f"snet-fn-{service}",
            resource_group_name=env.rg_name,
            virtual_network_name=vnet.name,
            address_prefix=prefix,
            delegations=[{"name": "flex", "service_name": FLEX_DELEGATION}],
            nat_gateway={"id": nat.id},
            network_security_group={"id": nsg.id},
            default_outbound_access=False,
            service_endpoints=[
                {"service": "Microsoft.Storage"},
                {"service": "Microsoft.AzureCosmosDB"},
                {"service": "Microsoft.KeyVault"},
                {"service": "Microsoft.ServiceBus"},
            ],
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[previous] if previous else None),
        )
        function_subnets[service] = subnet
        previous = subnet
    endpoint_subnet = network.Subnet(
        "snet-endpoints",
        resource_group_name=env.rg_name,
        virtual_network_name=vnet.name,
        address_prefix=prefixes[-1],
        network_security_group={"id": nsg.id},
        private_endpoint_network_policies="Enabled",
        default_outbound_access=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[previous]),
    )
    native = NetworkNative(vnet, nsg, nat, public_ip, function_subnets, endpoint_subnet)
    return specs.NetworkResult(
        network_id=vnet.id,
        public_subnet_ids=pulumi.Output.all(endpoint_subnet.id).apply(list),
        private_subnet_ids=pulumi.Output.all(*[s.id for s in function_subnets.values()]).apply(list),
        native=native,
    )
