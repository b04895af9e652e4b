"""CloudFront in front of the site bucket (OAC) and the HTTP API (/api/*).

Only CloudFront reaches the API. With a custom domain, the API origin is the API's
mutual-TLS domain (api.py) and CloudFront presents the stack's client certificate to it
(origin mTLS); the execute-api URL is off. In every case the API origin also gets a secret
header (x-origin-verify, a random value kept as a Pulumi secret) that the functions demand
(functions/runtimes/origin.py), so without a domain the execute-api URL answers 403 to anyone else.

SPA fallback without hiding API errors: distribution-wide custom error responses
(403/404 -> /index.html) would also rewrite the API's own 404s and 403s into the app
shell. Instead a CloudFront Function on the *default* (bucket) behaviour sends extension-
less paths (client-side routes) to /index.html; the /api/* behaviour has no function and
the distribution no custom error responses, so API status codes reach the client intact,
and a missing asset is an honest 404 (CloudFront may list the bucket).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.specs import CdnArgs, CdnResult
from functions.runtimes.origin import ORIGIN_HEADER
from functions.shop import security_headers
from functions.shop.routes import SITE_HOST_HEADER, SITEMAP_PATH
from functions.shop.security_headers import FRAME_OPTIONS, HSTS_MAX_AGE_SECONDS, REFERRER_POLICY
from providers.aws.certificate import create_certificate
from providers.aws.env import AwsEnv
from providers.aws.firewall import AwsFirewall, create_firewall
from providers.aws.static_site import AwsStaticSite, deny_insecure_transport_policy, harden_bucket, site_bucket_policy
from providers.base import Parent

SITE_ORIGIN = "site"
API_ORIGIN = "api"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
# AWS managed policies (looked up by name so their ids never get hand-copied).
CACHING_OPTIMIZED = "Managed-CachingOptimized"
CACHING_DISABLED = "Managed-CachingDisabled"
ALL_VIEWER_EXCEPT_HOST = "Managed-AllViewerExceptHostHeader"  # API Gateway needs its own Host

SPA_ROUTING_FUNCTION = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  // A path whose last segment has no dot is a client-side route: serve the app shell.
  if (uri.lastIndexOf('.') <= uri.lastIndexOf('/')) {
    request.uri = '/index.html';
  }
  return request;
}
"""

# On the sitemap's own behaviour only: the API answers it with the storefront's absolute URLs,
# and behind CloudFront it sees its own host, so the visitor's goes along in a header.
SITEMAP_HOST_FUNCTION = """\
function handler(event) {
  var request = event.request;
  request.headers['{header}'] = { value: request.headers.host.value };
  return request;
}
"""

ORIGIN_SECRET_LENGTH = 48


def content_security_policy(upload_host: str, stripe: bool = False) -> str:
    """The storefront talks to its own origin (site and /api), for admin image uploads to the
    one bucket host its signed forms name and, when it takes cards, to Stripe.js's hosts:
    nothing else (functions/shop/security_headers.py, the policy the local gateway sends too)."""
    return security_headers.content_security_policy(f"https://{upload_host}", stripe=stripe)


def create_origin_secret(parent: Parent) -> pulumi.Output[str]:
    """The value CloudFront sends to the API origin and the functions demand. Random, kept
    encrypted in the Pulumi state; replace the resource to rotate it (both sides follow)."""
    return random.RandomPassword(
        "api-origin-secret",
        length=ORIGIN_SECRET_LENGTH,
        special=False,
        opts=pulumi.ResourceOptions(parent=parent),
    ).result


@dataclass(frozen=True)
class AwsCdn:
    distribution: aws.cloudfront.Distribution
    firewall: AwsFirewall
    logs_bucket: aws.s3.Bucket
    host: pulumi.Output[str]  # the custom domain, or CloudFront's own host name

    @property
    def result(self) -> CdnResult:
        return CdnResult(
            url=self.host.apply(lambda h: f"https://{h}"),
            host=self.host,
            distribution_id=self.distribution.id,
            firewall_id=self.firewall.web_acl.arn,
        )


