"""ACM certificate for the CDN's domain: us-east-1 (CloudFront's rule), DNS-validated in the
stack's Route 53 hosted zone.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from providers.aws.env import AwsEnv
from providers.base import Parent


def create_certificate(env: AwsEnv, domain_name: str, hosted_zone_id: str, parent: Parent) -> pulumi.Output[str]:
    """The ARN of the certificate, available once validation has completed."""
    certificate = aws.acm.Certificate(
        "cdn",
        domain_name=domain_name,
        validation_method="DNS",
        key_algorithm="EC_prime256v1",
        # A replacement certificate must exist before the distribution lets go of the old one.
        opts=env.opts(parent, us_east_1=True, delete_before_replace=False),
    )
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        "cdn-cert-validation",
        zone_id=hosted_zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=300,
        allow_overwrite=True,
        opts=env.opts(parent),
    )
    validation = aws.acm.CertificateValidation(
        "cdn",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=env.opts(parent, us_east_1=True),
    )
    return validation.certificate_arn
