"""CDN: a global external Application Load Balancer (EXTERNAL_MANAGED) with
- the site from the private site bucket: a backend service on an internet NEG for the
  bucket's Cloud Storage XML API host, each origin request signed with the load balancer's
  HMAC key (Cloud CDN private origin authentication; static_site.py), Cloud CDN (static
  content cached at the edge, the storefront's entry points revalidated), the security
  headers (HSTS, CSP, ...), and "/" rewritten to /index.html;
- ``/api/*`` to API Gateway through a serverless NEG, never cached, sending the gateway's
  API key (api.py) so *.gateway.dev refuses anyone else;
- one Cloud Armor policy on both backends: the preconfigured OWASP rule sets, per-IP rate
  limits (shop:wafRateLimit per 5 minutes, tighter on /api/auth/*, then 429), Adaptive
  Protection in prod, JSON bodies parsed for inspection;
- HTTPS only (HTTP answers 301 to HTTPS), TLS 1.2 minimum (MODERN profile), a
  Google-managed certificate for shop:domainName (+ its A record when
  shop:gcp.dnsManagedZone is set). Without a domain (dev only, config refuses it in prod)
  the certificate is for <ip>.sslip.io, a public wildcard DNS name for the LB's address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from functions.shop.routes import SITE_HOST_HEADER
from providers.gcp.env import GcpEnv
from providers.site_files import ENTRY, IMMUTABLE_SECONDS, SPA_ROUTES

COMPUTE = "compute.googleapis.com"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        # Signed image uploads go straight to Cloud Storage.
        "connect-src 'self' https://storage.googleapis.com",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = (
    "Strict-Transport-Security: max-age=63072000; includeSubDomains; preload",
    f"Content-Security-Policy: {CONTENT_SECURITY_POLICY}",
    "X-Content-Type-Options: nosniff",
    "X-Frame-Options: DENY",
    "Referrer-Policy: strict-origin-when-cross-origin",
)
# Cloud Armor preconfigured WAF rule sets (ModSecurity CRS 3.3), each its own deny rule.
WAF_RULE_SETS = (
    "sqli-v33-stable", "xss-v33-stable", "lfi-v33-stable", "rfi-v33-stable", "rce-v33-stable",
    "methodenforcement-v33-stable", "scannerdetection-v33-stable", "protocolattack-v33-stable",
    "sessionfixation-v33-stable",
)  # fmt: skip
AUTH_RATE_LIMIT_PRIORITY = 900  # before the general limit: sign-in's own, tighter one
RATE_LIMIT_PRIORITY = 1000
WAF_PRIORITY_START = 2000
DEFAULT_RULE_PRIORITY = 2147483647


def spa_path_rule(bucket_service: Any) -> dict[str, Any]:
    """Client-side routes (/p/<id>, /c/<id>, /cart...) are no objects: the bucket's answer for
    them becomes index.html with a 200, so each route is a real, indexable page. Files stay
    honest 404s (the rule covers only the routes)."""
    return {
        "paths": list(SPA_ROUTES),
        "service": bucket_service,
        "custom_error_response_policy": {
            "error_service": bucket_service,
            "error_response_rules": [
                # the private bucket's XML API answers a missing object 403 (no list right), or 404
                {"match_response_codes": ["403", "404"], "path": "/" + ENTRY, "override_response_code": 200}
            ],
        },
    }


@dataclass
class CdnNative:
    address: Any
    policy: Any
    backend_site: Any
    backend_api: Any
    neg: Any
    url_map: Any
    certificate: Any
    ssl_policy: Any
    https_proxy: Any
    https_rule: Any
    redirect_rule: Any
    host: pulumi.Output[str]
    extra: dict[str, Any] = field(default_factory=dict)


# Every request Cloud Armor evaluated (the load balancer logs its decision), and the denied ones.
FIREWALL_LOG_FILTER = 'resource.type="http_load_balancer" AND jsonPayload.enforcedSecurityPolicy.name:*'
BLOCKED_LOG_FILTER = 'resource.type="http_load_balancer" AND jsonPayload.enforcedSecurityPolicy.outcome="DENY"'
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def _throttle(limit: int) -> dict[str, Any]:
    return {
        "conform_action": "allow",
        "exceed_action": "deny(429)",
        "enforce_on_key": "IP",
        "rate_limit_threshold": {"count": limit, "interval_sec": 300},
    }


def armor_rules(rate_limit: int, auth_rate_limit: int = 50, auth_prefix: str = "/api/auth/") -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "priority": AUTH_RATE_LIMIT_PRIORITY,
            "description": f"sign-in: more than {auth_rate_limit} requests per 5 minutes from one IP: 429",
            "action": "throttle",
            "match": {"expr": {"expression": f"request.path.startsWith('{auth_prefix}')"}},
            "rate_limit_options": _throttle(auth_rate_limit),
        },
        {
            "priority": RATE_LIMIT_PRIORITY,
            "description": f"more than {rate_limit} requests per 5 minutes from one IP: 429",
            "action": "throttle",
            "match": {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": ["*"]}},
            "rate_limit_options": _throttle(rate_limit),
        },
    ]
    for i, rule_set in enumerate(WAF_RULE_SETS):
        rules.append(
            {
                "priority": WAF_PRIORITY_START + i,
                "description": f"OWASP CRS: {rule_set}",
                "action": "deny(403)",
                "match": {"expr": {"expression": f"evaluatePreconfiguredWaf('{rule_set}', {{'sensitivity': 1}})"}},
            }
        )
    rules.append(
        {
            "priority": DEFAULT_RULE_PRIORITY,
            "description": "everything else",
            "action": "allow",
            "match": {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": ["*"]}},
        }
    )
    return rules


def create_cdn(
    env: GcpEnv, args: specs.CdnArgs, parent: pulumi.Resource, encryption: specs.EncryptionResult
) -> specs.CdnResult:
    import pulumi_gcp as gcp

    opts = env.opts(parent, COMPUTE)
    child = pulumi.ResourceOptions(parent=parent)
    site = args.site.native
    gateway = args.api.native.gateway
    address = gcp.compute.GlobalAddress(
        "lb-ip", project=env.project, address_type="EXTERNAL", ip_version="IPV4", labels=env.labels, opts=opts
    )
    host: pulumi.Output[str] = (
        pulumi.Output.from_input(args.domain_name)
        if args.domain_name
        else address.address.apply(lambda ip: f"{ip.replace('.', '-')}.sslip.io")
    )
    policy = gcp.compute.SecurityPolicy(
        "armor",
        project=env.project,
        type="CLOUD_ARMOR",
        description=f"{env.context.name_prefix}: OWASP rule sets + per-IP rate limits, site and API",
        rules=armor_rules(args.firewall.rate_limit, args.firewall.auth_rate_limit, args.firewall.auth_path_prefix),
        adaptive_protection_config={
            "layer7_ddos_defense_config": {"enable": env.settings.adaptive_protection_for(env.context.is_prod)}
        },
        advanced_options_config={"json_parsing": "STANDARD", "log_level": "NORMAL"},
        labels=env.labels,
        opts=opts,
    )
    backend_site = _site_backend(env, site, policy, opts)
    neg = gcp.compute.RegionNetworkEndpointGroup(
        "neg-api",
        project=env.project,
        region=env.settings.gateway_region(env.region),
        network_endpoint_type="SERVERLESS",
        serverless_deployment={"platform": "apigateway.googleapis.com", "resource": gateway.gateway_id},
        opts=opts,
    )
    backend_api = gcp.compute.BackendService(
        "backend-api",
        project=env.project,
        load_balancing_scheme="EXTERNAL_MANAGED",
        protocol="HTTPS",
        backends=[{"group": neg.id}],
        security_policy=policy.id,
        enable_cdn=False,  # API answers are per user: never cached
        custom_request_headers=[
            # The gateway's key (api.py): only requests through this backend get past the gateway.
            args.api.native.lb_key_header,
            # The sitemap's absolute URLs need the storefront's host; the API sees its own. HTTP
            # only redirects here, so every API request arrives over TLS with the host as SNI.
            f"{SITE_HOST_HEADER}: {{tls_sni_hostname}}",
        ],
        log_config={"enable": True, "sample_rate": 1.0},
        custom_response_headers=[SECURITY_HEADERS[0], "X-Content-Type-Options: nosniff"],
        opts=opts,
    )
    api_paths = [args.api_path_pattern, args.api_path_pattern.removesuffix("/*")]
    url_map = gcp.compute.URLMap(
        "urlmap",
        project=env.project,
        default_service=backend_site.id,
        host_rules=[{"hosts": ["*"], "path_matcher": "shop"}],
        path_matchers=[
            {
                "name": "shop",
                "default_service": backend_site.id,
                "path_rules": [
                    {"paths": api_paths, "service": backend_api.id},
                    # The XML API has no index document: the storefront's root is index.html.
                    {
                        "paths": ["/"],
                        "service": backend_site.id,
                        "route_action": {"url_rewrite": {"path_prefix_rewrite": "/index.html"}},
                    },
                    spa_path_rule(backend_site.id),
                ],
            }
        ],
        opts=opts,
    )
    certificate = gcp.compute.ManagedSslCertificate(
        "cert",
        project=env.project,
        managed={"domains": host.apply(lambda h: [h])},
        opts=opts,
    )
    ssl_policy = gcp.compute.SSLPolicy(
        "tls", project=env.project, min_tls_version="TLS_1_2", profile="MODERN", opts=opts
    )
    https_proxy = gcp.compute.TargetHttpsProxy(
        "https-proxy",
        project=env.project,
        url_map=url_map.id,
        ssl_certificates=[certificate.id],
        ssl_policy=ssl_policy.id,
        opts=child,
    )
    https_rule = gcp.compute.GlobalForwardingRule(
        "https",
        project=env.project,
        target=https_proxy.id,
        ip_address=address.id,
        port_range="443",
        ip_protocol="TCP",
        load_balancing_scheme="EXTERNAL_MANAGED",
        labels=env.labels,
        opts=child,
    )
    redirect_map = gcp.compute.URLMap(
        "urlmap-redirect",
        project=env.project,
        default_url_redirect={
            "https_redirect": True,
            "redirect_response_code": "MOVED_PERMANENTLY_DEFAULT",
            "strip_query": False,
        },
        opts=opts,
    )
    http_proxy = gcp.compute.TargetHttpProxy("http-proxy", project=env.project, url_map=redirect_map.id, opts=child)
    redirect_rule = gcp.compute.GlobalForwardingRule(
        "http-redirect",
        project=env.project,
        target=http_proxy.id,
        ip_address=address.id,
        port_range="80",
        ip_protocol="TCP",
        load_balancing_scheme="EXTERNAL_MANAGED",
        labels=env.labels,
        opts=child,
    )
    extra: dict[str, Any] = {"redirect_map": redirect_map, "http_proxy": http_proxy}
    extra.update(_firewall_logs(env, args, encryption, parent))
    if args.domain_name and env.settings.dns_managed_zone:
        extra["record"] = gcp.dns.RecordSet(
            "dns-a",
            project=env.project,
            managed_zone=env.settings.dns_managed_zone,
            name=f"{args.domain_name}.",
            type="A",
            ttl=300,
            rrdatas=[address.address],
            opts=env.opts(parent, "dns.googleapis.com"),
        )
    native = CdnNative(
        address=address, policy=policy, backend_site=backend_site, backend_api=backend_api, neg=neg,
        url_map=url_map, certificate=certificate, ssl_policy=ssl_policy, https_proxy=https_proxy,
        https_rule=https_rule, redirect_rule=redirect_rule, host=host, extra=extra,
    )  # fmt: skip
    return specs.CdnResult(
        url=host.apply(lambda h: f"https://{h}"),
        host=host,
        distribution_id=url_map.id,
        firewall_id=policy.id,
        native=native,
    )


def _firewall_logs(
    env: GcpEnv, args: specs.CdnArgs, encryption: specs.EncryptionResult, parent: pulumi.Resource
) -> dict[str, Any]:
    """Cloud Armor's decisions (in the load balancer's request logs) to a log bucket encrypted
    with the stack key and kept logRetentionDays, and a log-based metric of denied requests
    that monitoring.py alerts on."""
    import pulumi_gcp as gcp

    child = pulumi.ResourceOptions(parent=parent)
    key_grant = encryption.native.agent_grants["logging"]  # kms.py: Cloud Logging's CMEK account
    bucket = gcp.logging.ProjectBucketConfig(
        "armor-log-bucket",
        project=env.project,
        location=env.region,  # a CMEK log bucket lives where its key does
        bucket_id=env.resource_id("armor-logs", max_len=100),
        retention_days=args.log_retention_days,
        cmek_settings={"kms_key_name": encryption.key_id},
        description=f"{env.context.name_prefix}: Cloud Armor decisions on every request",
        opts=env.opts(parent, "logging.googleapis.com", depends_on=[key_grant]),
    )
    sink = gcp.logging.ProjectSink(
        "armor-log-sink",
        project=env.project,
        destination=bucket.id.apply(lambda b: f"logging.googleapis.com/{b}"),
        filter=FIREWALL_LOG_FILTER,
        unique_writer_identity=True,
        opts=child,
    )
    blocked = gcp.logging.Metric(
        "armor-blocked",
        project=env.project,
        name=env.resource_id("armor-blocked", max_len=100),
        description="Requests Cloud Armor denied (WAF rules and rate limits)",
        filter=BLOCKED_LOG_FILTER,
        metric_descriptor={"metric_kind": "DELTA", "value_type": "INT64", "unit": "1"},
        opts=env.opts(parent, "logging.googleapis.com"),
    )
    return {
        "armor_log_bucket": bucket,
        "armor_log_sink": sink,
        "armor_blocked_metric": blocked,
        "logging_key_grant": key_grant,
    }


def origin_host(bucket: str) -> str:
    """The bucket's virtual-hosted XML API host (bucket names here never contain dots)."""
    return f"{bucket}.storage.googleapis.com"