def create_cdn(
    env: AwsEnv,
    args: CdnArgs,
    parent: Parent,
    site: AwsStaticSite,
    origin_secret: pulumi.Input[str],
    client_certificate_arn: pulumi.Input[str] | None = None,
) -> AwsCdn:
    """`site`: the handles of args.site; `origin_secret`: the header value the functions demand;
    `client_certificate_arn`: CloudFront's certificate for the API origin's mutual TLS (ACM,
    us-east-1), when the API origin is its mutual-TLS custom domain (api.py)."""
    oac = aws.cloudfront.OriginAccessControl(
        "site",
        description="CloudFront reads the private site bucket with SigV4",
        origin_access_control_origin_type="s3",
        signing_behavior="always",
        signing_protocol="sigv4",
        opts=env.opts(parent),
    )
    headers = _security_headers(env, site.bucket.bucket_regional_domain_name, args.stripe, parent)
    spa_routing, sitemap_host = _edge_functions(env, parent)
    api_prefix = args.api_path_pattern.removesuffix("*")
    firewall = create_firewall(env, args.firewall, api_prefix, args.log_retention_days, parent)
    logs_bucket = _access_logs_bucket(env, args.log_retention_days, parent)
    viewer_certificate, aliases = _viewer_certificate(env, args, parent)
    policies = _managed_policies(env, parent)
    distribution = aws.cloudfront.Distribution(
        "cdn",
        enabled=True,
        comment=f"{env.context.name_prefix} storefront and API",
        is_ipv6_enabled=True,
        http_version="http2and3",
        price_class="PriceClass_All" if env.context.is_prod else "PriceClass_100",
        default_root_object="index.html",
        aliases=aliases,
        origins=_origins(site, oac, args.api.host, origin_secret, client_certificate_arn),
        default_cache_behavior=_site_behavior(policies, headers, spa_routing),
        ordered_cache_behaviors=_api_behaviors(policies, headers, sitemap_host, args.api_path_pattern),
        restrictions=aws.cloudfront.DistributionRestrictionsArgs(
            geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
        ),
        viewer_certificate=viewer_certificate,
        web_acl_id=firewall.web_acl.arn,
        logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
            bucket=logs_bucket.bucket_domain_name, prefix="cloudfront/", include_cookies=False
        ),
        opts=env.opts(parent),
    )
    aws.s3.BucketPolicy(
        "site",
        bucket=site.bucket.id,
        policy=pulumi.Output.all(site.bucket.arn, distribution.arn).apply(lambda v: site_bucket_policy(v[0], v[1])),
        opts=env.opts(parent),
    )
    _dns_records(env, args, distribution, parent)
    host = pulumi.Output.from_input(args.domain_name) if args.domain_name else distribution.domain_name
    return AwsCdn(distribution, firewall, logs_bucket, host)


def _edge_functions(env: AwsEnv, parent: Parent) -> tuple[aws.cloudfront.Function, aws.cloudfront.Function]:
    """(SPA routing on the site behaviour, visitor host on the sitemap behaviour)."""
    spa_routing = aws.cloudfront.Function(
        "spa-routing",
        runtime="cloudfront-js-2.0",
        comment="Client-side routes -> /index.html (default behaviour only, never /api/*)",
        code=SPA_ROUTING_FUNCTION,
        publish=True,
        opts=env.opts(parent),
    )
    sitemap_host = aws.cloudfront.Function(
        "sitemap-host",
        runtime="cloudfront-js-2.0",
        comment="The visitor's host for the sitemap's absolute URLs (sitemap behaviour only)",
        code=SITEMAP_HOST_FUNCTION.replace("{header}", SITE_HOST_HEADER.lower()),
        publish=True,
        opts=env.opts(parent),
    )
    return spa_routing, sitemap_host


