"""Azure edge: the Function Apps answer API Management only, Front Door's WAF limits sign-in
per client, its logs reach the workspace and a spike of blocks alerts, and in prod the data
services are reached through private endpoints only (Key Vault denies by default)."""

from __future__ import annotations

import pytest

from providers.azure import network
from providers.azure.api import FUNCTION_KEY_HEADER

from .azure_mocks import AZURE_PROD
from .conftest import BuiltStack

AZ = "azure-native:"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def plain(value):
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


@pytest.fixture(scope="session", params=["dev", "prod"])
def az(request: pytest.FixtureRequest, az_dev: BuiltStack, az_prod: BuiltStack) -> BuiltStack:
    return az_dev if request.param == "dev" else az_prod


# -- Function Apps: API Management only -----------------------------------------------------------


def test_every_backend_sends_its_apps_function_key_from_a_secret_named_value(az: BuiltStack):
    backends = az.of_type(AZ + "apimanagement:Backend")
    assert backends
    values = {r.inputs["displayName"]: r for r in az.of_type(AZ + "apimanagement:NamedValue")}
    for backend in backends:
        service = backend.inputs["backendId"].removeprefix("fn-")
        name = f"fn-{service}-key"
        assert backend.inputs["credentials"] == {"header": {FUNCTION_KEY_HEADER: ["{{" + name + "}}"]}}, service
        value = values[name].inputs
        assert value["secret"] is True, f"{name} must be a secret named value"
        app = az.one(AZ + "web:WebApp", f"fn-{service}")
        assert plain(value["value"]) == f"fnkey-{_h('default', app.outputs['name'], n=20)}", (
            f"{name} must hold the default function key of the {service} app"
        )


def _h(*parts: str, n: int = 8) -> str:
    from .azure_mocks import _h as mock_hash

    return mock_hash(*parts, n=n)


# -- Front Door WAF: sign-in's own limit --------------------------------------------------------


def test_sign_in_has_a_tighter_per_client_limit_evaluated_first(az: BuiltStack):
    rules = {r["name"]: r for r in az.one(AZ + "frontdoor:Policy").inputs["customRules"]["rules"]}
    auth, general = rules["RateLimitSignInPerClientIp"], rules["RateLimitPerClientIp"]
    assert auth["ruleType"] == "RateLimitRule" and auth["action"] == "Block"
    assert auth["rateLimitThreshold"] == 50 and auth["rateLimitDurationInMinutes"] == 5
    assert auth["rateLimitThreshold"] < general["rateLimitThreshold"]
    assert auth["groupBy"] == [{"variableName": "SocketAddr"}]
    (cond,) = auth["matchConditions"]
    assert (cond["matchVariable"], cond["operator"], cond["matchValue"]) == ("RequestUri", "Contains", ["/api/auth/"])
    assert auth["priority"] < general["priority"]


# -- firewall logs and the alert ----------------------------------------------------------------


def test_front_door_waf_and_access_logs_go_to_the_workspace_with_its_retention(az: BuiltStack):
    setting = az.one(AZ + "monitor:DiagnosticSetting", "afd-logs").inputs
    profile = az.one(AZ + "cdn:Profile")
    workspace = az.one(AZ + "operationalinsights:Workspace")
    assert setting["resourceUri"] == profile.outputs.get("id", setting["resourceUri"])
    assert setting["resourceUri"].endswith("/" + profile.outputs["name"])
    assert setting["workspaceId"].endswith("/" + workspace.outputs["name"])
    assert {(log["category"], log["enabled"]) for log in setting["logs"]} == {
        ("FrontDoorWebApplicationFirewallLog", True),
        ("FrontDoorAccessLog", True),
    }
    assert workspace.inputs["retentionInDays"] == max(30, az.config.get("logRetentionDays", 30))


def test_a_spike_of_blocked_requests_alerts_the_action_group(az: BuiltStack):
    alert = az.one(AZ + "monitor:MetricAlert", "alert-firewall-blocked").inputs
    profile = az.one(AZ + "cdn:Profile")
    assert alert["scopes"][0].endswith("/" + profile.outputs["name"])
    (criterion,) = alert["criteria"]["allOf"]
    assert criterion["metricName"] == "WebApplicationFirewallRequestCount"
    assert criterion["metricNamespace"] == "Microsoft.Cdn/profiles"
    assert criterion["dimensions"] == [{"name": "Action", "operator": "Include", "values": ["Block"]}]
    assert criterion["threshold"] == 100 and criterion["timeAggregation"] == "Total"
    group = az.one(AZ + "monitor:ActionGroup")
    assert alert["actions"][0]["actionGroupId"].endswith("/" + group.outputs["name"])


# -- prod: private endpoints, public access off ---------------------------------------------------


