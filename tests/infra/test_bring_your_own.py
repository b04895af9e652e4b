"""Escape hatch 2: bring your own network and customer-managed key (shop:existingNetwork,
shop:existingKeyId). The stack then creates none of them and wires the given ids into the
functions and everything the key encrypts; a bad value is refused with the command that fixes it."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, parse_stack_config
from functions.shop import datamodel as dm

from .azure_mocks import AZURE_DEV, build_azure_stack
from .conftest import DEV_CONFIG, BuiltStack, Resource, build_stack
from .gcp_mocks import GCP_DEV, build_gcp_stack

AWS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
AWS_NETWORK = {"vpcId": "vpc-0123456789abcdef0", "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]}
_RG = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/platform/providers"
AZURE_KEY = f"{_RG}/Microsoft.KeyVault/vaults/platform-kv/keys/shop"
_VNET = f"{_RG}/Microsoft.Network/virtualNetworks/spoke"
# One subnet per function app (a Flex Consumption subnet serves one app): every service.
AZURE_SUBNETS = {s.name: f"{_VNET}/subnets/fn-{s.name}" for s in dm.SERVICES}
AZURE_NETWORK = {"functionSubnetIds": AZURE_SUBNETS, "endpointSubnetId": f"{_VNET}/subnets/endpoints"}
GCP_KEY = "projects/shared-kms-123456/locations/europe-west1/keyRings/platform/cryptoKeys/shop"
GCP_NETWORK = {"network": "projects/host-net-123456/global/networks/shared", "connectorSubnet": "shop-connector-28"}


@pytest.fixture(scope="module")
def aws_byo() -> BuiltStack:
    return build_stack({**DEV_CONFIG, "existingKeyId": AWS_KEY, "existingNetwork": AWS_NETWORK}, "dev")


@pytest.fixture(scope="module")
def azure_byo() -> BuiltStack:
    return build_azure_stack({**AZURE_DEV, "existingKeyId": AZURE_KEY, "existingNetwork": AZURE_NETWORK}, "dev")


@pytest.fixture(scope="module")
def gcp_byo() -> BuiltStack:
    return build_gcp_stack({**GCP_DEV, "existingKeyId": GCP_KEY, "existingNetwork": GCP_NETWORK}, "dev")


def _edge(r: Resource) -> bool:
    return "aws-us-east-1" in (r.provider or "")


def test_aws_creates_no_network_and_no_key(aws_byo: BuiltStack) -> None:
    # The WAF's log key stays: CloudFront's WAF logs in us-east-1, where a key of the stack's region cannot serve.
    made = sorted(
        {
            r.type
            for r in aws_byo.resources
            if r.type.startswith(("aws:kms/", "aws:ec2/")) and "securityGroup" not in r.type and not _edge(r)
        }
    )
    assert made == [], f"with an existing VPC and key the stack still creates {made}"
    (sg,) = aws_byo.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert sg.inputs["vpcId"] == AWS_NETWORK["vpcId"], "the functions' security group must be in the given VPC"


def test_aws_functions_run_in_the_given_subnets_and_data_uses_the_given_key(aws_byo: BuiltStack) -> None:
    for fn in aws_byo.of_type("aws:lambda/function:Function"):
        assert fn.inputs["vpcConfig"]["subnetIds"] == AWS_NETWORK["subnetIds"], f"{fn.name} is not in the given subnets"
    (table,) = aws_byo.of_type("aws:dynamodb/table:Table")
    assert table.inputs["serverSideEncryption"]["kmsKeyArn"] == AWS_KEY, (
        "the table must be encrypted with the given key"
    )
    topics = [t for t in aws_byo.of_type("aws:sns/topic:Topic") if not _edge(t)]
    assert topics and all(t.inputs["kmsMasterKeyId"] == AWS_KEY for t in topics), "topics must use the given key"


def test_azure_creates_no_vnet_and_no_key(azure_byo: BuiltStack) -> None:
    network_or_key = ("virtualNetwork", "subnet", "natGateway", "publicIPAddress", "networkSecurityGroup", "key")
    made = sorted(
        {
            r.type
            for r in azure_byo.resources
            if r.type.split(":")[-1][:1].lower() + r.type.split(":")[-1][1:] in network_or_key
        }
    )
    assert made == [], f"with an existing VNet and key the stack still creates {made}"
    assert azure_byo.of_type("azure-native:keyvault:Vault"), "the stack's vault still holds its secrets"


def test_azure_apps_use_the_given_subnets_and_the_cmk_identity_the_given_key(azure_byo: BuiltStack) -> None:
    apps = {a.name: a for a in azure_byo.of_type("azure-native:web:WebApp")}
    assert apps, "no function app"
    for name, app in apps.items():
        assert app.inputs["virtualNetworkSubnetId"] in AZURE_SUBNETS.values(), f"{name} is not in a given subnet"
    assert sorted(a.inputs["virtualNetworkSubnetId"] for a in apps.values()) == sorted(AZURE_SUBNETS.values())
    grants = [g for g in azure_byo.of_type("azure-native:authorization:RoleAssignment") if g.name == "cmk-key-user"]
    assert [g.inputs["scope"] for g in grants] == [AZURE_KEY], "the CMK identity must be granted the given key"
    (account,) = azure_byo.of_type("azure-native:cosmosdb:DatabaseAccount")
    rules = sorted(r["id"] for r in account.inputs.get("virtualNetworkRules", []))
    assert rules == sorted(AZURE_SUBNETS.values()), "Cosmos DB must admit the given subnets (dev: service endpoints)"


def test_gcp_creates_no_network_and_no_key_but_the_connector(gcp_byo: BuiltStack) -> None:
    network_or_key = (
        "network:",
        "subnetwork:",
        "router:",
        "routerNat:",
        "address:",
        "firewall:",
        "keyRing:",
        "cryptoKey:",
    )
    made = sorted({r.type for r in gcp_byo.resources if r.type.split("/")[-1].startswith(network_or_key)})
    assert made == [], f"with an existing network and key the stack still creates {made}"
    (connector,) = gcp_byo.of_type("gcp:vpcaccess/connector:Connector")
    assert connector.inputs["subnet"] == {"name": "shop-connector-28", "projectId": "host-net-123456"}


def test_gcp_agents_use_the_given_key_and_functions_the_connector(gcp_byo: BuiltStack) -> None:
    grants = gcp_byo.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert grants and all(g.inputs["cryptoKeyId"] == GCP_KEY for g in grants), "agents must be granted the given key"
    (db,) = gcp_byo.of_type("gcp:firestore/database:Database")
    assert db.inputs["cmekConfig"]["kmsKeyName"] == GCP_KEY, "Firestore must be encrypted with the given key"
    with_connector = [f for f in gcp_byo.of_type("gcp:cloudfunctionsv2/function:Function")
                      if f.inputs["serviceConfig"].get("vpcConnector")]  # fmt: skip
    assert with_connector, "the functions must egress through the connector"


def test_existing_connector_means_no_network_resource_at_all() -> None:
    net = {
        "network": GCP_NETWORK["network"],
        "connector": "projects/host-net-123456/locations/europe-west1/connectors/shop",
    }
    stack = build_gcp_stack({**GCP_DEV, "existingNetwork": net}, "dev")
    network = ("network:", "subnetwork:", "router:", "routerNat:", "address:", "firewall:")
    assert not [r for r in stack.resources if r.type.split("/")[-1].startswith(network)]
    assert not stack.of_type_prefix("gcp:vpcaccess/"), "an existing connector: the stack makes none"
    fns = stack.of_type("gcp:cloudfunctionsv2/function:Function")
    assert {f.inputs["serviceConfig"]["vpcConnector"] for f in fns} == {net["connector"]}


BAD: list[tuple[dict[str, Any], str]] = [
    ({"existingKeyId": "alias/shop"}, "pulumi config set shop:existingKeyId arn:aws:kms:"),
    ({"existingKeyId": AWS_KEY.replace("eu-west-1", "us-east-1")}, "is in us-east-1, the stack in eu-west-1"),
    ({"existingNetwork": {"vpcId": "vpc-0123456789abcdef0", "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa"]}},
     "pulumi config set --path 'shop:existingNetwork.subnetIds[0]'"),
    ({"existingNetwork": {**AWS_NETWORK, "connector": "x"}}, "existingNetwork.connector is not used on aws"),
    ({"cloud": "azure", "existingKeyId": "https://platform-kv.vault.azure.net/keys/shop"},
     "pulumi config set shop:existingKeyId /subscriptions/"),
    ({"cloud": "azure", "existingNetwork": {"functionSubnetIds": {"orders": f"{_VNET}/subnets/a"}}},
     "functionSubnetIds must name one subnet per function app"),
    ({"cloud": "azure", "environment": "prod", "existingNetwork": {"functionSubnetIds": AZURE_SUBNETS}},
     "endpointSubnetId is required in prod"),
    ({"cloud": "gcp", "region": "europe-west1", "existingNetwork": {"network": "shared"}},
     "pulumi config set --path 'shop:existingNetwork.network'"),
]  # fmt: skip


@pytest.mark.parametrize(("values", "fix"), BAD)
def test_a_bad_value_names_the_command_that_fixes_it(values: dict[str, Any], fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_stack_config({**DEV_CONFIG, **values})
    assert fix in str(info.value), f"the error does not say how to fix it: {info.value}"


def test_the_default_graph_is_unchanged_by_the_options(dev: BuiltStack) -> None:
    assert dev.of_type("aws:kms/key:Key") and dev.of_type("aws:ec2/vpc:Vpc"), "without the options the stack makes both"


def test_azure_prod_puts_the_private_endpoints_in_the_given_subnet_and_links_dns_to_its_vnet() -> None:
    from .azure_mocks import AZURE_PROD

    stack = build_azure_stack({**AZURE_PROD, "existingNetwork": AZURE_NETWORK}, "prod")
    assert not stack.of_type("azure-native:network:VirtualNetwork") and not stack.of_type("azure-native:network:Subnet")
    endpoints = stack.of_type("azure-native:network:PrivateEndpoint")
    assert endpoints, "prod keeps its private endpoints"
    assert {e.inputs["subnet"]["id"] for e in endpoints} == {AZURE_NETWORK["endpointSubnetId"]}
    links = stack.of_type("azure-native:privatedns:VirtualNetworkLink")
    assert links and {link.inputs["virtualNetwork"]["id"] for link in links} == {_VNET}