def _viewer_certificate(
    env: AwsEnv, args: CdnArgs, parent: Parent
) -> tuple[aws.cloudfront.DistributionViewerCertificateArgs, list[str]]:
    """(viewer certificate, aliases): the domain's own certificate when one is configured."""
    if args.domain_name and args.dns_zone_id:
        certificate_arn = create_certificate(env, args.domain_name, args.dns_zone_id, parent)
        certificate = aws.cloudfront.DistributionViewerCertificateArgs(
            acm_certificate_arn=certificate_arn, ssl_support_method="sni-only", minimum_protocol_version="TLSv1.2_2021"
        )
        return certificate, [args.domain_name]
    # The *.cloudfront.net certificate cannot have a minimum protocol version set (CloudFront
    # pins it to TLSv1); configure shop:domainName to get TLSv1.2_2021.
    return aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True), []


@dataclass(frozen=True)
class _ManagedPolicies:
    cache_optimized: pulumi.Output[str]
    cache_disabled: pulumi.Output[str]
    all_viewer_except_host: pulumi.Output[str]


def _managed_policies(env: AwsEnv, parent: Parent) -> _ManagedPolicies:
    invoke = env.invoke_opts(parent)
    return _ManagedPolicies(
        cache_optimized=aws.cloudfront.get_cache_policy_output(name=CACHING_OPTIMIZED, opts=invoke).id,
        cache_disabled=aws.cloudfront.get_cache_policy_output(name=CACHING_DISABLED, opts=invoke).id,
        all_viewer_except_host=aws.cloudfront.get_origin_request_policy_output(
            name=ALL_VIEWER_EXCEPT_HOST, opts=invoke
        ).id,
    )


def _origins(
    site: AwsStaticSite,
    oac: aws.cloudfront.OriginAccessControl,
    api_host: pulumi.Input[str],
    origin_secret: pulumi.Input[str],
    client_certificate_arn: pulumi.Input[str] | None,
) -> list[aws.cloudfront.DistributionOriginArgs]:
    return [
        aws.cloudfront.DistributionOriginArgs(
            origin_id=SITE_ORIGIN,
            domain_name=site.bucket.bucket_regional_domain_name,
            origin_access_control_id=oac.id,
        ),
        aws.cloudfront.DistributionOriginArgs(
            origin_id=API_ORIGIN,
            domain_name=api_host,
            # CloudFront overwrites a viewer's header of the same name.
            custom_headers=[aws.cloudfront.DistributionOriginCustomHeaderArgs(name=ORIGIN_HEADER, value=origin_secret)],
            custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                http_port=80,
                https_port=443,
                origin_protocol_policy="https-only",
                origin_ssl_protocols=["TLSv1.2"],
                origin_mtls_config=(
                    aws.cloudfront.DistributionOriginCustomOriginConfigOriginMtlsConfigArgs(
                        client_certificate_arn=client_certificate_arn
                    )
                    if client_certificate_arn is not None
                    else None
                ),
            ),
        ),
    ]


def _site_behavior(
    policies: _ManagedPolicies,
    headers: aws.cloudfront.ResponseHeadersPolicy,
    spa_routing: aws.cloudfront.Function,
) -> aws.cloudfront.DistributionDefaultCacheBehaviorArgs:
    return aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
        target_origin_id=SITE_ORIGIN,
        viewer_protocol_policy="redirect-to-https",
        allowed_methods=["GET", "HEAD", "OPTIONS"],
        cached_methods=["GET", "HEAD"],
        cache_policy_id=policies.cache_optimized,
        response_headers_policy_id=headers.id,
        compress=True,
        function_associations=[
            aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                event_type="viewer-request", function_arn=spa_routing.arn
            )
        ],
    )


