"""The Azure program under mocks (dev and prod): every component, real property values."""

from __future__ import annotations

import re

import pytest

from functions.shop import datamodel
from functions.shop.routes import ADMIN, CUSTOMER, PUBLIC, ROUTES
from providers.azure import iam
from providers.azure.settings import AzureSettingsError, parse_azure_settings

from .azure_mocks import ADMIN_USER, AZURE_DEV, CLIENT_ID, DEPLOYER, EXTERNAL_TENANT, SUBSCRIPTION, build_azure_stack
from .conftest import BuiltStack

COMPONENTS = (
    "Shop", "Encryption", "Network", "Database", "Notifications", "Auth", "StaticSite",
    "Functions", "Api", "Cdn", "Configuration", "Monitoring",
)  # fmt: skip
AZ = "azure-native:"
T_RA = AZ + "authorization:RoleAssignment"
T_COSMOS_RA = AZ + "cosmosdb:SqlResourceSqlRoleAssignment"


def storefront_client_id(az: BuiltStack) -> str:
    """dev creates the app registrations, prod references hand-made ones (azure_mocks)."""
    apps = az.of_type("azuread:index/application:Application")
    return next(a.outputs["clientId"] for a in apps if a.name == "entra-storefront") if apps else CLIENT_ID


def api_audience(az: BuiltStack) -> str:
    apps = az.of_type("azuread:index/application:Application")
    return next(a.outputs["clientId"] for a in apps if a.name == "entra-api") if apps else CLIENT_ID


@pytest.fixture(scope="session", params=["dev", "prod"])
def az(request: pytest.FixtureRequest, az_dev: BuiltStack, az_prod: BuiltStack) -> BuiltStack:
    return az_dev if request.param == "dev" else az_prod


# -- whole stack ----------------------------------------------------------------------------


def test_every_component_once(az: BuiltStack):
    counts = az.counts()
    for name in COMPONENTS:
        assert counts[f"shop:components:{name}"] == 1, name
    for key in ("siteUrl", "apiUrl", "userPoolId", "userPoolClientId", "tableName", "alarmTopic"):
        assert az.outputs.get(key), key
    assert az.outputs["userPoolId"] == EXTERNAL_TENANT
    assert az.outputs["userPoolClientId"] == storefront_client_id(az)
    assert az.outputs["tableName"] == datamodel.COSMOS_CONTAINER.name


def test_every_azure_resource_is_parented_to_a_component(az: BuiltStack):
    orphans = [(r.type, r.name) for r in az.resources
               if r.type.startswith(AZ) and not (r.parent_type or "").startswith("shop:components:")]  # fmt: skip
    assert not orphans


def test_resource_counts(az_dev: BuiltStack, az_prod: BuiltStack):
    n_services, n_routes = len(datamodel.SERVICES), len(ROUTES)
    http_services = sum(1 for s in datamodel.SERVICES if s.trigger == "http")
    for stack in (az_dev, az_prod):
        c = stack.counts()
        assert c[AZ + "web:WebApp"] == n_services
        assert c[AZ + "web:AppServicePlan"] == n_services
        assert c[AZ + "managedidentity:UserAssignedIdentity"] == n_services + 1  # + the CMK identity
        assert c[AZ + "network:Subnet"] == n_services + 1
        assert c[AZ + "apimanagement:ApiOperation"] == n_routes
        assert c[AZ + "apimanagement:ApiOperationPolicy"] == n_routes
        assert c[AZ + "apimanagement:Backend"] == http_services
        assert c[AZ + "monitor:MetricAlert"] == http_services + 7  # + the firewall's blocked requests
        assert c[AZ + "resources:ResourceGroup"] == 1
    assert az_prod.counts()[AZ + "cdn:AFDCustomDomain"] == 1
    assert az_dev.counts()[AZ + "cdn:AFDCustomDomain"] == 0
    assert len(az_dev.resources) - az_dev.counts()[AZ + "storage:Blob"] > 150


def test_everything_taggable_is_tagged(az_prod: BuiltStack):
    untagged = [(r.type, r.name) for r in az_prod.resources if "tags" in r.inputs and not r.inputs["tags"]]
    assert not untagged
    rg = az_prod.one(AZ + "resources:ResourceGroup")
    assert rg.inputs["tags"]["costCenter"] == "shop-42" and rg.inputs["tags"]["owner"] == "platform-team"
    for typ in ("keyvault:Vault", "cosmosdb:DatabaseAccount", "storage:StorageAccount", "web:WebApp",
                "cdn:Profile", "frontdoor:Policy", "servicebus:Namespace", "monitor:MetricAlert"):  # fmt: skip
        for r in az_prod.of_type(AZ + typ):
            assert r.inputs["tags"]["environment"] == "prod", (typ, r.name)


# Types whose SDK class takes `tags` that the stack leaves untagged on purpose.
NOT_ARM_TAGGED = {
    AZ + "apimanagement:NamedValue": "its `tags` are API Management labels (a list), not ARM tags",
    AZ + "notificationhubs:NotificationHubAuthorizationRule": "the hub's SAS rule, a sub-resource of the tagged hub",
}


