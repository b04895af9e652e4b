"""Network: VNet over the region's zones, a delegated subnet per function app (Flex
Consumption VNet integration: Microsoft.App/environments), a private-endpoint subnet, a zone-
redundant NAT gateway (Standard public IP) for egress, and an NSG on every subnet.

Azure subnets are regional (they span zones), so ``az_count`` becomes the zones of the NAT
gateway's public IP; ``natMode: perAz`` is met by a zone-redundant Standard NAT gateway
(one NAT gateway per subnet is the Azure limit).

Private endpoints (prod): Key Vault, Cosmos DB, Service Bus, the functions' storage
accounts and the uploads account's blob endpoint (user delegation keys for the SAS) are
reached from the VNet through private endpoints in the endpoint subnet, with
their privatelink DNS zones linked to the VNet, so the Function Apps (VNet-integrated, all
outbound traffic through the VNet) resolve them to private addresses.

The services themselves refuse public traffic in prod: Cosmos DB and Service Bus (Premium:
Standard has no private endpoints) disable public network access; Key Vault and the
functions' storage account deny by default (trusted Azure services, e.g. Storage reading its
customer-managed key, pass) and admit only shop:azure.deployerIpRanges, the addresses
Pulumi and the operator's `az` commands come from. Front Door Premium reaches the site and
uploads accounts through its own Private Link (providers/azure/static_site.py, cdn.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.network as network
import pulumi_azure_native.privatedns as privatedns
import pulumi_azure_native.storage as storage

from components import specs
from components.config import ExistingNetwork
from functions.shop import datamodel
from providers.azure.env import AzureEnv

# Flex Consumption apps integrate with a subnet delegated to Microsoft.App/environments;
# each app needs its own subnet (a subnet serves one Flex app's integration).
FLEX_DELEGATION = "Microsoft.App/environments"
SERVICE_ENDPOINTS = ("Microsoft.Storage", "Microsoft.AzureCosmosDB", "Microsoft.KeyVault", "Microsoft.ServiceBus")

ZONES = {
    "vault": "privatelink.vaultcore.azure.net",
    "Sql": "privatelink.documents.azure.com",
    "namespace": "privatelink.servicebus.windows.net",
    "blob": "privatelink.blob.core.windows.net",
    "queue": "privatelink.queue.core.windows.net",
    "table": "privatelink.table.core.windows.net",
}
# The Functions host keeps leases, keys and trigger state in blobs, queues and tables.
HOST_STORAGE_GROUPS = ("blob", "queue", "table")


@dataclass(frozen=True)
class AzureNetwork:
    vnet_id: pulumi.Input[str]
    function_subnet_ids: dict[str, pulumi.Input[str]]  # service name -> its app's integration subnet
    endpoint_subnet_id: pulumi.Input[str] | None  # private endpoints (prod); None: an existing dev network

    @property
    def result(self) -> specs.NetworkResult:
        endpoints = [self.endpoint_subnet_id] if self.endpoint_subnet_id is not None else []
        return specs.NetworkResult(
            network_id=pulumi.Output.from_input(self.vnet_id),
            public_subnet_ids=pulumi.Output.all(*endpoints).apply(list),
            private_subnet_ids=pulumi.Output.all(*self.function_subnet_ids.values()).apply(list),
        )


def existing_network(existing: ExistingNetwork) -> AzureNetwork:
    """shop:existingNetwork: its owner runs the VNet, NAT and NSGs; the subnet ids are checked by
    components.config (one delegated subnet per app, all in one VNet, endpoints subnet in prod)."""
    subnets = [*existing.function_subnet_ids.values(), *filter(None, [existing.endpoint_subnet_id])]
    vnet_id = subnets[0].rsplit("/subnets/", 1)[0]
    return AzureNetwork(vnet_id, dict(existing.function_subnet_ids), existing.endpoint_subnet_id)


@dataclass(frozen=True)
class Target:
    key: str  # logical name of the endpoint
    resource_id: pulumi.Input[str]
    group_id: str  # the service's sub-resource ("vault", "Sql", "namespace", "blob", ...)
    zone: str  # its privatelink DNS zone


def private_only(env: AzureEnv) -> bool:
    """Prod keeps the data services off the public internet; dev stays reachable (and cheaper)."""
    return env.context.is_prod


def _subnets(cidr: str, count: int) -> list[str]:
    net = ipaddress.ip_network(cidr)
    return [str(s) for s in list(net.subnets(new_prefix=24))[:count]]


def create_network(env: AzureEnv, args: specs.NetworkArgs, parent: pulumi.Resource) -> AzureNetwork:
    if args.existing is not None and args.existing.function_subnet_ids:
        return existing_network(args.existing)
    opts = pulumi.ResourceOptions(parent=parent)
    public_ip = network.PublicIPAddress(
        "pip-nat",
        resource_group_name=env.rg_name,
        location=env.location,
        sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
        zones=[str(z) for z in range(1, min(args.az_count, 3) + 1)],
        opts=opts,
    )
    nat = network.NatGateway(
        "nat",
        resource_group_name=env.rg_name,
        location=env.location,
        sku=network.NatGatewaySkuArgs(name="Standard"),
        idle_timeout_in_minutes=4,
        public_ip_addresses=[network.SubResourceArgs(id=public_ip.id)],
        opts=opts,
    )
    nsg = _security_group(env, opts)
    services = [s.name for s in datamodel.SERVICES]
    prefixes = _subnets(args.cidr_block, len(services) + 1)
    vnet = network.VirtualNetwork(
        "vnet",
        resource_group_name=env.rg_name,
        location=env.location,
        address_space=network.AddressSpaceArgs(address_prefixes=[args.cidr_block]),
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["subnets"]),
    )
    function_subnets: dict[str, network.Subnet] = {}
    previous: network.Subnet | None = None
    for service, prefix in zip(services, prefixes, strict=False):
        # Subnets of one VNet are created one after another (ARM rejects concurrent updates).
        previous = function_subnets[service] = network.Subnet(
            f"snet-fn-{service}",
            resource_group_name=env.rg_name,
            virtual_network_name=vnet.name,
            address_prefix=prefix,
            delegations=[network.DelegationArgs(name="flex", service_name=FLEX_DELEGATION)],
            nat_gateway=network.SubResourceArgs(id=nat.id),
            network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
            default_outbound_access=False,
            service_endpoints=[network.ServiceEndpointPropertiesFormatArgs(service=s) for s in SERVICE_ENDPOINTS],
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[previous] if previous else None),
        )
    endpoint_subnet = network.Subnet(
        "snet-endpoints",
        resource_group_name=env.rg_name,
        virtual_network_name=vnet.name,
        address_prefix=prefixes[-1],
        network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
        private_endpoint_network_policies="Enabled",
        default_outbound_access=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[previous] if previous else None),
    )
    return AzureNetwork(vnet.id, {k: v.id for k, v in function_subnets.items()}, endpoint_subnet.id)


def _security_group(env: AzureEnv, opts: pulumi.ResourceOptions) -> network.NetworkSecurityGroup:
    return network.NetworkSecurityGroup(
        "nsg",
        resource_group_name=env.rg_name,
        location=env.location,
        security_rules=[
            network.SecurityRuleArgs(
                name="deny-internet-inbound",
                priority=4000,
                direction="Inbound",
                access="Deny",
                protocol="*",
                source_address_prefix="Internet",
                source_port_range="*",
                destination_address_prefix="VirtualNetwork",
                destination_port_range="*",
            ),
            network.SecurityRuleArgs(
                name="allow-https-outbound",
                priority=100,
                direction="Outbound",
                access="Allow",
                protocol="Tcp",
                source_address_prefix="VirtualNetwork",
                source_port_range="*",
                destination_address_prefix="*",
                destination_port_range="443",
            ),
        ],
        opts=opts,
    )


def targets(
    vault_id: pulumi.Input[str],
    cosmos_id: pulumi.Input[str],
    servicebus_id: pulumi.Input[str],
    host_storage_id: pulumi.Input[str],
    package_storage_id: pulumi.Input[str] | None = None,
    uploads_storage_id: pulumi.Input[str] | None = None,
) -> list[Target]:
    out = [
        Target("vault", vault_id, "vault", ZONES["vault"]),
        Target("cosmos", cosmos_id, "Sql", ZONES["Sql"]),
        Target("servicebus", servicebus_id, "namespace", ZONES["namespace"]),
    ]
    out += [Target(f"fnstorage-{g}", host_storage_id, g, ZONES[g]) for g in HOST_STORAGE_GROUPS]
    if package_storage_id is not None:  # the apps read their code packages from it (blob only)
        out.append(Target("fnpackages-blob", package_storage_id, "blob", ZONES["blob"]))
    if uploads_storage_id is not None:  # the media functions ask it for user delegation keys
        out.append(Target("uploads-blob", uploads_storage_id, "blob", ZONES["blob"]))
    return out


def create_private_endpoints(
    env: AzureEnv, net: AzureNetwork, wanted: list[Target], parent: pulumi.Resource
) -> dict[str, network.PrivateEndpoint]:
    opts = pulumi.ResourceOptions(parent=parent)
    zones = {zone: _private_zone(env, net, zone, opts) for zone in sorted({t.zone for t in wanted})}
    endpoints: dict[str, network.PrivateEndpoint] = {}
    for t in wanted:
        endpoints[t.key] = endpoint = network.PrivateEndpoint(
            f"pe-{t.key}",
            resource_group_name=env.rg_name,
            location=env.location,
            # SubnetArgs would add its own defaults for the subnet's policies: only the id goes.
            subnet=network.SubnetArgsDict(id=net.endpoint_subnet_id),
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=t.key, private_link_service_id=t.resource_id, group_ids=[t.group_id]
                )
            ],
            opts=opts,
        )
        network.PrivateDnsZoneGroup(
            f"pe-{t.key}-dns",
            resource_group_name=env.rg_name,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[
                network.PrivateDnsZoneConfigArgs(name=t.zone.replace(".", "-"), private_dns_zone_id=zones[t.zone].id)
            ],
            opts=opts,
        )
    return endpoints


def _private_zone(
    env: AzureEnv, net: AzureNetwork, zone_name: str, opts: pulumi.ResourceOptions
) -> privatedns.PrivateZone:
    label = zone_name.removeprefix("privatelink.").split(".")[0]
    zone = privatedns.PrivateZone(
        f"dns-{label}", resource_group_name=env.rg_name, private_zone_name=zone_name, location="Global", opts=opts
    )
    privatedns.VirtualNetworkLink(
        f"dns-{label}-link",
        resource_group_name=env.rg_name,
        private_zone_name=zone.name,
        location="Global",
        virtual_network=privatedns.SubResourceArgs(id=net.vnet_id),
        registration_enabled=False,
        opts=opts,
    )
    return zone


def vault_network_acls(env: AzureEnv) -> keyvault.NetworkRuleSetArgs:
    """Key Vault: deny by default in prod (trusted Azure services and the deployer pass)."""
    if not private_only(env):
        return keyvault.NetworkRuleSetArgs(bypass="AzureServices", default_action="Allow")
    return keyvault.NetworkRuleSetArgs(
        bypass="AzureServices",
        default_action="Deny",
        ip_rules=[keyvault.IPRuleArgs(value=r) for r in env.settings.deployer_ip_ranges],
    )


def storage_network_rules(env: AzureEnv) -> storage.NetworkRuleSetArgs:
    """The functions' storage accounts: the same rule, in the storage API's shape."""
    if env.settings.shared_key_uploads and not env.settings.deployer_ip_ranges:
        pulumi.log.warn(
            "shop:azure.deployerIpRanges is empty: the functions' storage account denies by default in prod, "
            "so Pulumi's package upload will be refused; set it to the address `pulumi up` runs from"
        )
    return storage.NetworkRuleSetArgs(
        bypass="AzureServices",
        default_action=storage.DefaultAction.DENY,
        ip_rules=[
            storage.IPRuleArgs(i_p_address_or_range=r, action=storage.Action.ALLOW)
            for r in env.settings.deployer_ip_ranges
        ],
    )
