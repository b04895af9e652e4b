"""AWS: with a custom domain nothing reaches the API around CloudFront. The execute-api endpoint
is off; the API's only address is origin-api.<domain>, which requires mutual TLS against the
stack's private CA; CloudFront presents the clientAuth certificate that CA signed (imported into
ACM in us-east-1). Prod must have a domain; dev without one keeps the execute-api origin."""

from __future__ import annotations

import pytest

from components.config import ConfigError, parse_stack_config
from providers.aws import certificate

from .conftest import DEV_CONFIG, PROD_CONFIG, BuiltStack

ORIGIN_HOST = "origin-api." + PROD_CONFIG["domainName"]


def _api_origin(stack: BuiltStack) -> dict:
    origins = stack.one("aws:cloudfront/distribution:Distribution").inputs["origins"]
    return next(o for o in origins if o["originId"] == "api")


def test_with_a_domain_the_http_api_turns_its_execute_api_endpoint_off(prod: BuiltStack):
    api = prod.one("aws:apigatewayv2/api:Api").inputs
    assert api.get("disableExecuteApiEndpoint") is True, (
        "the execute-api URL would let any caller past CloudFront and the WAF onto the stage throttle"
    )


def test_the_api_domain_requires_mutual_tls_with_the_versioned_truststore(prod: BuiltStack):
    domain = prod.one("aws:apigatewayv2/domainName:DomainName").inputs
    assert domain["domainName"] == ORIGIN_HOST
    config = domain["domainNameConfiguration"]
    assert config["endpointType"] == "REGIONAL" and config["securityPolicy"] == "TLS_1_2"
    regional_cert = prod.one("aws:acm/certificate:Certificate", "origin-api")
    assert config["certificateArn"] == regional_cert.outputs["arn"]
    assert regional_cert.inputs["domainName"] == ORIGIN_HOST and regional_cert.inputs["validationMethod"] == "DNS"
    assert "aws-us-east-1" not in (regional_cert.provider or ""), "a REGIONAL domain takes a certificate of its region"
    validation = prod.one("aws:route53/record:Record", "origin-api-cert-validation").inputs
    assert validation["zoneId"] == PROD_CONFIG["hostedZoneId"]

    store = prod.one("aws:s3/bucketObjectv2:BucketObjectv2", "origin-truststore")
    bucket = prod.one("aws:s3/bucket:Bucket", "origin-truststore")
    assert domain["mutualTlsAuthentication"] == {
        "truststoreUri": f"s3://{bucket.outputs['bucket']}/{store.inputs['key']}",
        "truststoreVersion": store.outputs["versionId"],
    }, "the domain must trust exactly the stack's CA, at the version uploaded"
    versioning = prod.one("aws:s3/bucketVersioning:BucketVersioning", "origin-truststore").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "origin-truststore").inputs
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert prod.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "origin-truststore"
    )


def test_the_api_domain_is_mapped_to_the_stage_and_named_in_the_zone(prod: BuiltStack):
    domain = prod.one("aws:apigatewayv2/domainName:DomainName")
    mapping = prod.one("aws:apigatewayv2/apiMapping:ApiMapping").inputs
    stage = prod.one("aws:apigatewayv2/stage:Stage").inputs
    assert mapping["domainName"] == domain.inputs["domainName"] and mapping["stage"] == stage["name"] == "$default"
    record = prod.one("aws:route53/record:Record", "origin-api").inputs
    target = domain.outputs["domainNameConfiguration"]
    assert record["name"] == ORIGIN_HOST and record["type"] == "A"
    assert record["aliases"] == [
        {"name": target["targetDomainName"], "zoneId": target["hostedZoneId"], "evaluateTargetHealth": False}
    ]


def test_cloudfront_reaches_the_api_domain_with_its_us_east_1_client_certificate(prod: BuiltStack):
    origin = _api_origin(prod)
    assert origin["domainName"] == ORIGIN_HOST
    imported = prod.one("aws:acm/certificate:Certificate", "origin-client")
    assert origin["customOriginConfig"]["originMtlsConfig"] == {"clientCertificateArn": imported.outputs["arn"]}
    assert "aws-us-east-1" in imported.provider, "CloudFront takes origin client certificates from ACM in us-east-1"
    assert origin["customHeaders"], "the origin secret stays as a second check (the functions demand it)"
    assert prod.outputs["apiOriginDomain"] == ORIGIN_HOST


