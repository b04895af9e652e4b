"""Certificate: a Google-managed certificate for the shop's host name, and its A record when
the domain's Cloud DNS zone is the stack's to write (shop:gcp.dnsManagedZone). Without a
domain (dev only, config refuses it in prod) the host is <ip>.sslip.io, a public wildcard DNS
name for the load balancer's address, so the certificate still validates.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from providers.gcp.env import GcpEnv

COMPUTE = "compute.googleapis.com"


@dataclass(frozen=True)
class GcpCertificate:
    host: pulumi.Output[str]
    certificate: gcp.compute.ManagedSslCertificate
    record: gcp.dns.RecordSet | None  # only with shop:domainName and shop:gcp.dnsManagedZone


def site_host(address: gcp.compute.GlobalAddress, domain_name: str | None) -> pulumi.Output[str]:
    if domain_name:
        return pulumi.Output.from_input(domain_name)
    return address.address.apply(lambda ip: f"{ip.replace('.', '-')}.sslip.io")


def create_certificate(env: GcpEnv, address: gcp.compute.GlobalAddress, domain_name: str | None,
                       parent: pulumi.Resource) -> GcpCertificate:  # fmt: skip
    host = site_host(address, domain_name)
    certificate = gcp.compute.ManagedSslCertificate(
        "cert", project=env.project, managed={"domains": host.apply(lambda h: [h])}, opts=env.opts(parent, COMPUTE)
    )
    return GcpCertificate(host=host, certificate=certificate, record=_a_record(env, address, domain_name, parent))


def _a_record(env: GcpEnv, address: gcp.compute.GlobalAddress, domain_name: str | None,
              parent: pulumi.Resource) -> gcp.dns.RecordSet | None:  # fmt: skip
    if not (domain_name and env.settings.dns_managed_zone):
        return None
    return gcp.dns.RecordSet(
        "dns-a",
        project=env.project,
        managed_zone=env.settings.dns_managed_zone,
        name=f"{domain_name}.",
        type="A",
        ttl=300,
        rrdatas=[address.address],
        opts=env.opts(parent, "dns.googleapis.com"),
    )
