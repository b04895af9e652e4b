"""CDN: a global external Application Load Balancer (EXTERNAL_MANAGED) with
- the site from the private site bucket: a backend service on an internet NEG for the
  bucket's Cloud Storage XML API host, each origin request signed with the load balancer's
  HMAC key (Cloud CDN private origin authentication; static_site.py), Cloud CDN (static
  content cached at the edge, the storefront's entry points revalidated), the security
  headers (functions/shop/security_headers.py), and "/" rewritten to /index.html;
- ``/api/*`` to API Gateway through a serverless NEG, never cached, sending the gateway's
  API key (api.py) so *.gateway.dev refuses anyone else;
- the Cloud Armor policy (firewall.py) on both backends;
- HTTPS only (HTTP answers 301 to HTTPS), TLS 1.2 minimum (MODERN profile), the managed
  certificate of certificate.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from functions.shop import security_headers as headers
from functions.shop.routes import SITE_HOST_HEADER
from providers.gcp.api import GcpApi
from providers.gcp.certificate import GcpCertificate, create_certificate
from providers.gcp.env import GcpEnv
from providers.gcp.firewall import GcpFirewall
from providers.gcp.static_site import GcpStaticSite
from providers.site_files import ENTRY, IMMUTABLE_SECONDS, SPA_ROUTES

COMPUTE = "compute.googleapis.com"
# Signed image uploads go straight to Cloud Storage.
UPLOAD_ORIGIN = "https://storage.googleapis.com"
HSTS = f"Strict-Transport-Security: max-age={headers.HSTS_MAX_AGE_SECONDS}; includeSubDomains; preload"
NOSNIFF = f"X-Content-Type-Options: {headers.CONTENT_TYPE_OPTIONS}"


def security_headers(stripe: bool = False) -> tuple[str, ...]:
    """The storefront's headers; `stripe`: the CSP admits Stripe.js's hosts (card entry)."""
    return (
        HSTS,
        f"Content-Security-Policy: {headers.content_security_policy(UPLOAD_ORIGIN, stripe=stripe)}",
        NOSNIFF,
        f"X-Frame-Options: {headers.FRAME_OPTIONS}",
        f"Referrer-Policy: {headers.REFERRER_POLICY}",
    )


PathRule = gcp.compute.URLMapPathMatcherPathRuleArgsDict


@dataclass(frozen=True)
class GcpCdn:
    address: gcp.compute.GlobalAddress
    backend_site: gcp.compute.BackendService
    backend_api: gcp.compute.BackendService
    neg: gcp.compute.RegionNetworkEndpointGroup
    url_map: gcp.compute.URLMap
    certificate: GcpCertificate
    ssl_policy: gcp.compute.SSLPolicy
    https_proxy: gcp.compute.TargetHttpsProxy
    https_rule: gcp.compute.GlobalForwardingRule
    redirect_map: gcp.compute.URLMap
    http_proxy: gcp.compute.TargetHttpProxy
    redirect_rule: gcp.compute.GlobalForwardingRule
    firewall: GcpFirewall

    @property
    def host(self) -> pulumi.Output[str]:
        return self.certificate.host

    @property
    def result(self) -> specs.CdnResult:
        return specs.CdnResult(
            url=self.host.apply(lambda h: f"https://{h}"),
            host=self.host,
            distribution_id=self.url_map.id,
            firewall_id=self.firewall.policy.id,
        )


def spa_path_rule(bucket_service: pulumi.Input[str]) -> PathRule:
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


def origin_host(bucket: str) -> str:
    """The bucket's virtual-hosted XML API host (bucket names here never contain dots)."""
    return f"{bucket}.storage.googleapis.com"


def _site_backend(env: GcpEnv, site: GcpStaticSite, firewall: GcpFirewall, stripe: bool,
                  opts: pulumi.ResourceOptions) -> gcp.compute.BackendService:  # fmt: skip
    """The private site bucket behind Cloud CDN and Cloud Armor (module docstring)."""
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
        security_policy=firewall.policy.id,
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
        custom_response_headers=list(security_headers(stripe)),
        log_config={"enable": True, "sample_rate": 1.0},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[endpoint])),
    )


