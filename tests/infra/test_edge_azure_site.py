"""Azure storefront origin: in prod (Front Door Premium) the site account refuses the internet
and Front Door reaches it through Private Link; the admins' uploads live in a separate
account that needs no CORS (browsers upload to the shop's own origin, through Front Door;
test_edge_azure_uploads.py), and no function identity can write the site. Dev (Front Door
Standard, no Private Link) keeps a public static-website origin."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from functions.shop import datamodel
from providers.azure import iam, static_site
from providers.azure.env import AzureEnv
from providers.azure.settings import parse_azure_settings

from .azure_mocks import AZURE_PROD, front_door_origins, storage_account_id
from .conftest import BuiltStack

AZ = "azure-native:"
T_ACCOUNT = AZ + "storage:StorageAccount"


@pytest.fixture(scope="session", params=["dev", "prod"])
def az(request: pytest.FixtureRequest, az_dev: BuiltStack, az_prod: BuiltStack) -> BuiltStack:
    return az_dev if request.param == "dev" else az_prod


# -- the site account -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["site", "uploads"])
def test_prod_storage_accounts_refuse_the_internet(az_prod: BuiltStack, name: str):
    """Both accounts Front Door reads (the uploads account is written through it too)."""
    account = az_prod.one(T_ACCOUNT, name).inputs
    rules = account["networkRuleSet"]
    assert rules["defaultAction"] == "Deny", f"prod's {name} account must deny by default (Front Door: Private Link)"
    assert rules["bypass"] == "None", f"no trusted-service exception: only private endpoints reach the {name} account"
    assert not rules.get("virtualNetworkRules")
    # Only the deployer's addresses (Pulumi sets the static-website property and uploads the
    # site files through the blob data plane); with none, public access is off.
    allowed = [r["iPAddressOrRange"] for r in rules.get("ipRules", [])]
    assert allowed == list(AZURE_PROD["azure"]["deployerIpRanges"])
    assert account["publicNetworkAccess"] == "Enabled"


def test_prod_site_account_without_deployer_addresses_disables_public_network_access():
    for ranges, want in (([], "Disabled"), (["203.0.113.7"], "Enabled")):
        settings = parse_azure_settings({**AZURE_PROD["azure"], "deployerIpRanges": ranges})
        env = cast(AzureEnv, SimpleNamespace(settings=settings, context=SimpleNamespace(is_prod=True)))
        rules, public = static_site.front_door_only_network(env)
        assert public == want, f"deployerIpRanges={ranges}: public network access must be {want}"
        assert rules is not None and rules.default_action == "Deny"


def test_prod_front_door_reaches_the_site_over_private_link(az_prod: BuiltStack):
    account = az_prod.one(T_ACCOUNT, "site")
    account_id = storage_account_id(az_prod, "site")
    site = front_door_origins(az_prod)["site"]
    link = site.get("sharedPrivateLinkResource")
    assert link, "prod's site origin must use Front Door Premium's Private Link, not the public endpoint"
    assert link["groupId"] == static_site.STATIC_WEBSITE_GROUP == "web"
    assert link["privateLink"]["id"] == account_id, "the private link must target the site account"
    assert link["privateLinkLocation"] == az_prod.config["region"]
    assert link["requestMessage"]
    assert site["hostName"] == f"{account.outputs['name']}.z6.web.core.windows.net"
    assert az_prod.one(AZ + "cdn:Profile").inputs["sku"]["name"] == static_site.PREMIUM


def test_dev_keeps_the_public_static_website_origin(az_dev: BuiltStack):
    """Front Door Standard has no Private Link: the gap README's security section states."""
    assert az_dev.one(AZ + "cdn:Profile").inputs["sku"]["name"] == "Standard_AzureFrontDoor"
    assert "sharedPrivateLinkResource" not in front_door_origins(az_dev)["site"]
    site = az_dev.one(T_ACCOUNT, "site").inputs
    assert site["publicNetworkAccess"] == "Enabled" and site["networkRuleSet"]["defaultAction"] == "Allow"


# -- the uploads account --------------------------------------------------------------------


def test_uploads_are_a_separate_account_served_under_media(az: BuiltStack):
    uploads = az.one(T_ACCOUNT, "uploads")
    assert storage_account_id(az, "uploads") != storage_account_id(az, "site")
    routes = {r.name: r.inputs for r in az.of_type(AZ + "cdn:Route")}
    assert routes["route-media"]["patternsToMatch"] == ["/" + datamodel.MEDIA_PREFIX + "*"]
    assert routes["route-media"]["httpsRedirect"] == "Enabled"
    assert routes["route-media"]["forwardingProtocol"] == "HttpsOnly"
    media = front_door_origins(az)["media"]
    assert media["hostName"] == f"{uploads.outputs['name']}.z6.web.core.windows.net"
    # The WAF covers every path of the endpoint, /media/* included.
    associations = az.one(AZ + "cdn:SecurityPolicy").inputs["parameters"]["associations"]
    assert associations[0]["patternsToMatch"] == ["/*"]


def test_no_storage_account_admits_a_cross_origin_browser(az: BuiltStack):
    """Browsers upload to the shop's own origin (Front Door's uploads route): no CORS anywhere."""
    services = {r.name: r.inputs for r in az.of_type(AZ + "storage:BlobServiceProperties")}
    uploads = az.one(T_ACCOUNT, "uploads").outputs["name"]
    assert services["uploads-blob-service"]["accountName"] == uploads
    assert services["uploads-blob-service"]["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    for name in ("uploads-blob-service", "site-blob-service"):
        assert "cors" not in services[name], f"{name}: no browser calls a storage host cross-origin"


def test_functions_write_only_the_uploads_container_never_the_site(az: BuiltStack):
    site_id, uploads_id = storage_account_id(az, "site"), storage_account_id(az, "uploads")
    principals = {r.outputs["principalId"] for r in az.of_type(AZ + "managedidentity:UserAssignedIdentity")}
    storage_roles = {iam.STORAGE_BLOB_DATA_CONTRIBUTOR, iam.STORAGE_BLOB_DATA_OWNER, iam.STORAGE_BLOB_DELEGATOR}
    for r in az.of_type(AZ + "authorization:RoleAssignment"):
        if r.inputs["principalId"] not in principals:
            continue
        scope, role = r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        assert not scope.startswith(site_id), f"{r.name}: a function identity holds a role on the site account"
        if role == iam.STORAGE_BLOB_DELEGATOR:
            assert scope == uploads_id, f"{r.name}: user-delegation SAS only on the uploads account"
        elif role in storage_roles and scope.startswith(uploads_id):
            assert scope == f"{uploads_id}/blobServices/default/containers/$web", r.name
            assert f"StringStartsWith '{datamodel.MEDIA_PREFIX}'" in r.inputs["condition"], r.name
    settings = {
        s["name"]: s["value"] for a in az.of_type(AZ + "web:WebApp") for s in a.inputs["siteConfig"]["appSettings"]
    }
    uploads = az.one(T_ACCOUNT, "uploads").outputs["name"]
    assert settings[datamodel.AzureSettingNames.STORAGE_ACCOUNT] == uploads, (
        "SAS must be signed for the uploads account"
    )
