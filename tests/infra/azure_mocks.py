"""Pulumi mocks answering like Azure Resource Manager, and the Azure stack builder.

Same recording as conftest.ShopMocks (type, logical name, inputs, outputs, parent); outputs
are shaped as ARM returns them: resource ids, names, endpoints, principal ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi

from .conftest import STRIPE_CONFIG, BuiltStack, Resource, run_program

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
DEPLOYER = "99999999-8888-7777-6666-555555555555"
EXTERNAL_TENANT = "0f0f0f0f-1111-2222-3333-444444444444"
CLIENT_ID = "5e5e5e5e-6666-7777-8888-999999999999"
ADMIN_USER = "33333333-3333-3333-3333-333333333333"

AZURE_DEV: dict[str, Any] = {
    "cloud": "azure",
    "region": "westeurope",
    "environment": "dev",
    "alertEmail": "oncall@example.com",
    "senderEmail": "shop@example.com",
    "owner": "platform-team",
    # No clientId: the program creates the app registrations in the external tenant.
    "azure": {"tenantId": EXTERNAL_TENANT, "tenantSubdomain": "shopcustomers", "adminObjectIds": [ADMIN_USER]},
}
# The Firebase project's service-account key file; a Pulumi secret in a real stack
# (`pulumi config set shop:fcmCredentials --secret < key.json`). Not a real key.
FCM_SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "shop-firebase-123",
    "client_email": "firebase-adminsdk-x1@shop-firebase-123.iam.gserviceaccount.com",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEfake\n-----END PRIVATE KEY-----\n",
}
AZURE_PROD: dict[str, Any] = {
    **AZURE_DEV,
    "region": "northeurope",
    "environment": "prod",
    "domainName": "shop.example.com",
    "azCount": 3,
    "natMode": "perAz",
    "functionMemoryMb": 1024,
    "logRetentionDays": 90,
    "wafRateLimit": 1000,
    "reservedConcurrency": 50,
    "tags": {"costCenter": "shop-42"},
    "fcmCredentials": json.dumps(FCM_SERVICE_ACCOUNT),
    **STRIPE_CONFIG,  # prod takes cards, dev does not
    # Hand-made app registrations, referenced.
    "azure": {
        "tenantId": EXTERNAL_TENANT,
        "tenantSubdomain": "shopcustomers",
        "clientId": CLIENT_ID,
        "backendClientId": "22222222-2222-2222-2222-222222222222",
        "dnsZoneId": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/dns/providers/Microsoft.Network/dnszones/example.com",
        "deployerIpRanges": ["203.0.113.7", "198.51.100.0/24"],
    },
}

# ARM resource type per pulumi token (for ids).
_ARM = {
    "resources:ResourceGroup": None,
    "keyvault:Vault": "Microsoft.KeyVault/vaults",
    "managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "network:NatGateway": "Microsoft.Network/natGateways",
    "network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    "cosmosdb:DatabaseAccount": "Microsoft.DocumentDB/databaseAccounts",
    "servicebus:Namespace": "Microsoft.ServiceBus/namespaces",
    "communication:CommunicationService": "Microsoft.Communication/communicationServices",
    "communication:EmailService": "Microsoft.Communication/emailServices",
    "notificationhubs:Namespace": "Microsoft.NotificationHubs/namespaces",
    "storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "web:AppServicePlan": "Microsoft.Web/serverfarms",
    "web:WebApp": "Microsoft.Web/sites",
    "operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "applicationinsights:Component": "Microsoft.Insights/components",
    "apimanagement:ApiManagementService": "Microsoft.ApiManagement/service",
    "cdn:Profile": "Microsoft.Cdn/profiles",
    "frontdoor:Policy": "Microsoft.Network/frontDoorWebApplicationFirewallPolicies",
    "monitor:ActionGroup": "Microsoft.Insights/actionGroups",
    "monitor:MetricAlert": "Microsoft.Insights/metricAlerts",
}


def _h(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _guid(*parts: str) -> str:
    d = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc's special-value signature key


def _with_secret_unwrapped(value: Any, change: Callable[[dict], dict]) -> Any:
    """`change` applied to a property the mocks may receive as a Pulumi secret ({SECRET_SIG: ...,
    "value": ...}), answered in the same form, as the engine would."""
    if isinstance(value, dict) and SECRET_SIG in value:
        return {**value, "value": change(value["value"])}
    return change(value)


class AzureMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str) -> None:
        self.region = region
        self.resources: list[Resource] = []
        self.invokes: list[str] = []
        self.rg = "rg-" + _h("rg")

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        self.invokes.append(args.token)
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": "deployer-app",
                "objectId": DEPLOYER,
                "subscriptionId": SUBSCRIPTION,
                "tenantId": TENANT,
            }
        if args.token == "azure-native:notificationhubs:listNotificationHubKeys":
            rule = args.args["authorizationRuleName"]
            return {"keyName": rule, "primaryKey": "cHJpbWFyeQ==", "secondaryKey": "c2Vjb25kYXJ5"}
        if args.token == "azure-native:web:listWebAppHostKeys":
            app = args.args["name"]
            return {
                "masterKey": f"master-{_h('master', app)}",
                "functionKeys": {"default": f"fnkey-{_h('default', app, n=20)}"},
                "systemKeys": {},
            }
        if args.token == "azuread:index/getServicePrincipal:getServicePrincipal":
            client_id = args.args["clientId"]
            return {
                "clientId": client_id,
                "objectId": _guid("sp", client_id),
                "id": f"/servicePrincipals/{_guid('sp', client_id)}",
            }
        raise NotImplementedError(f"the Azure mocks do not answer invoke {args.token}")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if typ.startswith("azuread:"):
            return self._entra(args, typ, name, inputs)
        short = typ.removeprefix("azure-native:")
        mod, _, cls = short.partition(":")
        key = f"{mod}:{cls}"
        physical = name.replace("-", "") + _h(typ, name, n=6) if mod == "storage" else f"{name}-{_h(typ, name)}"
        rg_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{self.rg}"
        out: dict[str, Any] = {"name": physical}
        arm = _ARM.get(key)
        rid = f"{rg_id}/providers/{arm}/{physical}" if arm else f"{rg_id}/providers/{short}/{physical}"
        match key:
            case "resources:ResourceGroup":
                out = {"name": self.rg}
                rid = rg_id
            case "keyvault:Vault":
                out["properties"] = {**inputs.get("properties", {}), "vaultUri": f"https://{physical}.vault.azure.net/"}
            case "keyvault:Key":
                out["name"] = name
                rid = f"{rg_id}/providers/Microsoft.KeyVault/vaults/{inputs['vaultName']}/keys/{name}"
                out["keyUri"] = f"https://{inputs['vaultName']}.vault.azure.net/keys/{name}"
                out["keyUriWithVersion"] = out["keyUri"] + "/0123456789abcdef"
            case "keyvault:Secret":
                out["name"] = inputs["secretName"]
                uri = f"https://{inputs['vaultName']}.vault.azure.net/secrets/{inputs['secretName']}"
                out["properties"] = _with_secret_unwrapped(
                    inputs["properties"], lambda p: {**p, "secretUri": uri, "secretUriWithVersion": uri + "/0a1b2c3d"}
                )
                rid = (
                    f"{rg_id}/providers/Microsoft.KeyVault/vaults/{inputs['vaultName']}/secrets/{inputs['secretName']}"
                )
            case "managedidentity:UserAssignedIdentity":
                out.update(principalId=_guid("principal", name), clientId=_guid("client", name), tenantId=TENANT)
            case "network:Subnet":
                rid = f"{rg_id}/providers/Microsoft.Network/virtualNetworks/{inputs['virtualNetworkName']}/subnets/{physical}"
            case "cosmosdb:DatabaseAccount":
                rid = f"{rg_id}/providers/Microsoft.DocumentDB/databaseAccounts/{physical}"
                out["documentEndpoint"] = f"https://{physical}.documents.azure.com:443/"
            case "cosmosdb:SqlResourceSqlDatabase":
                out["name"] = inputs["databaseName"]
                rid = f"{rg_id}/providers/Microsoft.DocumentDB/databaseAccounts/{inputs['accountName']}/sqlDatabases/{inputs['databaseName']}"
            case "cosmosdb:SqlResourceSqlContainer":
                out["name"] = inputs["containerName"]
                rid = (
                    f"{rg_id}/providers/Microsoft.DocumentDB/databaseAccounts/{inputs['accountName']}"
                    f"/sqlDatabases/{inputs['databaseName']}/containers/{inputs['containerName']}"
                )
            case "cosmosdb:SqlResourceSqlRoleAssignment":
                rid = f"{rg_id}/providers/Microsoft.DocumentDB/databaseAccounts/{inputs['accountName']}/sqlRoleAssignments/{_guid(name)}"
            case "servicebus:Namespace":
                rid = f"{rg_id}/providers/Microsoft.ServiceBus/namespaces/{physical}"
            case "servicebus:Topic":
                out["name"] = inputs["topicName"]
                rid = f"{rg_id}/providers/Microsoft.ServiceBus/namespaces/{inputs['namespaceName']}/topics/{inputs['topicName']}"
            case "servicebus:Subscription":
                out["name"] = inputs["subscriptionName"]
                rid = (
                    f"{rg_id}/providers/Microsoft.ServiceBus/namespaces/{inputs['namespaceName']}"
                    f"/topics/{inputs['topicName']}/subscriptions/{inputs['subscriptionName']}"
                )
            case "communication:CommunicationService":
                out["hostName"] = f"{physical}.europe.communication.azure.com"
            case "communication:Domain":
                out["fromSenderDomain"] = f"{_guid('domain')}.azurecomm.net"
                out["name"] = inputs.get("domainName", physical)
                rid = f"{rg_id}/providers/Microsoft.Communication/emailServices/{inputs['emailServiceName']}/domains/{out['name']}"
            case "notificationhubs:NotificationHubAuthorizationRule":
                out["name"] = inputs["authorizationRuleName"]
            case "notificationhubs:NotificationHub":
                rid = f"{rg_id}/providers/Microsoft.NotificationHubs/namespaces/{inputs['namespaceName']}/notificationHubs/{physical}"
            case "storage:StorageAccount":
                out["primaryEndpoints"] = {
                    "blob": f"https://{physical}.blob.core.windows.net/",
                    "web": f"https://{physical}.z6.web.core.windows.net/",
                }
            case "storage:BlobContainer":
                rid = f"{rg_id}/providers/Microsoft.Storage/storageAccounts/{inputs['accountName']}/blobServices/default/containers/{physical}"
            case "storage:StorageAccountStaticWebsite":
                out["containerName"] = "$web"
            case "web:WebApp":
                out["defaultHostName"] = f"{physical}.azurewebsites.net"
            case "applicationinsights:Component":
                out["connectionString"] = (
                    f"InstrumentationKey={_guid(name)};IngestionEndpoint=https://{self.region}.in.applicationinsights.azure.com/"
                )
            case "apimanagement:ApiManagementService":
                out["gatewayUrl"] = f"https://{physical}.azure-api.net"
            case "apimanagement:Api":
                out["name"] = inputs["apiId"]
                rid = (
                    f"{rg_id}/providers/Microsoft.ApiManagement/service/{inputs['serviceName']}/apis/{inputs['apiId']}"
                )
            case "apimanagement:ApiOperation":
                out["name"] = inputs["operationId"]
            case "apimanagement:Backend":
                out["name"] = inputs["backendId"]
            case "cdn:Profile":
                rid = f"{rg_id}/providers/Microsoft.Cdn/profiles/{physical}"
                out["frontDoorId"] = _guid("fdid", name)
            case "cdn:AFDEndpoint":
                rid = f"{rg_id}/providers/Microsoft.Cdn/profiles/{inputs['profileName']}/afdEndpoints/{physical}"
                out["hostName"] = f"{physical}-{_h('ep')}.z01.azurefd.net"
            case "cdn:AFDCustomDomain":
                rid = f"{rg_id}/providers/Microsoft.Cdn/profiles/{inputs['profileName']}/customDomains/{physical}"
                out["validationProperties"] = {"validationToken": "tok-" + _h(name), "expirationDate": "2030-01-01"}
            case "frontdoor:Policy":
                out["name"] = inputs["policyName"]
                rid = f"{rg_id}/providers/Microsoft.Network/frontDoorWebApplicationFirewallPolicies/{inputs['policyName']}"
            case "authorization:RoleAssignment":
                rid = f"{inputs.get('scope')}/providers/Microsoft.Authorization/roleAssignments/{_guid(name)}"
            case "authorization:RoleDefinition":
                rid = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{_guid(name)}"
        self.resources.append(Resource(typ, name, inputs, out, args.provider))
        state = {**inputs, **out, "id": rid}
        identity = inputs.get("identity")
        if isinstance(identity, dict) and identity.get("type") == "SystemAssigned":
            state["identity"] = {**identity, "principalId": _guid("system", name), "tenantId": TENANT}
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # ARM answers a map id -> {principalId, clientId} for the list the program sent.
            state["identity"] = {**identity, "userAssignedIdentities": {
                i: {"principalId": _guid("p", i), "clientId": _guid("c", i)} for i in identity["userAssignedIdentities"]
            }}  # fmt: skip
        return rid, state

    def _entra(self, args: pulumi.runtime.MockResourceArgs, typ: str, name: str, inputs: dict) -> tuple[str, dict]:
        """Microsoft Graph objects: applications and service principals get an object id and
        (applications) a client id, as Graph assigns them; ids are Graph paths."""
        object_id = _guid("object", name)
        out: dict[str, Any] = {"objectId": object_id}
        rid = f"/{name}/{object_id}"
        match typ.removeprefix("azuread:index/").partition(":")[0]:
            case "application":
                out["clientId"] = _guid("client", name)
                rid = f"/applications/{object_id}"
            case "servicePrincipal":
                rid = f"/servicePrincipals/{object_id}"
        self.resources.append(Resource(typ, name, inputs, out, args.provider))
        return rid, {**inputs, **out}


def build_azure_stack(
    config: Mapping[str, Any], stack: str = "dev", *, site_dir: Path | None = None, **build_args: Any
) -> BuiltStack:
    return run_program(AzureMocks(region=str(config.get("region"))), config, stack, site_dir, **build_args)


def storage_account_id(stack: BuiltStack, name: str) -> str:
    """The ARM id of the stack's storage account with logical name `name`."""
    rg = stack.one("azure-native:resources:ResourceGroup").outputs["name"]
    account = stack.one("azure-native:storage:StorageAccount", name).outputs["name"]
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{account}"


def front_door_origins(stack: BuiltStack) -> dict[str, dict]:
    """Front Door origins by key ("site", "api", "media", "uploads") -> their inputs."""
    return {r.name.removeprefix("origin-"): r.inputs for r in stack.of_type("azure-native:cdn:AFDOrigin")}
