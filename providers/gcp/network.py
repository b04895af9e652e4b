"""Network: a custom-mode VPC with the /28 subnet of the Serverless VPC Access connector
(Private Google Access, flow logs), through which the functions egress, a Cloud Router with
Cloud NAT for that subnet, and a deny-all ingress firewall. No other subnet: nothing else
runs in the VPC.

GCP subnets are regional and span every zone, so "over >= 2 zones" is the connector's
instances (spread by the platform, min 2) and Cloud NAT (a regional, zone-redundant
service). natMode perAz reserves one static egress address per zone (shop:azCount) for
predictable egress and capacity; single lets NAT allocate addresses on demand. There are
no public subnets: ingress arrives only through the global load balancer and API Gateway.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from components.config import ExistingNetwork
from providers.gcp.env import GcpEnv

COMPUTE = "compute.googleapis.com"


@dataclass(frozen=True)
class GcpNetwork:
    network_id: pulumi.Input[str]
    subnet_ids: tuple[pulumi.Input[str], ...]  # the connector's subnet, when the stack knows it
    connector_id: pulumi.Input[str]  # the Serverless VPC Access connector the functions egress through

    @property
    def result(self) -> specs.NetworkResult:
        return specs.NetworkResult(
            network_id=pulumi.Output.from_input(self.network_id),
            public_subnet_ids=pulumi.Output.from_input([]),
            private_subnet_ids=pulumi.Output.all(*self.subnet_ids).apply(list),
        )


def _connector(
    env: GcpEnv, subnet_name: pulumi.Input[str], parent: pulumi.Resource, subnet_project: str | None = None
) -> gcp.vpcaccess.Connector:
    return gcp.vpcaccess.Connector(
        "connector",
        project=env.project,
        region=env.region,
        subnet={"name": subnet_name, "project_id": subnet_project or env.project},
        machine_type="e2-standard-4" if env.context.is_prod else "e2-micro",
        min_instances=2,
        max_instances=10 if env.context.is_prod else 3,
        opts=env.opts(parent, "vpcaccess.googleapis.com", COMPUTE),
    )


def _nat(env: GcpEnv, args: specs.NetworkArgs, router: gcp.compute.Router, subnet: gcp.compute.Subnetwork,
         opts: pulumi.ResourceOptions) -> tuple[gcp.compute.RouterNat, tuple[gcp.compute.Address, ...]]:  # fmt: skip
    addresses = tuple(
        gcp.compute.Address(
            f"nat-ip-{i}",
            project=env.project,
            region=env.region,
            address_type="EXTERNAL",
            network_tier="PREMIUM",
            opts=opts,
        )
        for i in range(args.az_count if args.nat_mode == "perAz" else 0)
    )
    nat = gcp.compute.RouterNat(
        "nat",
        project=env.project,
        region=env.region,
        router=router.name,
        nat_ip_allocate_option="MANUAL_ONLY" if addresses else "AUTO_ONLY",
        nat_ips=[a.self_link for a in addresses] or None,
        source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
        subnetworks=[{"name": subnet.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}],
        min_ports_per_vm=256 if env.context.is_prod else 64,
        log_config={"enable": True, "filter": "ERRORS_ONLY"},
        opts=opts,
    )
    return nat, addresses


def _existing_network(env: GcpEnv, existing: ExistingNetwork, parent: pulumi.Resource) -> GcpNetwork:
    """shop:existingNetwork: its owner runs the subnets, router, NAT and firewall; the stack makes at
    most the connector, in the /28 subnet it is given (of the network's project: Shared VPC)."""
    network = existing.network or ""
    if existing.connector:
        return GcpNetwork(network, (), existing.connector)
    host_project = network.split("/")[1]
    connector = _connector(env, existing.connector_subnet or "", parent, host_project)
    subnet_id = f"projects/{host_project}/regions/{env.region}/subnetworks/{existing.connector_subnet}"
    return GcpNetwork(network, (subnet_id,), connector.id)


def create_network(env: GcpEnv, args: specs.NetworkArgs, parent: pulumi.Resource) -> GcpNetwork:
    if args.existing is not None and args.existing.network:
        return _existing_network(env, args.existing, parent)
    opts = env.opts(parent, COMPUTE)
    network = gcp.compute.Network(
        "vpc",
        project=env.project,
        auto_create_subnetworks=False,
        routing_mode="REGIONAL",
        description=f"{env.context.name_prefix}: functions egress",
        opts=opts,
    )
    subnet = gcp.compute.Subnetwork(
        "subnet-connector",
        project=env.project,
        region=env.region,
        network=network.id,
        ip_cidr_range=env.settings.connector_cidr,
        private_ip_google_access=True,
        log_config=gcp.compute.SubnetworkLogConfigArgs(
            aggregation_interval="INTERVAL_5_MIN", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
        ),
        opts=opts,
    )
    connector = _connector(env, subnet.name, parent)
    router = gcp.compute.Router("router", project=env.project, region=env.region, network=network.id, opts=opts)
    _nat(env, args, router, subnet, opts)
    gcp.compute.Firewall(
        "fw-deny-ingress",
        project=env.project,
        network=network.id,
        direction="INGRESS",
        priority=65534,
        source_ranges=["0.0.0.0/0"],
        denies=[{"protocol": "all"}],
        log_config={"metadata": "INCLUDE_ALL_METADATA"},
        description="Nothing reaches the VPC from outside; the connector's own rules (priority 1000) still apply",
        opts=opts,
    )
    return GcpNetwork(network.id, (subnet.id,), connector.id)