def _api_backend(env: GcpEnv, api: GcpApi, firewall: GcpFirewall, opts: pulumi.ResourceOptions,
                 ) -> tuple[gcp.compute.RegionNetworkEndpointGroup, gcp.compute.BackendService]:  # fmt: skip
    neg = gcp.compute.RegionNetworkEndpointGroup(
        "neg-api",
        project=env.project,
        region=env.settings.gateway_region(env.region),
        network_endpoint_type="SERVERLESS",
        serverless_deployment={"platform": "apigateway.googleapis.com", "resource": api.gateway.gateway_id},
        opts=opts,
    )
    backend = gcp.compute.BackendService(
        "backend-api",
        project=env.project,
        load_balancing_scheme="EXTERNAL_MANAGED",
        protocol="HTTPS",
        backends=[{"group": neg.id}],
        security_policy=firewall.policy.id,
        enable_cdn=False,  # API answers are per user: never cached
        custom_request_headers=[
            # The gateway's key (api.py): only requests through this backend get past the gateway.
            api.lb_key_header,
            # The sitemap's absolute URLs need the storefront's host; the API sees its own. HTTP
            # only redirects here, so every API request arrives over TLS with the host as SNI.
            f"{SITE_HOST_HEADER}: {{tls_sni_hostname}}",
        ],
        log_config={"enable": True, "sample_rate": 1.0},
        custom_response_headers=[HSTS, NOSNIFF],
        opts=opts,
    )
    return neg, backend


def _url_map(env: GcpEnv, api_path_pattern: str, site: gcp.compute.BackendService, api: gcp.compute.BackendService,
             opts: pulumi.ResourceOptions) -> gcp.compute.URLMap:  # fmt: skip
    api_paths = [api_path_pattern, api_path_pattern.removesuffix("/*")]
    # The XML API has no index document: the storefront's root is index.html.
    root: PathRule = {
        "paths": ["/"],
        "service": site.id,
        "route_action": {"url_rewrite": {"path_prefix_rewrite": "/index.html"}},
    }
    return gcp.compute.URLMap(
        "urlmap",
        project=env.project,
        default_service=site.id,
        host_rules=[{"hosts": ["*"], "path_matcher": "shop"}],
        path_matchers=[
            {
                "name": "shop",
                "default_service": site.id,
                "path_rules": [{"paths": api_paths, "service": api.id}, root, spa_path_rule(site.id)],
            }
        ],
        opts=opts,
    )


def _forwarding_rule(env: GcpEnv, name: str, target: pulumi.Input[str], address: gcp.compute.GlobalAddress,
                     port: str, parent: pulumi.Resource) -> gcp.compute.GlobalForwardingRule:  # fmt: skip
    return gcp.compute.GlobalForwardingRule(
        name,
        project=env.project,
        target=target,
        ip_address=address.id,
        port_range=port,
        ip_protocol="TCP",
        load_balancing_scheme="EXTERNAL_MANAGED",
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _http_redirect(env: GcpEnv, address: gcp.compute.GlobalAddress, parent: pulumi.Resource,
                   ) -> tuple[gcp.compute.URLMap, gcp.compute.TargetHttpProxy, gcp.compute.GlobalForwardingRule]:  # fmt: skip
    redirect_map = gcp.compute.URLMap(
        "urlmap-redirect",
        project=env.project,
        default_url_redirect={
            "https_redirect": True,
            "redirect_response_code": "MOVED_PERMANENTLY_DEFAULT",
            "strip_query": False,
        },
        opts=env.opts(parent, COMPUTE),
    )
    proxy = gcp.compute.TargetHttpProxy(
        "http-proxy", project=env.project, url_map=redirect_map.id, opts=pulumi.ResourceOptions(parent=parent)
    )
    return redirect_map, proxy, _forwarding_rule(env, "http-redirect", proxy.id, address, "80", parent)


def create_cdn(env: GcpEnv, args: specs.CdnArgs, parent: pulumi.Resource, *, site: GcpStaticSite, api: GcpApi,
               firewall: GcpFirewall) -> GcpCdn:  # fmt: skip
    opts = env.opts(parent, COMPUTE)
    address = gcp.compute.GlobalAddress(
        "lb-ip", project=env.project, address_type="EXTERNAL", ip_version="IPV4", opts=opts
    )
    backend_site = _site_backend(env, site, firewall, args.stripe, opts)
    neg, backend_api = _api_backend(env, api, firewall, opts)
    url_map = _url_map(env, args.api_path_pattern, backend_site, backend_api, opts)
    certificate = create_certificate(env, address, args.domain_name, parent)
    ssl_policy = gcp.compute.SSLPolicy(
        "tls", project=env.project, min_tls_version="TLS_1_2", profile="MODERN", opts=opts
    )
    https_proxy = gcp.compute.TargetHttpsProxy(
        "https-proxy",
        project=env.project,
        url_map=url_map.id,
        ssl_certificates=[certificate.certificate.id],
        ssl_policy=ssl_policy.id,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    https_rule = _forwarding_rule(env, "https", https_proxy.id, address, "443", parent)
    redirect_map, http_proxy, redirect_rule = _http_redirect(env, address, parent)
    return GcpCdn(
        address=address, backend_site=backend_site, backend_api=backend_api, neg=neg, url_map=url_map,
        certificate=certificate, ssl_policy=ssl_policy, https_proxy=https_proxy, https_rule=https_rule,
        redirect_map=redirect_map, http_proxy=http_proxy, redirect_rule=redirect_rule, firewall=firewall,
    )  # fmt: skip
