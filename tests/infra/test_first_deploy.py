"""What a first deploy relies on: the same outputs on every cloud, the names the guides' commands
take, the Google APIs the program enables, the Azure function timeout."""

from __future__ import annotations

from urllib.parse import urlsplit

from providers.azure.functions import function_timeout
from providers.gcp.env import REQUIRED_APIS

from .conftest import BuiltStack

AZ = "azure-native:"
COMMON_OUTPUTS = {
    "cloud", "region", "environment", "siteUrl", "apiUrl", "userPoolId", "userPoolClientId", "tableName",
    "topic", "alarmTopic", "siteBucket", "parametersPath", "cdnDistributionId", "dashboard", "functionNames",
    "paymentsWebhookUrl",
}  # fmt: skip


def test_every_cloud_exports_the_common_outputs(dev: BuiltStack, az_dev: BuiltStack, gcp_dev: BuiltStack):
    for stack in (dev, az_dev, gcp_dev):
        missing = COMMON_OUTPUTS - set(stack.outputs)
        assert not missing, f"{stack.outputs['cloud']} lacks outputs {missing}"
    assert set(dev.outputs) == COMMON_OUTPUTS, "AWS has no cloud-specific outputs"
    assert set(az_dev.outputs) - COMMON_OUTPUTS == {
        "resourceGroup", "keyVault", "storageAccount", "apiManagement", "frontDoorProfile",
    }  # fmt: skip
    assert set(gcp_dev.outputs) - COMMON_OUTPUTS == {"project", "loadBalancerIp"}


def test_api_url_is_the_origin_on_every_cloud(dev: BuiltStack, az_dev: BuiltStack, gcp_dev: BuiltStack):
    # Routes are /api/...: `curl "$(pulumi stack output apiUrl)/api/health"` on every cloud.
    for stack in (dev, az_dev, gcp_dev):
        url = urlsplit(stack.outputs["apiUrl"])
        assert url.scheme == "https" and url.netloc, stack.outputs["apiUrl"]
        assert url.path == "" and not url.query, (
            f"{stack.outputs['cloud']} apiUrl has a path: {stack.outputs['apiUrl']}"
        )


def test_azure_outputs_are_the_names_of_the_resources(az_dev: BuiltStack):
    def name(typ: str, logical: str) -> str:
        return az_dev.one(AZ + typ, logical).outputs["name"]

    o = az_dev.outputs
    assert o["resourceGroup"] == name("resources:ResourceGroup", "rg")
    assert o["keyVault"] == name("keyvault:Vault", "vault")
    assert o["storageAccount"] == name("storage:StorageAccount", "site")
    assert o["apiManagement"] == name("apimanagement:ApiManagementService", "apim")
    assert o["frontDoorProfile"] == name("cdn:Profile", "afd")


def test_gcp_outputs_the_load_balancer_address_and_project(gcp_dev: BuiltStack):
    address = gcp_dev.one("gcp:compute/globalAddress:GlobalAddress", "lb-ip").outputs["address"]
    assert gcp_dev.outputs["loadBalancerIp"] == address
    assert gcp_dev.outputs["project"] == gcp_dev.config["gcp"]["project"]


def test_gcp_enables_resource_manager_and_secure_token(gcp_dev: BuiltStack):
    enabled = {r.inputs["service"] for r in gcp_dev.of_type("gcp:projects/service:Service")}
    # Project IAM bindings and get_project need Resource Manager; token refresh needs Secure Token.
    assert {"cloudresourcemanager.googleapis.com", "securetoken.googleapis.com"} <= enabled
    assert set(REQUIRED_APIS) <= enabled


def test_azure_function_apps_get_the_configured_timeout(az_dev: BuiltStack):
    expected = function_timeout(az_dev.config.get("functionTimeoutSeconds", 15))
    assert expected == "00:00:15"
    for app in az_dev.of_type(AZ + "web:WebApp"):
        settings = {s["name"]: s["value"] for s in app.inputs["siteConfig"]["appSettings"]}
        assert settings.get("AzureFunctionsJobHost__functionTimeout") == expected, app.name


def test_function_timeout_is_a_host_json_time_span():
    assert [function_timeout(s) for s in (1, 29, 61, 3661)] == ["00:00:01", "00:00:29", "00:01:01", "01:01:01"]