def test_prod_reaches_vault_cosmos_service_bus_and_function_storage_through_private_endpoints(az_prod: BuiltStack):
    endpoints = {r.name: r.inputs for r in az_prod.of_type(AZ + "network:PrivateEndpoint")}
    subnet = az_prod.one(AZ + "network:Subnet", "snet-endpoints")
    targets = {
        "pe-vault": (AZ + "keyvault:Vault", "vault", "vault"),
        "pe-cosmos": (AZ + "cosmosdb:DatabaseAccount", "cosmos", "Sql"),
        "pe-servicebus": (AZ + "servicebus:Namespace", "sb", "namespace"),
        **{f"pe-fnstorage-{g}": (AZ + "storage:StorageAccount", "fnhost", g) for g in ("blob", "queue", "table")},
        "pe-fnpackages-blob": (AZ + "storage:StorageAccount", "fnpkg", "blob"),
        # the media functions ask the uploads account for user delegation keys
        "pe-uploads-blob": (AZ + "storage:StorageAccount", "uploads", "blob"),
    }
    assert set(endpoints) == set(targets)
    zones = {r.inputs["privateZoneName"]: r for r in az_prod.of_type(AZ + "privatedns:PrivateZone")}
    groups = {r.inputs["privateEndpointName"]: r.inputs for r in az_prod.of_type(AZ + "network:PrivateDnsZoneGroup")}
    vnet = az_prod.one(AZ + "network:VirtualNetwork").outputs["name"]
    links = {
        r.inputs["privateZoneName"]
        for r in az_prod.of_type(AZ + "privatedns:VirtualNetworkLink")
        if r.inputs["virtualNetwork"]["id"].endswith("/" + vnet) and r.inputs["registrationEnabled"] is False
    }
    for name, (typ, logical, group) in targets.items():
        ep = endpoints[name]
        assert ep["subnet"]["id"].endswith("/" + subnet.outputs["name"]), name
        (conn,) = ep["privateLinkServiceConnections"]
        target = az_prod.one(typ, logical)
        assert conn["privateLinkServiceId"].endswith("/" + target.outputs["name"]), name
        assert conn["groupIds"] == [group]
        zone = network.ZONES[group]
        assert zone in zones and zones[zone].outputs["name"] in links, f"{name}: no private DNS zone {zone} on the VNet"
        endpoint_name = az_prod.one(AZ + "network:PrivateEndpoint", name).outputs["name"]
        (config,) = groups[endpoint_name]["privateDnsZoneConfigs"]
        assert config["privateDnsZoneId"].endswith("/" + zones[zone].outputs["name"])


def test_prod_data_services_refuse_public_traffic_and_key_vault_denies_by_default(az_prod: BuiltStack):
    allowed = AZURE_PROD["azure"]["deployerIpRanges"]
    cosmos = az_prod.one(AZ + "cosmosdb:DatabaseAccount").inputs
    assert cosmos["publicNetworkAccess"] == "Disabled"
    sb = az_prod.one(AZ + "servicebus:Namespace").inputs
    assert sb["publicNetworkAccess"] == "Disabled"
    assert sb["sku"]["name"] == "Premium", "Service Bus Standard has no private endpoints"
    acls = az_prod.one(AZ + "keyvault:Vault").inputs["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny" and acls["bypass"] == "AzureServices"
    assert [r["value"] for r in acls["ipRules"]] == allowed
    rules = az_prod.one(AZ + "storage:StorageAccount", "fnpkg").inputs["networkRuleSet"]
    assert rules["defaultAction"] == "Deny" and rules["bypass"] == "AzureServices"
    assert [r["iPAddressOrRange"] for r in rules["ipRules"]] == allowed


def test_dev_stays_public_and_cheap(az_dev: BuiltStack):
    assert not az_dev.of_type(AZ + "network:PrivateEndpoint")
    assert az_dev.one(AZ + "servicebus:Namespace").inputs["sku"]["name"] == "Standard"
    assert az_dev.one(AZ + "keyvault:Vault").inputs["properties"]["networkAcls"]["defaultAction"] == "Allow"


# -- headers ------------------------------------------------------------------------------------


def test_every_route_sends_the_security_headers_with_a_csp_naming_no_storage_host(az: BuiltStack):
    rule = az.one(AZ + "cdn:Rule", "rule-security-headers").inputs
    assert rule.get("conditions") in (None, []), "the headers go on every response"
    headers = {a["parameters"]["headerName"]: a["parameters"] for a in rule["actions"]}
    assert all(a["name"] == "ModifyResponseHeader" for a in rule["actions"])
    assert all(p["headerAction"] == "Overwrite" for p in headers.values())
    assert set(headers) == {
        "Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
        "Referrer-Policy",
    }  # fmt: skip
    csp = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"]["value"].split(";"))
    # The admins' uploads go to the shop's own origin (Front Door's uploads route).
    stripe = " https://api.stripe.com" if az.config.get("stripePublishableKey") else ""  # card entry
    assert csp["connect-src"] == f"'self'{stripe}", "the storefront connects to its own origin (and Stripe) only"
    assert "core.windows.net" not in headers["Content-Security-Policy"]["value"]
    assert csp["frame-ancestors"] == "'none'"
    assert "*" not in headers["Content-Security-Policy"]["value"]
    rule_set = az.one(AZ + "cdn:RuleSet", "rules-headers")
    for route in az.of_type(AZ + "cdn:Route"):
        ids = [r["id"] for r in route.inputs.get("ruleSets") or []]
        assert any(i.endswith("/" + rule_set.outputs["name"]) for i in ids), route.name