def test_the_client_certificate_is_clientauth_and_signed_by_the_truststores_ca(prod: BuiltStack):
    ca = prod.one("tls:index/selfSignedCert:SelfSignedCert", "origin-ca")
    client = prod.one("tls:index/locallySignedCert:LocallySignedCert", "origin-client")
    store = prod.one("aws:s3/bucketObjectv2:BucketObjectv2", "origin-truststore")
    imported = prod.one("aws:acm/certificate:Certificate", "origin-client").inputs
    assert ca.inputs["isCaCertificate"] is True and "cert_signing" in ca.inputs["allowedUses"]
    assert "client_auth" in client.inputs["allowedUses"], (
        "CloudFront refuses a client certificate without clientAuth EKU"
    )
    assert client.inputs["caCertPem"] == ca.outputs["certPem"] == store.inputs["content"], (
        "API Gateway would refuse CloudFront's certificate: its CA is not the truststore's"
    )
    assert imported["certificateBody"] == client.outputs["certPem"]
    assert imported["certificateChain"] == ca.outputs["certPem"]
    keys = {k.name: k.inputs for k in prod.of_type("tls:index/privateKey:PrivateKey")}
    assert keys["origin-client"] == {"algorithm": "RSA", "rsaBits": 2048}, "a key type CloudFront presents"
    key_pem = prod.one("tls:index/privateKey:PrivateKey", "origin-client").outputs["privateKeyPem"]
    # Pulumi sends a secret as {<secret signature>: ..., "value": ...}: the key never sits in plain text.
    assert isinstance(imported["privateKey"], dict) and imported["privateKey"].get("value") == key_pem
    assert 0 < client.inputs["earlyRenewalHours"] < client.inputs["validityPeriodHours"], (
        "the certificate must be renewed by a `pulumi up` before API Gateway refuses it as expired"
    )


def test_without_a_domain_dev_keeps_the_execute_api_origin(dev: BuiltStack):
    api = dev.one("aws:apigatewayv2/api:Api").inputs
    assert "disableExecuteApiEndpoint" not in api or api["disableExecuteApiEndpoint"] is None
    origin = _api_origin(dev)
    assert origin["domainName"].endswith(f".execute-api.{DEV_CONFIG['region']}.amazonaws.com")
    assert "originMtlsConfig" not in origin["customOriginConfig"]
    for typ in (
        "aws:apigatewayv2/domainName:DomainName",
        "aws:apigatewayv2/apiMapping:ApiMapping",
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "tls:index/locallySignedCert:LocallySignedCert",
    ):
        assert not [r for r in dev.of_type(typ) if r.name.startswith("origin")], f"dev without a domain made a {typ}"
    assert dev.outputs["apiUrl"].endswith(".amazonaws.com")


def test_with_a_domain_api_url_is_the_site_which_is_the_one_address_that_answers(prod: BuiltStack):
    assert prod.outputs["apiUrl"] == "https://" + PROD_CONFIG["domainName"] == prod.outputs["siteUrl"]


def test_prod_on_aws_without_a_domain_is_refused_with_the_fix():
    config = {k: v for k, v in PROD_CONFIG.items() if k not in ("domainName", "hostedZoneId")}
    with pytest.raises(ConfigError) as refused:
        parse_stack_config(config)
    message = str(refused.value)
    assert "shop:domainName" in message and "prod" in message
    assert "pulumi config set shop:domainName shop.example.com" in message
    assert "pulumi config set shop:hostedZoneId" in message


def test_dev_on_aws_without_a_domain_is_accepted():
    assert parse_stack_config(DEV_CONFIG).domain_name is None


def test_the_origin_host_is_under_the_shops_domain():
    # The hosted zone that validates the shop's domain also holds the origin's records.
    assert certificate.origin_api_host("shop.example.com") == ORIGIN_HOST


def test_an_expiring_client_certificate_pages_the_alert_address_from_us_east_1(prod: BuiltStack):
    alarm = prod.one("aws:cloudwatch/metricAlarm:MetricAlarm", "origin-certificate-expiry")
    imported = prod.one("aws:acm/certificate:Certificate", "origin-client")
    topic = prod.one("aws:sns/topic:Topic", "alarms-edge")
    a = alarm.inputs
    assert (a["namespace"], a["metricName"], a["statistic"]) == ("AWS/CertificateManager", "DaysToExpiry", "Minimum")
    assert a["dimensions"] == {"CertificateArn": imported.outputs["arn"]}, "the alarm must watch CloudFront's cert"
    assert a["comparisonOperator"] == "LessThanOrEqualToThreshold" and a["period"] == 86400
    early_renewal_days = certificate.CLIENT_EARLY_RENEWAL_HOURS / 24
    assert 0 < a["threshold"] < early_renewal_days, "warn after the renewal window opened, long before expiry"
    assert a["alarmActions"] == [topic.outputs["arn"]]
    assert "aws-us-east-1" in alarm.provider, "ACM publishes the metric in the certificate's region, us-east-1"


def test_without_a_domain_there_is_no_client_certificate_to_watch(dev: BuiltStack):
    assert not [
        a for a in dev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.name == "origin-certificate-expiry"
    ], "dev without a domain has no origin client certificate"
