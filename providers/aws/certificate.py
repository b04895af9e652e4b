"""Certificates of the custom domain, all DNS-validated in the stack's Route 53 hosted zone:

- the CDN's (us-east-1, CloudFront's rule) for ``<domain>``;
- the API origin's (the API's region) for ``origin-api.<domain>``, the custom domain API Gateway
  serves with mutual TLS, so CloudFront can reach the API only by name and by certificate;
- CloudFront's *client* certificate for that mutual TLS: a private CA made by the stack (its
  certificate is API Gateway's truststore) signs a clientAuth certificate, imported into ACM in
  us-east-1, which is where CloudFront takes origin client certificates from.

The regional certificate stays separate from the CDN's even when the region is us-east-1: each
name keeps its own lifecycle (replacing one never touches the other), and ACM's public
certificates cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from providers.aws.env import AwsEnv
from providers.base import Parent

ORIGIN_API_LABEL = "origin-api"
# CloudFront presents RSA 2048 or EC P-256 client certificates (ACM's CloudFront rule); API
# Gateway's truststore takes RSA 2048+ signed with SHA-256: RSA 2048 suits both.
KEY_ALGORITHM = "RSA"
RSA_BITS = 2048
CA_VALIDITY_HOURS = 10 * 365 * 24
# CloudFront presents the certificate as it is and API Gateway refuses an expired one, so the
# stack replaces it early: any `pulumi up` in its last 90 days issues and re-imports a new one
# (same ACM ARN, same CA, nothing else changes).
CLIENT_VALIDITY_HOURS = 2 * 365 * 24
CLIENT_EARLY_RENEWAL_HOURS = 90 * 24
CLIENT_AUTH_USES = ["digital_signature", "key_encipherment", "client_auth"]
CA_USES = ["cert_signing", "crl_signing"]


def origin_api_host(domain_name: str) -> str:
    """The API's own custom domain, under the shop's (so the same hosted zone holds its records)."""
    return f"{ORIGIN_API_LABEL}.{domain_name}"


def create_certificate(env: AwsEnv, domain_name: str, hosted_zone_id: str, parent: Parent) -> pulumi.Output[str]:
    """The CDN's certificate (us-east-1): its ARN, available once validation has completed."""
    return _validated_certificate(env, "cdn", domain_name, hosted_zone_id, parent, us_east_1=True)


def create_origin_certificate(env: AwsEnv, host: str, hosted_zone_id: str, parent: Parent) -> pulumi.Output[str]:
    """The API origin's certificate, in the API's region (a REGIONAL domain's rule)."""
    return _validated_certificate(env, "origin-api", host, hosted_zone_id, parent, us_east_1=False)


def _validated_certificate(
    env: AwsEnv, name: str, domain_name: str, hosted_zone_id: str, parent: Parent, *, us_east_1: bool
) -> pulumi.Output[str]:
    certificate = aws.acm.Certificate(
        name,
        domain_name=domain_name,
        validation_method="DNS",
        key_algorithm="EC_prime256v1",
        # A replacement certificate must exist before its user lets go of the old one.
        opts=env.opts(parent, us_east_1=us_east_1, delete_before_replace=False),
    )
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-cert-validation",
        zone_id=hosted_zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=300,
        allow_overwrite=True,
        opts=env.opts(parent),
    )
    validation = aws.acm.CertificateValidation(
        name,
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=env.opts(parent, us_east_1=us_east_1),
    )
    return validation.certificate_arn


@dataclass(frozen=True)
class OriginClientCertificate:
    """CloudFront's client certificate for the API origin, and the CA that API Gateway trusts."""

    ca_cert_pem: pulumi.Output[str]  # the truststore's content
    client_cert_pem: pulumi.Output[str]
    acm_certificate: aws.acm.Certificate  # the import, in us-east-1: CloudFront's origin_mtls_config


def create_origin_client_certificate(env: AwsEnv, domain_name: str, parent: Parent) -> OriginClientCertificate:
    """A private CA (self-signed, kept in the Pulumi state, secret) and the clientAuth certificate
    it signs for CloudFront, imported into ACM in us-east-1 with the CA as its chain."""
    opts = pulumi.ResourceOptions(parent=parent)
    ca_key = tls.PrivateKey("origin-ca", algorithm=KEY_ALGORITHM, rsa_bits=RSA_BITS, opts=opts)
    ca = tls.SelfSignedCert(
        "origin-ca",
        private_key_pem=ca_key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(
            common_name=f"{env.context.name_prefix} CloudFront origin CA", organization=env.context.project
        ),
        is_ca_certificate=True,
        set_subject_key_id=True,
        validity_period_hours=CA_VALIDITY_HOURS,
        allowed_uses=CA_USES,
        opts=opts,
    )
    client_key = tls.PrivateKey("origin-client", algorithm=KEY_ALGORITHM, rsa_bits=RSA_BITS, opts=opts)
    request = tls.CertRequest(
        "origin-client",
        private_key_pem=client_key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(common_name=f"cloudfront.{domain_name}", organization=env.context.project),
        # ACM imports only certificates that name a host.
        dns_names=[f"cloudfront.{domain_name}"],
        opts=opts,
    )
    client = tls.LocallySignedCert(
        "origin-client",
        cert_request_pem=request.cert_request_pem,
        ca_private_key_pem=ca_key.private_key_pem,
        ca_cert_pem=ca.cert_pem,
        validity_period_hours=CLIENT_VALIDITY_HOURS,
        early_renewal_hours=CLIENT_EARLY_RENEWAL_HOURS,
        allowed_uses=CLIENT_AUTH_USES,
        opts=opts,
    )
    imported = aws.acm.Certificate(
        "origin-client",
        private_key=client_key.private_key_pem,
        certificate_body=client.cert_pem,
        certificate_chain=ca.cert_pem,
        # A renewed certificate is re-imported in place: the ARN CloudFront names stays.
        opts=env.opts(parent, us_east_1=True),
    )
    return OriginClientCertificate(ca.cert_pem, client.cert_pem, imported)