def test_every_type_that_takes_tags_gets_them_from_the_one_transformation(az_dev: BuiltStack, az_prod: BuiltStack):
    """Tags are added once, by providers/azure/env.py's stack transformation, to the types on
    policy.rules.AZURE_TAGGED: a type whose SDK class takes tags but is missing from that list
    would go out untagged, so every such type the program creates must be on it."""
    import importlib
    import inspect

    from policy.rules import AZURE_TAGGED

    for stack in (az_dev, az_prod):
        for typ in sorted({r.type for r in stack.resources if r.type.startswith(AZ)}):
            _, module, name = typ.split(":")
            cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
            if "tags" not in inspect.signature(cls._internal_init).parameters:
                continue
            assert typ in AZURE_TAGGED or typ in NOT_ARM_TAGGED, f"{typ} takes tags but AZURE_TAGGED lacks it"
            for r in stack.of_type(typ):
                if typ in AZURE_TAGGED:
                    assert r.inputs["tags"]["managed-by"] == "pulumi", (typ, r.name, r.inputs.get("tags"))


def test_a_step_before_its_inputs_names_the_missing_step():
    from providers.azure.provider import Built

    with pytest.raises(RuntimeError, match=r"functions\(\) needs database\(\) first"):
        Built().need_database("functions")


# -- encryption / configuration ---------------------------------------------------------------


def test_key_vault_rbac_and_purge_protection(az_dev: BuiltStack, az_prod: BuiltStack):
    prod = az_prod.one(AZ + "keyvault:Vault").inputs["properties"]
    dev = az_dev.one(AZ + "keyvault:Vault").inputs["properties"]
    assert prod["enableRbacAuthorization"] is True and prod["enablePurgeProtection"] is True
    assert dev["enableRbacAuthorization"] is True and "enablePurgeProtection" not in dev
    key = az_prod.one(AZ + "keyvault:Key").inputs["properties"]
    assert key["kty"] == "RSA" and key["rotationPolicy"]["lifetimeActions"][0]["action"]["type"] == "rotate"


def test_settings_are_key_vault_secrets(az: BuiltStack):
    secrets = {r.inputs["secretName"]: r for r in az.of_type(AZ + "keyvault:Secret")}
    prefix = f"shop-{az.stack}-"
    assert f"{prefix}alertEmail" in secrets and f"{prefix}tableName" in secrets
    assert all(name.startswith(prefix) and re.fullmatch(r"[A-Za-z0-9-]+", name) for name in secrets)


# -- network --------------------------------------------------------------------------------


def test_function_subnets_are_delegated_with_nat_and_nsg(az: BuiltStack):
    nat = az.one(AZ + "network:NatGateway")
    assert nat.inputs["sku"]["name"] == "Standard"
    fn_subnets = [r for r in az.of_type(AZ + "network:Subnet") if r.name.startswith("snet-fn-")]
    assert len(fn_subnets) == len(datamodel.SERVICES)
    for s in fn_subnets:
        assert s.inputs["delegations"][0]["serviceName"] == "Microsoft.App/environments"
        assert s.inputs["natGateway"]["id"] and s.inputs["networkSecurityGroup"]["id"]
        assert s.inputs["defaultOutboundAccess"] is False
    pip = az.one(AZ + "network:PublicIPAddress")
    assert len(pip.inputs["zones"]) == min(az.config.get("azCount", 2), 3)


# -- database -------------------------------------------------------------------------------


def test_cosmos_serverless_tls12_no_local_auth(az: BuiltStack):
    acct = az.one(AZ + "cosmosdb:DatabaseAccount").inputs
    assert acct["capabilities"] == [{"name": "EnableServerless"}]
    assert acct["minimalTlsVersion"] == "Tls12"
    assert acct["disableLocalAuth"] is True
    if az.stack == "prod":  # a private endpoint only (test_edge_azure.py)
        assert acct["publicNetworkAccess"] == "Disabled" and not acct.get("virtualNetworkRules")
    else:
        assert acct["isVirtualNetworkFilterEnabled"] is True
        assert len(acct["virtualNetworkRules"]) == len(datamodel.SERVICES)
    container = az.one(AZ + "cosmosdb:SqlResourceSqlContainer").inputs["resource"]
    assert container["id"] == datamodel.COSMOS_CONTAINER.name
    assert container["partitionKey"]["paths"] == [datamodel.COSMOS_CONTAINER.partition_key_path]
    assert container["defaultTtl"] == datamodel.COSMOS_CONTAINER.default_ttl


# -- notifications --------------------------------------------------------------------------


def test_service_bus_subscription_dead_letters(az: BuiltStack):
    ns = az.one(AZ + "servicebus:Namespace").inputs
    assert ns["disableLocalAuth"] is True and ns["minimumTlsVersion"] == "1.2"
    topic = az.one(AZ + "servicebus:Topic").inputs
    sub = az.one(AZ + "servicebus:Subscription").inputs
    assert topic["topicName"] == datamodel.ORDER_EVENTS_TOPIC
    assert sub["subscriptionName"] == datamodel.NOTIFICATIONS_QUEUE
    assert sub["maxDeliveryCount"] == datamodel.NOTIFICATION_MAX_RECEIVES
    assert sub["deadLetteringOnMessageExpiration"] is True
    acs = az.one(AZ + "communication:CommunicationService").inputs
    assert acs["disableLocalAuth"] is True and len(acs["linkedDomains"]) == 1
    assert az.one(AZ + "notificationhubs:NotificationHub")


