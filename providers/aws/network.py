"""VPC over N availability zones: public subnets (NAT, IGW), private subnets (functions),
NAT gateway(s) per nat_mode, gateway endpoints for DynamoDB and S3, the functions' security
group, flow logs, and a locked-down default security group.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import EncryptionResult, NetworkArgs, NetworkResult
from providers.aws.env import AwsEnv
from providers.aws.iam import assume_role_policy, policy_document
from providers.base import Parent

# /20 per subnet: room for Lambda's network interfaces in each private subnet.
_SUBNET_PREFIX = 20
# Private subnets start at this /20 index so public and private ranges never collide.
_PRIVATE_OFFSET = 8


@dataclass(frozen=True)
class AwsNetwork:
    vpc_id: pulumi.Input[str]
    function_security_group: aws.ec2.SecurityGroup
    public_subnet_ids: tuple[pulumi.Input[str], ...]
    private_subnet_ids: tuple[pulumi.Input[str], ...]  # where the functions run

    @property
    def result(self) -> NetworkResult:
        return NetworkResult(
            network_id=pulumi.Output.from_input(self.vpc_id),
            public_subnet_ids=pulumi.Output.all(*self.public_subnet_ids),
            private_subnet_ids=pulumi.Output.all(*self.private_subnet_ids),
        )


def create_network(env: AwsEnv, args: NetworkArgs, parent: Parent) -> AwsNetwork:
    if args.existing is not None and args.existing.vpc_id:
        # shop:existingNetwork: its owner runs the subnets, routes, NAT and flow logs; the stack adds
        # only the functions' own security group.
        vpc_id = args.existing.vpc_id
        return AwsNetwork(vpc_id, _function_security_group(env, vpc_id, parent), (), args.existing.subnet_ids)
    opts = env.opts(parent)
    zones = _zones(env, args, parent)
    blocks = [str(b) for b in ipaddress.ip_network(args.cidr_block).subnets(new_prefix=_SUBNET_PREFIX)]
    if args.az_count > _PRIVATE_OFFSET:
        raise ValueError(f"at most {_PRIVATE_OFFSET} availability zones fit the {args.cidr_block} layout")

    vpc = aws.ec2.Vpc("vpc", cidr_block=args.cidr_block, enable_dns_hostnames=True, enable_dns_support=True, opts=opts)
    # The default security group allows all traffic between its members: empty it (CIS 5.4).
    aws.ec2.DefaultSecurityGroup("default-sg", vpc_id=vpc.id, ingress=[], egress=[], opts=opts)
    igw = aws.ec2.InternetGateway("igw", vpc_id=vpc.id, opts=opts)
    public_rt = aws.ec2.RouteTable("public-rt", vpc_id=vpc.id, opts=opts)
    aws.ec2.Route("public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
                  gateway_id=igw.id, opts=opts)  # fmt: skip

    built: list[_Zone] = []
    for i in range(args.az_count):
        # "perAz": one NAT per zone, so losing a zone never cuts the others' egress.
        # "single": one shared NAT in the first zone (cheaper; dev).
        own_nat = args.nat_mode == "perAz" or i == 0
        shared_nat = None if own_nat else built[-1].nat_gateway
        built.append(_zone(env, i, zones[i], vpc, blocks, public_rt, igw, shared_nat, parent))

    _gateway_endpoints(env, vpc, [z.route_table for z in built], parent)
    function_sg = _function_security_group(env, vpc.id, parent)
    _flow_logs(env, vpc, args.encryption, parent)
    return AwsNetwork(vpc.id, function_sg, tuple(z.public.id for z in built), tuple(z.private.id for z in built))


def _zones(env: AwsEnv, args: NetworkArgs, parent: Parent) -> list[str]:
    # A plain (blocking) invoke: the zone count decides how many subnets exist, so it must be
    # known while the program runs, and a too-small region fails before anything is created.
    zones = sorted(aws.get_availability_zones(state="available", opts=env.invoke_opts(parent)).names)
    if len(zones) < args.az_count:
        raise ValueError(
            f"shop:azCount is {args.az_count} but {env.region} has only {len(zones)} available zones: "
            f"set `pulumi config set shop:azCount {len(zones)}`"
        )
    return zones


@dataclass(frozen=True)
class _Zone:
    public: aws.ec2.Subnet
    private: aws.ec2.Subnet
    route_table: aws.ec2.RouteTable  # the private subnet's
    nat_gateway: aws.ec2.NatGateway  # the zone's own, or the shared one


def _zone(
    env: AwsEnv,
    i: int,
    zone: str,
    vpc: aws.ec2.Vpc,
    blocks: list[str],  # the CIDR blocks of the layout, in order
    public_rt: aws.ec2.RouteTable,
    igw: aws.ec2.InternetGateway,
    shared_nat: aws.ec2.NatGateway | None,
    parent: Parent,
) -> _Zone:
    """Zone `i`: a public subnet (NAT only), a private subnet whose default route is a NAT
    (its own, or `shared_nat` when given)."""
    opts = env.opts(parent)
    public = aws.ec2.Subnet(
        f"public-{i}",
        vpc_id=vpc.id,
        cidr_block=blocks[i],
        availability_zone=zone,
        map_public_ip_on_launch=False,  # only NAT gateways live here; nothing gets a public IP
        tags={"tier": "public"},
        opts=opts,
    )
    aws.ec2.RouteTableAssociation(f"public-{i}", subnet_id=public.id, route_table_id=public_rt.id, opts=opts)
    private = aws.ec2.Subnet(
        f"private-{i}",
        vpc_id=vpc.id,
        cidr_block=blocks[_PRIVATE_OFFSET + i],
        availability_zone=zone,
        tags={"tier": "private"},
        opts=opts,
    )
    nat = shared_nat
    if nat is None:
        eip = aws.ec2.Eip(f"nat-{i}", domain="vpc", opts=opts)
        nat = aws.ec2.NatGateway(
            f"nat-{i}", allocation_id=eip.id, subnet_id=public.id, opts=env.opts(parent, depends_on=[igw])
        )
    rt = aws.ec2.RouteTable(f"private-rt-{i}", vpc_id=vpc.id, opts=opts)
    aws.ec2.Route(f"private-default-{i}", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                  nat_gateway_id=nat.id, opts=opts)  # fmt: skip
    aws.ec2.RouteTableAssociation(f"private-{i}", subnet_id=private.id, route_table_id=rt.id, opts=opts)
    return _Zone(public, private, rt, nat)


def _gateway_endpoints(env: AwsEnv, vpc: aws.ec2.Vpc, route_tables: list[aws.ec2.RouteTable], parent: Parent) -> None:
    # DynamoDB and S3 traffic stays on the AWS network and costs no NAT processing.
    for service in ("dynamodb", "s3"):
        aws.ec2.VpcEndpoint(
            f"{service}-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{env.region}.{service}",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in route_tables],
            opts=env.opts(parent),
        )


def _function_security_group(env: AwsEnv, vpc_id: pulumi.Input[str], parent: Parent) -> aws.ec2.SecurityGroup:
    # Functions accept no inbound traffic and call AWS APIs over HTTPS only.
    return aws.ec2.SecurityGroup(
        "functions-sg",
        vpc_id=vpc_id,
        description="Shop functions: no inbound, HTTPS out",
        egress=[
            aws.ec2.SecurityGroupEgressArgs(
                description="HTTPS to AWS APIs (endpoints and NAT)",
                protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_blocks=["0.0.0.0/0"],
            )
        ],
        opts=env.opts(parent),
    )


def _flow_logs(env: AwsEnv, vpc: aws.ec2.Vpc, encryption: EncryptionResult | None, parent: Parent) -> None:
    """Rejected and accepted flows to an encrypted log group (audit trail of network traffic)."""
    opts = env.opts(parent)
    log_group = aws.cloudwatch.LogGroup(
        "flow-logs",
        retention_in_days=90 if env.context.is_prod else 14,
        kms_key_id=encryption.key_id if encryption else None,
        opts=opts,
    )
    role = aws.iam.Role("flow-logs", assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"), opts=opts)
    aws.iam.RolePolicy(
        "flow-logs",
        role=role.id,
        policy=log_group.arn.apply(
            lambda arn: policy_document(
                {
                    "Sid": "WriteFlowLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    "Resource": [arn, f"{arn}:*"],
                }
            )
        ),
        opts=opts,
    )
    aws.ec2.FlowLog(
        "vpc",
        vpc_id=vpc.id,
        traffic_type="ALL",
        log_destination_type="cloud-watch-logs",
        log_destination=log_group.arn,
        iam_role_arn=role.arn,
        max_aggregation_interval=600,
        opts=opts,
    )