def _site_backend(env: GcpEnv, site: Any, policy: Any, opts: pulumi.ResourceOptions) -> Any:
    """The private site bucket behind Cloud CDN and Cloud Armor (module docstring)."""
    import pulumi_gcp as gcp

    host = site.bucket.name.apply(origin_host)
    neg = gcp.compute.GlobalNetworkEndpointGroup(
        "neg-site", project=env.project, network_endpoint_type="INTERNET_FQDN_PORT", default_port=443, opts=opts
    )
    endpoint = gcp.compute.GlobalNetworkEndpoint(
        "neg-site-bucket", project=env.project, global_network_endpoint_group=neg.name, fqdn=host, port=443, opts=opts
    )
    key = site.origin_key
    return gcp.compute.BackendService(
        "backend-site",
        project=env.project,
        load_balancing_scheme="EXTERNAL_MANAGED",
        protocol="HTTPS",
        backends=[{"group": neg.id}],
        security_policy=policy.id,
        enable_cdn=True,
        compression_mode="AUTOMATIC",
        cdn_policy={
            "cache_mode": "CACHE_ALL_STATIC",  # honours no-cache on index.html and config.json
            "default_ttl": 300,  # objects without Cache-Control (every object here has one)
            # The caps must not cut the year that content-hashed files are cached for
            # (providers/site_files.py IMMUTABLE): Cloud CDN clamps a longer max-age to them.
            "client_ttl": IMMUTABLE_SECONDS,
            "max_ttl": IMMUTABLE_SECONDS,
            "negative_caching": True,
            "serve_while_stale": 86400,
            "request_coalescing": True,
        },
        # Cloud Storage answers the bucket's own host name, signed with the reader's HMAC key.
        custom_request_headers=[pulumi.Output.concat("Host: ", host)],
        security_settings={
            "aws_v4_authentication": {
                "access_key_id": key.access_id,
                "access_key": key.secret,
                "origin_region": env.region,
            }
        },
        custom_response_headers=list(SECURITY_HEADERS),
        log_config={"enable": True, "sample_rate": 1.0},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[endpoint])),
    )