def test_the_notification_hub_forwards_to_fcm_v1_with_the_configured_service_account(
    az_dev: BuiltStack, az_prod: BuiltStack
):
    from pulumi.runtime import rpc

    from .azure_mocks import FCM_SERVICE_ACCOUNT

    hub = az_prod.one(AZ + "notificationhubs:NotificationHub").inputs
    credential = {
        "clientEmail": FCM_SERVICE_ACCOUNT["client_email"],
        "privateKey": FCM_SERVICE_ACCOUNT["private_key"],
        "projectId": FCM_SERVICE_ACCOUNT["project_id"],
    }
    assert hub["fcmV1Credential"] == {rpc._special_sig_key: rpc._special_secret_sig, "value": credential}, (
        "the key file's account, sent as a Pulumi secret (its private key is)"
    )
    assert "gcmCredential" not in hub, "no legacy FCM credentials (Google turned that API off)"
    assert "fcmV1Credential" not in az_dev.one(AZ + "notificationhubs:NotificationHub").inputs, (
        "dev without shop:fcmCredentials: a hub without FCM credentials (push not delivered, warned)"
    )


# -- static site ----------------------------------------------------------------------------


def test_storage_is_https_tls12_keyless_private(az: BuiltStack):
    for acct in az.of_type(AZ + "storage:StorageAccount"):
        i = acct.inputs
        assert i["enableHttpsTrafficOnly"] is True
        assert i["minimumTlsVersion"] == "TLS1_2"
        assert i["allowBlobPublicAccess"] is False
        # Shared keys only for Pulumi's Blob uploads (azure-native uses ListKeys); Entra by default.
        assert i["allowSharedKeyAccess"] is True and i["defaultToOAuthAuthentication"] is True
        assert i["sasPolicy"] == {"sasExpirationPeriod": "00.01:00:00", "expirationAction": "Block"}
        assert i["allowCrossTenantReplication"] is False
        assert i["encryption"]["requireInfrastructureEncryption"] is True
        if az.stack == "prod":  # CMK needs a purge-protected vault: prod only
            assert i["encryption"]["keySource"] == "Microsoft.Keyvault"
            assert i["encryption"]["keyVaultProperties"]["keyVaultUri"].endswith(".vault.azure.net/")
            assert i["identity"]["type"] == "UserAssigned"
        else:
            assert i["encryption"]["keySource"] == "Microsoft.Storage"
    assert az.one(AZ + "storage:StorageAccountStaticWebsite", "site-website").inputs["indexDocument"] == "index.html"
    blobs = {
        b.inputs["blobName"]: b for b in az.of_type(AZ + "storage:Blob") if b.inputs.get("containerName") == "$web"
    }
    assert blobs["index.html"].inputs["contentType"].startswith("text/html")
    assert blobs["config.json"].inputs["contentType"] == "application/json"


# -- functions ------------------------------------------------------------------------------


def _settings(app) -> dict[str, str]:
    return {s["name"]: s["value"] for s in app.inputs["siteConfig"]["appSettings"]}