def _api_behaviors(
    policies: _ManagedPolicies,
    headers: aws.cloudfront.ResponseHeadersPolicy,
    sitemap_host: aws.cloudfront.Function,
    api_path_pattern: str,
) -> list[aws.cloudfront.DistributionOrderedCacheBehaviorArgs]:
    return [
        # Before /api/*: the first matching pattern wins. Like /api/*, but GET only.
        aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
            path_pattern=SITEMAP_PATH,
            target_origin_id=API_ORIGIN,
            viewer_protocol_policy="redirect-to-https",
            allowed_methods=["GET", "HEAD", "OPTIONS"],
            cached_methods=["GET", "HEAD"],
            cache_policy_id=policies.cache_disabled,
            origin_request_policy_id=policies.all_viewer_except_host,
            response_headers_policy_id=headers.id,
            compress=True,
            function_associations=[
                aws.cloudfront.DistributionOrderedCacheBehaviorFunctionAssociationArgs(
                    event_type="viewer-request", function_arn=sitemap_host.arn
                )
            ],
        ),
        aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
            path_pattern=api_path_pattern,
            target_origin_id=API_ORIGIN,
            # https-only, not redirect: a redirected POST would lose its body.
            viewer_protocol_policy="https-only",
            allowed_methods=ALL_METHODS,
            cached_methods=["GET", "HEAD"],
            # Never cache; forward every viewer header (Authorization included), query
            # string and cookie, except Host, which must be the API's own.
            cache_policy_id=policies.cache_disabled,
            origin_request_policy_id=policies.all_viewer_except_host,
            response_headers_policy_id=headers.id,
            compress=True,
        ),
    ]


def _dns_records(env: AwsEnv, args: CdnArgs, distribution: aws.cloudfront.Distribution, parent: Parent) -> None:
    """The custom domain's A and AAAA aliases to the distribution, when one is configured."""
    if not (args.domain_name and args.dns_zone_id):
        return
    for record_type in ("A", "AAAA"):
        aws.route53.Record(
            f"cdn-{record_type.lower()}",
            zone_id=args.dns_zone_id,
            name=args.domain_name,
            type=record_type,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=distribution.domain_name,
                    zone_id=distribution.hosted_zone_id,
                    evaluate_target_health=False,
                )
            ],
            opts=env.opts(parent),
        )


def _security_headers(
    env: AwsEnv, upload_host: pulumi.Input[str], stripe: bool, parent: Parent
) -> aws.cloudfront.ResponseHeadersPolicy:
    # No X-XSS-Protection: browsers dropped the filter it drove; the CSP is the protection.
    return aws.cloudfront.ResponseHeadersPolicy(
        "security-headers",
        comment="HSTS, CSP, no sniffing, no framing",
        security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
            strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                access_control_max_age_sec=HSTS_MAX_AGE_SECONDS, include_subdomains=True, preload=True, override=True
            ),
            content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                content_security_policy=pulumi.Output.from_input(upload_host).apply(
                    lambda host: content_security_policy(host, stripe)
                ),
                override=True,
            ),
            content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                override=True
            ),
            frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                frame_option=FRAME_OPTIONS, override=True
            ),
            referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                referrer_policy=REFERRER_POLICY, override=True
            ),
        ),
        opts=env.opts(parent),
    )


def _access_logs_bucket(env: AwsEnv, retention_days: int, parent: Parent) -> aws.s3.Bucket:
    """Private bucket for CloudFront standard logs (which CloudFront writes through an ACL grant)."""
    opts = env.opts(parent)
    bucket = aws.s3.Bucket("cdn-logs", force_destroy=not env.context.is_prod, opts=opts)
    # CloudFront standard logging still delivers via a bucket ACL: ACLs must stay enabled.
    harden_bucket(env, "cdn-logs", bucket, parent, object_ownership="BucketOwnerPreferred")
    aws.s3.BucketLifecycleConfiguration(
        "cdn-logs",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-logs",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=retention_days),
            )
        ],
        opts=opts,
    )
    deny_insecure_transport_policy(env, "cdn-logs", bucket, parent)
    return bucket
