"""Certificate: a custom domain (shop:domainName) on the Front Door profile gets an AFD-managed
certificate (TLS 1.2 minimum), validated in the Azure DNS zone shop:azure.dnsZoneId when given
(its TXT validation record and the CNAME to the endpoint are made here), else by hand."""

from __future__ import annotations

import re

import pulumi
import pulumi_azure_native.cdn as cdn
import pulumi_azure_native.dns as dns

from providers.azure.env import AzureEnv


def _zone_parts(zone_id: str) -> tuple[str, str]:
    m = re.search(r"/resourceGroups/([^/]+)/providers/Microsoft\.Network/dnszones/([^/]+)", zone_id, re.I)
    if not m:
        raise ValueError(f"not an Azure DNS zone id: {zone_id}")
    return m.group(1), m.group(2)


def create_custom_domain(
    env: AzureEnv, profile: cdn.Profile, domain_name: str, dns_zone_id: str | None, parent: pulumi.Resource
) -> cdn.AFDCustomDomain:
    zone_id = env.settings.dns_zone_id or dns_zone_id
    return cdn.AFDCustomDomain(
        "domain",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        host_name=domain_name,
        tls_settings=cdn.AFDDomainHttpsParametersArgs(
            certificate_type="ManagedCertificate", minimum_tls_version=cdn.AfdMinimumTlsVersion.TLS12
        ),
        azure_dns_zone=cdn.ResourceReferenceArgs(id=zone_id) if zone_id and zone_id.startswith("/") else None,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def create_dns_records(
    env: AzureEnv,
    domain: cdn.AFDCustomDomain,
    domain_name: str,
    endpoint: cdn.AFDEndpoint,
    route: cdn.Route,
    parent: pulumi.Resource,
) -> None:
    """The validation TXT record, and the CNAME to the endpoint, in shop:azure.dnsZoneId (if set)."""
    if not env.settings.dns_zone_id:
        return
    zone_rg, zone = _zone_parts(env.settings.dns_zone_id)
    relative = domain_name.removesuffix(zone).rstrip(".") or "@"
    token: pulumi.Output[str] = domain.validation_properties.apply(lambda v: v.validation_token)
    dns.RecordSet(
        "dns-validation",
        resource_group_name=zone_rg,
        zone_name=zone,
        relative_record_set_name="_dnsauth" if relative == "@" else f"_dnsauth.{relative}",
        record_type="TXT",
        ttl=3600,
        txt_records=[dns.TxtRecordArgs(value=[token])],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if relative != "@":  # an apex needs an alias record to the endpoint instead (docs)
        dns.RecordSet(
            "dns-cname",
            resource_group_name=zone_rg,
            zone_name=zone,
            relative_record_set_name=relative,
            record_type="CNAME",
            ttl=3600,
            cname_record=dns.CnameRecordArgs(cname=endpoint.host_name),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[route]),
        )