def test_function_apps_flex_https_tls_vnet_identity(az: BuiltStack):
    for app in az.of_type(AZ + "web:WebApp"):
        i = app.inputs
        assert i["httpsOnly"] is True and i["siteConfig"]["minTlsVersion"] == "1.2"
        assert i["siteConfig"]["ftpsState"] == "Disabled"
        assert i["virtualNetworkSubnetId"]
        assert i["identity"]["type"] == "UserAssigned" and len(i["identity"]["userAssignedIdentities"]) == 1
        assert i["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.12"}
        assert i["functionAppConfig"]["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    plans = az.of_type(AZ + "web:AppServicePlan")
    assert {p.inputs["sku"]["name"] for p in plans} == {"FC1"}


def test_app_settings_are_what_the_runtime_reads(az: BuiltStack):
    from components.functions import ENV_NAMES

    apps = {a.name.removeprefix("fn-"): a for a in az.of_type(AZ + "web:WebApp")}
    for name, app in apps.items():
        s = _settings(app)
        assert set(s) >= ENV_NAMES, ENV_NAMES - set(s)
        assert s[datamodel.ENV_TOPIC] == datamodel.ORDER_EVENTS_TOPIC
        assert s[datamodel.ENV_BUCKET] == "$web"
        assert s[datamodel.AzureSettingNames.COSMOS_ENDPOINT].startswith("https://")
        assert s[datamodel.AzureSettingNames.COSMOS_DATABASE] == "shop"
        assert s[datamodel.AzureSettingNames.SERVICEBUS_NAMESPACE].endswith(".servicebus.windows.net")
        assert (
            s[datamodel.AzureSettingNames.IDENTITY_AUTHORITY]
            == f"https://shopcustomers.ciamlogin.com/{EXTERNAL_TENANT}"
        )
        assert s[datamodel.TokenEnv.JWKS_URL].endswith("/discovery/v2.0/keys")
        assert s["AZURE_CLIENT_ID"] == s["AzureWebJobsStorage__clientId"]
        assert datamodel.AzureSettingNames.COSMOS_KEY not in s  # managed identity only
        expected = {"notifications": "notifications", "expiry": "expiry"}.get(name, "http")
        assert s[datamodel.AzureSettingNames.TRIGGERS] == expected
        # only the expiry app runs a timer, every EXPIRY_SCHEDULE_MINUTES (NCRONTAB, seconds first)
        schedule = s.get(datamodel.AzureSettingNames.EXPIRY_SCHEDULE)
        assert schedule == ("0 */15 * * * *" if name == "expiry" else None), (name, schedule)
    n = _settings(apps["notifications"])
    assert n[datamodel.AzureSettingNames.SUBSCRIPTION] == datamodel.NOTIFICATIONS_QUEUE
    assert n[datamodel.AzureSettingNames.SERVICEBUS_CONNECTION].endswith(".servicebus.windows.net")
    assert n[datamodel.AzureSettingNames.IDENTITY_CLIENT_SECRET].startswith("@Microsoft.KeyVault(SecretUri=https://")
    assert datamodel.AzureSettingNames.IDENTITY_CLIENT_SECRET not in _settings(apps["catalog"])
    assert n[datamodel.AzureSettingNames.NOTIFICATION_HUB].endswith(".servicebus.windows.net/" + az.one(
        AZ + "notificationhubs:NotificationHub").outputs["name"])  # fmt: skip
    assert n[datamodel.AzureSettingNames.NOTIFICATION_HUB_KEY].endswith(
        "/secrets/shop-" + az.stack + "-notificationHubKey/)"
    )
    assert datamodel.AzureSettingNames.NOTIFICATION_HUB_KEY not in _settings(apps["orders"])
    rule = az.one(AZ + "notificationhubs:NotificationHubAuthorizationRule").inputs
    assert rule["rights"] == ["Send"]


def test_package_has_the_azure_entry_at_the_root(az_dev: BuiltStack):
    from pathlib import Path

    from components.shop import CODE_EXCLUDES, ROOT
    from components.specs import CodePackage
    from providers.azure.packaging import package_archive

    code = CodePackage(ROOT / "functions", CODE_EXCLUDES, ROOT / "requirements" / "runtime.txt", "3.12", False)
    assets = package_archive(code).assets
    assert {"function_app.py", "host.json", "requirements.txt"} <= set(assets)
    assert "functions/runtimes/azure_http.py" in assets and "functions/shop/routes.py" in assets
    assert not any(k.startswith("functions/tests/") or k.startswith("functions/local/") for k in assets)
    assert Path(assets["function_app.py"].path).name == "function_app.py"
    blobs = [b for b in az_dev.of_type(AZ + "storage:Blob") if b.name.startswith("package-")]
    assert {b.inputs["blobName"] for b in blobs} == {"released-package.zip"}
    assert len(blobs) == len(datamodel.SERVICES)


def test_zip_for_keyless_deploys_matches_the_archive(tmp_path):
    import zipfile

    from components.shop import CODE_EXCLUDES, ROOT
    from components.specs import CodePackage
    from providers.azure.packaging import package_archive, write_zip

    code = CodePackage(ROOT / "functions", CODE_EXCLUDES, ROOT / "requirements" / "runtime.txt", "3.12", False)
    names = set(zipfile.ZipFile(write_zip(code, tmp_path / "package.zip")).namelist())
    assert names == set(package_archive(code).assets)


def _ids(stack: BuiltStack) -> dict[str, str]:
    """Logical target -> the exact resource id a grant must be scoped to."""
    rg = stack.one(AZ + "resources:ResourceGroup").outputs["name"]
    base = f"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/{rg}/providers"
    acct = stack.one(AZ + "cosmosdb:DatabaseAccount").outputs["name"]
    ns = stack.one(AZ + "servicebus:Namespace").outputs["name"]
    uploads = stack.one(AZ + "storage:StorageAccount", "uploads").outputs["name"]
    acs = stack.one(AZ + "communication:CommunicationService").outputs["name"]
    vault = stack.one(AZ + "keyvault:Vault").outputs["name"]
    return {
        "container": f"{base}/Microsoft.DocumentDB/databaseAccounts/{acct}/dbs/shop/colls/shop",
        "topic": f"{base}/Microsoft.ServiceBus/namespaces/{ns}/topics/{datamodel.ORDER_EVENTS_TOPIC}",
        "subscription": f"{base}/Microsoft.ServiceBus/namespaces/{ns}/topics/{datamodel.ORDER_EVENTS_TOPIC}"
        f"/subscriptions/{datamodel.NOTIFICATIONS_QUEUE}",
        "communication": f"{base}/Microsoft.Communication/communicationServices/{acs}",
        "identity-secret": f"{base}/Microsoft.KeyVault/vaults/{vault}/secrets/shop-{stack.stack}-identityClientSecret",
        "hub-key-secret": f"{base}/Microsoft.KeyVault/vaults/{vault}/secrets/shop-{stack.stack}-notificationHubKey",
        "media": f"{base}/Microsoft.Storage/storageAccounts/{uploads}/blobServices/default/containers/$web",
        "uploads-account": f"{base}/Microsoft.Storage/storageAccounts/{uploads}",
        **{
            target: f"{base}/Microsoft.KeyVault/vaults/{vault}/secrets/shop-{stack.stack}-{name}"
            for name, target in iam.PAYMENT_TARGETS.items()
        },
    }


def test_each_identity_gets_exactly_its_grants_on_exactly_the_granted_resource(az: BuiltStack):
    ids = _ids(az)
    principals = {r.name.removeprefix("id-"): r.outputs["principalId"]
                  for r in az.of_type(AZ + "managedidentity:UserAssignedIdentity")}  # fmt: skip
    email_role = az.one(AZ + "authorization:RoleDefinition")
    rg_id = ids["uploads-account"].split("/providers/")[0]
    assert email_role.inputs["assignableScopes"] == [rg_id]  # custom roles: resource group at most
    assert not any("*" in a for p in email_role.inputs["permissions"] for a in p["actions"])
    for service in datamodel.SERVICES:
        pid = principals[service.name]
        got = set()
        for r in az.of_type(T_RA):
            if r.inputs["principalId"] != pid or r.name.endswith(("-deploy", "-host", "-insights")):
                continue
            role = r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
            got.add((role, r.inputs["scope"]))
            if r.name.endswith("-media"):
                assert "StringStartsWith 'media/'" in r.inputs["condition"]
        for r in az.of_type(T_COSMOS_RA):
            if r.inputs["principalId"] == pid:
                got.add((r.inputs["roleDefinitionId"].rsplit("/", 1)[-1], r.inputs["scope"]))
        email_role_id = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        want = set()
        for role, target in iam.grant_plan(service):
            if target in iam.PAYMENT_TARGETS.values() and not az.config.get("stripeSecretKey"):
                continue  # a stack that takes no cards has no Stripe secrets
            want.add(("email" if role == "email-sender" else role, ids[target]))
        got = {("email", s) if s == ids["communication"] else (r, s) for r, s in got}
        email_assignments = [r for r in az.of_type(T_RA) if r.inputs["scope"] == ids["communication"]]
        assert all(r.inputs["roleDefinitionId"].startswith(email_role_id) for r in email_assignments)
        assert got == want, service.name
    # The exact mapping for the services whose grants matter most.
    orders = {s.name: s for s in datamodel.SERVICES}
    assert (iam.COSMOS_DATA_READER, "container") in iam.grant_plan(orders["catalog"])
    assert (iam.SERVICE_BUS_DATA_RECEIVER, "subscription") in iam.grant_plan(orders["notifications"])
    assert (iam.COSMOS_DATA_CONTRIBUTOR, "container") in iam.grant_plan(orders["notifications"]), "dedupe records"
    assert not any(t in ("topic", "media") for _, t in iam.grant_plan(orders["cart"]))


def test_no_role_assignment_is_broader_than_a_resource(az: BuiltStack):
    for r in az.of_type(T_RA):
        scope = r.inputs["scope"]
        assert "/providers/" in scope, f"{r.name} is scoped to a subscription or resource group: {scope}"
    deployer = [r for r in az.of_type(T_RA) if r.inputs["principalId"] == DEPLOYER]
    assert {r.name for r in deployer} == {"vault-deployer-admin", "site-deployer-blob"}


# -- API ------------------------------------------------------------------------------------


def test_apim_consumption_with_one_operation_per_route(az: BuiltStack):
    svc = az.one(AZ + "apimanagement:ApiManagementService").inputs
    assert svc["sku"] == {"name": "Consumption", "capacity": 0}
    api = az.one(AZ + "apimanagement:Api").inputs
    assert api["path"] == "api" and api["protocols"] == ["https"]
    ops = {r.inputs["operationId"]: r.inputs for r in az.of_type(AZ + "apimanagement:ApiOperation")}
    assert set(ops) == {r.operation_id for r in ROUTES}
    for route in ROUTES:
        op = ops[route.operation_id]
        assert op["method"] == route.method and "/api" + op["urlTemplate"] == route.path
        assert [p["name"] for p in op.get("templateParameters", [])] == list(route.path_params)


def test_api_access_logs_go_to_application_insights(az: BuiltStack):
    logger = az.one(AZ + "apimanagement:Logger").inputs
    assert logger["loggerType"] == "applicationInsights"
    assert logger["credentials"]["identityClientId"] == "SystemAssigned"
    diag = az.one(AZ + "apimanagement:ApiDiagnostic").inputs
    assert diag["alwaysLog"] == "allErrors" and diag["loggerId"]
    apim_principal = az.one(AZ + "apimanagement:ApiManagementService").outputs
    ra = az.one(T_RA, "apim-insights-publisher").inputs
    assert ra["roleDefinitionId"].endswith(iam.MONITORING_METRICS_PUBLISHER)
    assert ra["principalId"] and ra["scope"].endswith(
        "/" + az.one(AZ + "applicationinsights:Component").outputs["name"]
    )
    assert apim_principal is not None


def test_validate_jwt_on_protected_operations_only(az: BuiltStack):
    policies = {
        r.name.removeprefix("policy-"): r.inputs["value"] for r in az.of_type(AZ + "apimanagement:ApiOperationPolicy")
    }
    issuer = f"https://{EXTERNAL_TENANT}.ciamlogin.com/{EXTERNAL_TENANT}/v2.0"
    for route in ROUTES:
        xml = policies[route.operation_id]
        assert f'<set-backend-service backend-id="fn-{route.service}" />' in xml
        if route.auth == PUBLIC:
            assert "validate-jwt" not in xml, route.operation_id
            continue
        assert "<validate-jwt" in xml, route.operation_id
        assert f"<issuer>{issuer}</issuer>" in xml and f"<audience>{api_audience(az)}</audience>" in xml
        assert "/v2.0/.well-known/openid-configuration" in xml
        assert "<required-claims>" not in xml, f"{route.operation_id}: a missing role must be 403, not 401"
        assert ('.Contains("admin")' in xml) == (route.auth == ADMIN), route.operation_id
    assert any(r.auth == CUSTOMER for r in ROUTES) and any(r.auth == ADMIN for r in ROUTES)


# -- CDN ------------------------------------------------------------------------------------


def test_front_door_routes_and_waf(az_dev: BuiltStack, az_prod: BuiltStack):
    for stack, sku in ((az_dev, "Standard_AzureFrontDoor"), (az_prod, "Premium_AzureFrontDoor")):
        assert stack.one(AZ + "cdn:Profile").inputs["sku"]["name"] == sku
        routes = {r.name: r.inputs for r in stack.of_type(AZ + "cdn:Route")}
        assert routes["route-api"]["patternsToMatch"] == ["/api/*"] and "cacheConfiguration" not in routes["route-api"]
        assert routes["route-site"]["patternsToMatch"] == ["/*"] and routes["route-site"]["cacheConfiguration"]
        for r in routes.values():
            assert r["httpsRedirect"] == "Enabled" and r["forwardingProtocol"] == "HttpsOnly"
        waf = stack.one(AZ + "frontdoor:Policy")
        assert waf.inputs["sku"]["name"] == sku and waf.inputs["policySettings"]["mode"] == "Prevention"
        rules = {r["name"]: r for r in waf.inputs["customRules"]["rules"]}
        rate = rules["RateLimitPerClientIp"]
        assert rate["ruleType"] == "RateLimitRule" and rate["action"] == "Block"
        assert rate["rateLimitThreshold"] == stack.config.get("wafRateLimit", 2000)
        assert rate["rateLimitDurationInMinutes"] == 5
        sp = stack.one(AZ + "cdn:SecurityPolicy").inputs["parameters"]
        assert sp["type"] == "WebApplicationFirewall"
        assert sp["wafPolicy"]["id"] == waf.outputs.get("id", sp["wafPolicy"]["id"])
        assert sp["wafPolicy"]["id"].endswith(f"/frontDoorWebApplicationFirewallPolicies/{waf.inputs['policyName']}")
        endpoint_domains = sp["associations"][0]["domains"]
        assert any("/afdEndpoints/" in d["id"] for d in endpoint_domains)
    managed = az_prod.one(AZ + "frontdoor:Policy").inputs["managedRules"]["managedRuleSets"]
    assert {m["ruleSetType"] for m in managed} == {"Microsoft_DefaultRuleSet", "Microsoft_BotManagerRuleSet"}
    assert "managedRules" not in az_dev.one(AZ + "frontdoor:Policy").inputs  # Standard: custom rules instead
    assert len(az_dev.one(AZ + "frontdoor:Policy").inputs["customRules"]["rules"]) > 1


def test_api_accepts_only_this_front_door(az: BuiltStack):
    fdid = az.one(AZ + "cdn:Profile").outputs["frontDoorId"]
    policy = az.one(AZ + "apimanagement:ApiPolicy", "api-front-door-only").inputs
    assert policy["apiId"] == "shop" and policy["format"] == "rawxml"
    assert '<check-header name="X-Azure-FDID" failed-check-httpcode="403"' in policy["value"]
    assert f"<value>{fdid}</value>" in policy["value"]


def test_custom_domain_has_managed_certificate(az_prod: BuiltStack):
    d = az_prod.one(AZ + "cdn:AFDCustomDomain").inputs
    assert d["hostName"] == "shop.example.com"
    assert d["tlsSettings"] == {"certificateType": "ManagedCertificate", "minimumTlsVersion": "TLS12"}
    assert az_prod.outputs["siteUrl"] == "https://shop.example.com"
    records = {r.inputs["recordType"] for r in az_prod.of_type(AZ + "dns:RecordSet")}
    assert records == {"TXT", "CNAME"}
    sp = az_prod.one(AZ + "cdn:SecurityPolicy").inputs["parameters"]
    assert any("/customDomains/" in d["id"] for d in sp["associations"][0]["domains"])


# -- monitoring -----------------------------------------------------------------------------


def test_alerts_go_to_the_alert_email(az: BuiltStack):
    ag = az.one(AZ + "monitor:ActionGroup").inputs
    assert ag["emailReceivers"][0]["emailAddress"] == "oncall@example.com"
    metrics = {r.name: r.inputs["criteria"]["allOf"][0] for r in az.of_type(AZ + "monitor:MetricAlert")}
    assert metrics["alert-db-throttled"]["dimensions"][0]["values"] == ["429"]
    assert metrics["alert-dead-letters"]["metricName"] == "DeadletteredMessages"
    assert metrics["alert-api-latency"]["metricName"] == "Duration"
    assert metrics["alert-api-5xx"]["dimensions"][0]["values"] == ["5XX"]
    assert all(r.inputs["actions"][0]["actionGroupId"] for r in az.of_type(AZ + "monitor:MetricAlert"))


# -- config ---------------------------------------------------------------------------------


def test_azure_settings_errors_name_the_key_and_the_fix():
    with pytest.raises(AzureSettingsError) as err:
        parse_azure_settings({"tenantId": "nope", "clientId": CLIENT_ID, "colour": "blue"})
    text = str(err.value)
    assert "shop:azure.tenantId must be a GUID" in text
    assert (
        "shop:azure.tenantSubdomain is required" in text
        and "pulumi config set --path shop:azure.tenantSubdomain" in text
    )
    assert "shop:azure.colour is not a known setting" in text


def test_keyless_storage_mode_uploads_nothing_and_disables_shared_keys():
    config = {**AZURE_DEV, "azure": {**AZURE_DEV["azure"], "sharedKeyUploads": False}}
    stack = build_azure_stack(config, "keyless")
    for acct in stack.of_type(AZ + "storage:StorageAccount"):
        assert acct.inputs["allowSharedKeyAccess"] is False
    assert not stack.of_type(AZ + "storage:Blob")
    assert len(stack.of_type(AZ + "web:WebApp")) == len(datamodel.SERVICES)


def test_example_azure_stack_file_is_valid():
    import yaml

    from components.config import parse_stack_config
    from components.shop import ROOT

    raw = yaml.safe_load((ROOT / "Pulumi.azure-dev.yaml").read_text())["config"]
    values = {k.removeprefix("shop:"): v for k, v in raw.items() if k.startswith("shop:")}
    config = parse_stack_config(values)
    assert config.cloud == "azure"
    settings = parse_azure_settings(config.azure.model_dump(by_alias=True))
    assert settings.sku_for(config.is_prod) == "Standard_AzureFrontDoor"
    assert raw["azure-native:location"] == config.region


# -- identity created by the program (shop:azure.clientId unset) ------------------------------

T_APP = "azuread:index/application:Application"


@pytest.fixture(scope="module")
def az_entra(az_dev: BuiltStack) -> BuiltStack:
    return az_dev


def _apps(stack: BuiltStack) -> dict[str, object]:
    return {r.name.removeprefix("entra-"): r for r in stack.of_type(T_APP)}


def test_entra_api_app_exposes_shop_access_and_the_admin_role(az_entra: BuiltStack):
    from providers.azure.auth import stable_id

    api = _apps(az_entra)["api"]
    (scope,) = api.inputs["api"]["oauth2PermissionScopes"]
    assert (scope["value"], scope["type"], scope["enabled"]) == ("shop.access", "User", True)
    assert scope["id"] == stable_id("shop-dev", "shop.access")
    assert api.inputs["api"]["requestedAccessTokenVersion"] == 2  # iss/aud shapes settings.issuer expects
    (role,) = api.inputs["appRoles"]
    assert (role["value"], role["allowedMemberTypes"], role["enabled"]) == ("admin", ["User"], True)
    assert api.inputs["signInAudience"] == "AzureADMyOrg"
    uri = az_entra.one("azuread:index/applicationIdentifierUri:ApplicationIdentifierUri")
    assert uri.inputs["identifierUri"] == f"api://{api.outputs['clientId']}"
    assert uri.inputs["applicationId"] == f"/applications/{api.outputs['objectId']}"
    # only the assigned users get the role: one assignment per shop:azure.adminObjectIds entry
    admins = [
        a
        for a in az_entra.of_type("azuread:index/appRoleAssignment:AppRoleAssignment")
        if a.name.startswith("entra-admin")
    ]
    api_sp = az_entra.one("azuread:index/servicePrincipal:ServicePrincipal", "entra-api-sp")
    assert [(a.inputs["appRoleId"], a.inputs["principalObjectId"], a.inputs["resourceObjectId"]) for a in admins] == [
        (role["id"], ADMIN_USER, api_sp.outputs["objectId"])
    ]


def test_entra_storefront_is_a_consented_public_client_redirecting_to_the_site(az_entra: BuiltStack):
    from providers.azure.auth import GRAPH_APP_ID, GRAPH_OFFLINE_ACCESS, GRAPH_OPENID

    apps = _apps(az_entra)
    front, api = apps["storefront"], apps["api"]
    assert front.inputs["fallbackPublicClientEnabled"] is True  # native authentication from the accounts service
    scope_id = api.inputs["api"]["oauth2PermissionScopes"][0]["id"]
    assert front.inputs["requiredResourceAccesses"] == [
        {"resourceAppId": api.outputs["clientId"], "resourceAccesses": [{"id": scope_id, "type": "Scope"}]},
        {"resourceAppId": GRAPH_APP_ID, "resourceAccesses": [
            {"id": GRAPH_OPENID, "type": "Scope"}, {"id": GRAPH_OFFLINE_ACCESS, "type": "Scope"}]},
    ]  # fmt: skip
    spa = az_entra.one("azuread:index/applicationRedirectUris:ApplicationRedirectUris")
    endpoint = az_entra.one(AZ + "cdn:AFDEndpoint")
    assert spa.inputs == {
        "applicationId": f"/applications/{front.outputs['objectId']}",
        "type": "SPA",
        "redirectUris": [f"https://{endpoint.outputs['hostName']}/"],  # dev: no domainName, the Front Door host
    }
    grants = {g.name: g.inputs for g in az_entra.of_type(
        "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant")}  # fmt: skip
    sps = {s.name: s.outputs["objectId"] for s in az_entra.of_type("azuread:index/servicePrincipal:ServicePrincipal")}
    assert grants["entra-storefront-api-consent"] == {
        "servicePrincipalObjectId": sps["entra-storefront-sp"],
        "resourceServicePrincipalObjectId": sps["entra-api-sp"],
        "claimValues": ["shop.access"],
    }
    assert grants["entra-storefront-graph-consent"]["claimValues"] == ["openid", "offline_access"]
    assert az_entra.outputs["userPoolClientId"] == front.outputs["clientId"]


def test_entra_backend_app_has_admin_consented_graph_user_readwrite_and_auth_methods_read(az_entra: BuiltStack):
    """Exactly two Graph application permissions: users (sign-up, look-ups, revocation) and,
    read-only, their authentication methods (the admin re-check's second factor)."""
    from providers.azure.auth import GRAPH_APP_ID, GRAPH_AUTH_METHODS_READ_ALL, GRAPH_USER_READWRITE_ALL

    backend = _apps(az_entra)["backend"]
    assert backend.inputs["requiredResourceAccesses"] == [
        {
            "resourceAppId": GRAPH_APP_ID,
            "resourceAccesses": [
                {"id": GRAPH_USER_READWRITE_ALL, "type": "Role"},
                {"id": GRAPH_AUTH_METHODS_READ_ALL, "type": "Role"},
            ],
        }
    ]
    sp = az_entra.one("azuread:index/servicePrincipal:ServicePrincipal", "entra-backend-sp")
    for name, permission in (
        ("entra-backend-graph-consent", GRAPH_USER_READWRITE_ALL),
        ("entra-backend-graph-auth-methods", GRAPH_AUTH_METHODS_READ_ALL),
    ):
        consent = az_entra.one("azuread:index/appRoleAssignment:AppRoleAssignment", name)
        assert consent.inputs["appRoleId"] == permission, f"{name} consents to the wrong Graph permission"
        assert consent.inputs["principalObjectId"] == sp.outputs["objectId"], f"{name} is not the backend's"
    assert "azuread:index/getServicePrincipal:getServicePrincipal" in az_entra.invokes


def test_entra_registrations_target_the_external_tenant_and_are_tagged(az_entra: BuiltStack):
    (provider,) = [r for r in az_entra.resources if r.type == "pulumi:providers:azuread"]
    assert provider.inputs["tenantId"] == EXTERNAL_TENANT
    entra = az_entra.of_type_prefix("azuread:")
    assert len(entra) == 13  # with the backend's consent to read authentication methods
    assert all(r.provider and "entra" in r.provider for r in entra), [r.name for r in entra if not r.provider]
    assert all(r.parent_type and r.parent_type.startswith("shop:components:") for r in entra)
    for app in az_entra.of_type(T_APP):
        assert "environment:dev" in app.inputs["tags"], app.name


def test_api_and_functions_use_the_created_apps(az_entra: BuiltStack):
    apps = _apps(az_entra)
    api_client, backend_client = apps["api"].outputs["clientId"], apps["backend"].outputs["clientId"]
    policies = [r.inputs["value"] for r in az_entra.of_type(AZ + "apimanagement:ApiOperationPolicy")]
    with_jwt = [p for p in policies if "<validate-jwt" in p]
    assert with_jwt and all(f"<audience>{api_client}</audience>" in p for p in with_jwt)
    for app in az_entra.of_type(AZ + "web:WebApp"):
        s = _settings(app)
        assert s[datamodel.AzureSettingNames.IDENTITY_SCOPE] == f"api://{api_client}/shop.access"
        assert s[datamodel.TokenEnv.JWT_AUDIENCE] == api_client
        assert s[datamodel.AzureSettingNames.IDENTITY_BACKEND_CLIENT_ID] == backend_client
        assert s[datamodel.ENV_USER_POOL_CLIENT] == apps["storefront"].outputs["clientId"]  # ROPC client


def test_referenced_registrations_create_no_entra_resources(az_prod: BuiltStack):
    assert not az_prod.of_type_prefix("azuread:")
    assert not [r for r in az_prod.resources if r.type == "pulumi:providers:azuread"]


def test_hand_made_references_need_client_id():
    with pytest.raises(AzureSettingsError) as err:
        parse_azure_settings({"tenantId": EXTERNAL_TENANT, "tenantSubdomain": "shop", "backendClientId": CLIENT_ID})
    assert "backendClientId reference hand-made app registrations: set clientId too" in str(err.value)
    with pytest.raises(AzureSettingsError) as err:
        parse_azure_settings({"tenantId": EXTERNAL_TENANT, "tenantSubdomain": "shop", "adminObjectIds": ["bob"]})
    assert "pulumi config set --path shop:azure.adminObjectIds[0]" in str(err.value)


# -- Cosmos DB: zones, customer-managed key and backups per environment ------------------------


def test_cosmos_prod_is_zone_redundant_with_the_stack_key_and_30_days_restore(az_prod: BuiltStack):
    account = az_prod.one(AZ + "cosmosdb:DatabaseAccount").inputs
    key = az_prod.one(AZ + "keyvault:Key")
    (cmk,) = [i for i in az_prod.of_type(AZ + "managedidentity:UserAssignedIdentity") if "cmk" in i.name]
    cmk_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{az_prod.one(AZ + 'resources:ResourceGroup').outputs['name']}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{cmk.outputs['name']}"
    assert account["locations"] == [{"locationName": "northeurope", "failoverPriority": 0, "isZoneRedundant": True}]
    assert account["keyVaultKeyUri"] == key.outputs["keyUri"], "versionless: follows the key's rotation"
    assert account["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [cmk_id]}
    assert account["defaultIdentity"] == f"UserAssignedIdentity={cmk_id}"
    assert account["backupPolicy"] == {"type": "Continuous", "continuousModeProperties": {"tier": "Continuous30Days"}}
    assert account["capabilities"] == [{"name": "EnableServerless"}]


def test_cosmos_dev_is_single_zone_with_microsoft_managed_keys(az_dev: BuiltStack):
    account = az_dev.one(AZ + "cosmosdb:DatabaseAccount").inputs
    assert account["locations"][0]["isZoneRedundant"] is False
    assert "keyVaultKeyUri" not in account and "defaultIdentity" not in account
    assert account["backupPolicy"]["continuousModeProperties"] == {"tier": "Continuous7Days"}


def test_admin_object_ids_need_created_registrations():
    with pytest.raises(AzureSettingsError) as err:
        parse_azure_settings(
            {
                "tenantId": EXTERNAL_TENANT,
                "tenantSubdomain": "shop",
                "clientId": CLIENT_ID,
                "adminObjectIds": [ADMIN_USER],
            }
        )
    assert "shop:azure: adminObjectIds assigns the admin role of the app registrations the program creates" in str(
        err.value
    )
