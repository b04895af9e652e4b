"""Private endpoints (prod): Key Vault, Cosmos DB, Service Bus and the functions' storage
account are reached from the VNet through private endpoints in the endpoint subnet, with
their privatelink DNS zones linked to the VNet, so the Function Apps (VNet-integrated, all
outbound traffic through the VNet) resolve them to private addresses.

The services themselves refuse public traffic in prod: Cosmos DB and Service Bus (Premium:
Standard has no private endpoints) disable public network access; Key Vault and the
functions' storage account deny by default (trusted Azure services, e.g. Storage reading its
customer-managed key, pass) and admit only shop:azure.deployerIpRanges, the addresses
Pulumi and the operator's `az` commands come from. The site account is not among them: it
is Front Door's origin and takes the admins' browser uploads (docs: README security).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from providers.azure.env import AzureEnv


@dataclass(frozen=True)
class Target:
    key: str  # logical name of the endpoint
    resource_id: pulumi.Input[str]
    group_id: str  # the service's sub-resource ("vault", "Sql", "namespace", "blob", ...)
    zone: str  # its privatelink DNS zone


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


def private_only(env: AzureEnv) -> bool:
    """Prod keeps the data services off the public internet; dev stays reachable (and cheaper)."""
    return env.context.is_prod


def targets(
    vault_id: Any, cosmos_id: Any, servicebus_id: Any, host_storage_id: Any, package_storage_id: Any = None
) -> list[Target]:
    out = [
        Target("vault", vault_id, "vault", ZONES["vault"]),
        Target("cosmos", cosmos_id, "Sql", ZONES["Sql"]),
        Target("servicebus", servicebus_id, "namespace", ZONES["namespace"]),
    ]
    out += [Target(f"fnstorage-{g}", host_storage_id, g, ZONES[g]) for g in HOST_STORAGE_GROUPS]
    if package_storage_id is not None:  # the apps read their code packages from it (blob only)
        out.append(Target("fnpackages-blob", package_storage_id, "blob", ZONES["blob"]))
    return out


def create_private_endpoints(
    env: AzureEnv, network: Any, wanted: list[Target], parent: pulumi.Resource
) -> dict[str, Any]:
    import pulumi_azure_native.network as net
    import pulumi_azure_native.privatedns as privatedns

    opts = pulumi.ResourceOptions(parent=parent)
    zones: dict[str, Any] = {}
    for zone_name in sorted({t.zone for t in wanted}):
        label = zone_name.removeprefix("privatelink.").split(".")[0]
        zone = privatedns.PrivateZone(
            f"dns-{label}",
            resource_group_name=env.rg_name,
            private_zone_name=zone_name,
            location="Global",
            tags=env.tags,
            opts=opts,
        )
        privatedns.VirtualNetworkLink(
            f"dns-{label}-link",
            resource_group_name=env.rg_name,
            private_zone_name=zone.name,
            location="Global",
            virtual_network={"id": network.vnet.id},
            registration_enabled=False,
            tags=env.tags,
            opts=opts,
        )
        zones[zone_name] = zone
    endpoints: dict[str, Any] = {}
    for t in wanted:
        endpoints[t.key] = net.PrivateEndpoint(
            f"pe-{t.key}",
            resource_group_name=env.rg_name,
            location=env.location,
            subnet={"id": network.endpoint_subnet.id},
            private_link_service_connections=[
                {"name": t.key, "private_link_service_id": t.resource_id, "group_ids": [t.group_id]}
            ],
            tags=env.tags,
            opts=opts,
        )
        net.PrivateDnsZoneGroup(
            f"pe-{t.key}-dns",
            resource_group_name=env.rg_name,
            private_endpoint_name=endpoints[t.key].name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[{"name": t.zone.replace(".", "-"), "private_dns_zone_id": zones[t.zone].id}],
            opts=opts,
        )
    return endpoints


def vault_network_acls(env: AzureEnv) -> dict[str, Any]:
    """Key Vault: deny by default in prod (trusted Azure services and the deployer pass)."""
    if not private_only(env):
        return {"bypass": "AzureServices", "default_action": "Allow"}
    return {
        "bypass": "AzureServices",
        "default_action": "Deny",
        "ip_rules": [{"value": r} for r in env.settings.deployer_ip_ranges],
    }


def storage_network_rules(env: AzureEnv) -> dict[str, Any]:
    """The functions' storage account: the same rule, in the storage API's shape."""
    if env.settings.shared_key_uploads and not env.settings.deployer_ip_ranges:
        pulumi.log.warn(
            "shop:azure.deployerIpRanges is empty: the functions' storage account denies by default in prod, "
            "so Pulumi's package upload will be refused; set it to the address `pulumi up` runs from"
        )
    return {
        "bypass": "AzureServices",
        "default_action": "Deny",
        "ip_rules": [{"i_p_address_or_range": r, "action": "Allow"} for r in env.settings.deployer_ip_ranges],
    }
