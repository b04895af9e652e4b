"""CDN: Azure Front Door (Standard in dev, Premium in prod unless shop:azure.frontDoorSku says
otherwise) with one endpoint, two origin groups (the static website and the API Management
gateway), two routes (``/api/*`` -> API, never cached; ``/*`` -> site, cached, compressed),
HTTPS redirect, and a WAF policy linked through a security policy: Microsoft_DefaultRuleSet
+ Microsoft_BotManagerRuleSet on Premium (Standard cannot run managed rule sets, so it gets
custom rules), and always a per-client-IP rate-limit rule from shop:wafRateLimit.
API Management accepts only requests carrying this profile's X-Azure-FDID (an API policy
created here, once the profile id exists), so the WAF sits in front of every API call.
Both routes answer with the security headers (HSTS, a CSP naming the one upload host,
nosniff, no framing, referrer policy) from a rule set.
A custom domain (shop:domainName) gets an AFD-managed certificate, validated in the Azure DNS
zone shop:azure.dnsZoneId when given (TXT + CNAME created here), else by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from components import specs
from functions.shop.routes import SITE_HOST_HEADER, SITEMAP_PATH
from providers.azure.env import AzureEnv
from providers.site_files import ENTRY, HASH_LENGTH, IMMUTABLE, NO_CACHE, REVALIDATE, SHORT

PREMIUM = "Premium_AzureFrontDoor"
MANAGED_RULE_SETS = (
    ("Microsoft_DefaultRuleSet", "2.1", "Block"),
    ("Microsoft_BotManagerRuleSet", "1.1", None),
)
COMPRESSIBLE = [
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "image/svg+xml", "text/plain", "application/manifest+json",
]  # fmt: skip


# Storefront delivery rules (the site route only, never /api/*), applied in order; a later
# rule's Cache-Control overwrites an earlier one's. Blobs carry no Cache-Control of their own
# (providers/azure/static_site.py), so Front Door sets it from the name, as S3 and Cloud
# Storage store it with each object on the other clouds (providers/site_files.py).
_HASHED_NAME = rf"\.[0-9a-f]{{{HASH_LENGTH}}}\.(js|mjs|css)$"


# Rule conditions and actions are unions of many types: built with the SDK's typed Args so
# each is serialized as its own type (a plain dict's keys would go out unchanged).
def _condition(kind: str, operator: str, values: list[str], transforms: list[str] | None = None) -> Any:
    import pulumi_azure_native.cdn as cdn

    classes = {
        "UrlPath": (cdn.DeliveryRuleUrlPathConditionArgs, cdn.UrlPathMatchConditionParametersArgs),
        "UrlFileExtension": (cdn.DeliveryRuleUrlFileExtensionConditionArgs, cdn.UrlFileExtensionMatchConditionParametersArgs),
    }  # fmt: skip
    condition, parameters = classes[kind]
    return condition(
        name=kind,
        parameters=parameters(
            type_name=f"DeliveryRule{kind}MatchConditionParameters",
            operator=operator,
            match_values=values,
            transforms=transforms,
        ),
    )


def _header(direction: str, name: str, value: str) -> Any:
    import pulumi_azure_native.cdn as cdn

    action = (
        cdn.DeliveryRuleResponseHeaderActionArgs if direction == "Response" else cdn.DeliveryRuleRequestHeaderActionArgs
    )
    return action(
        name=f"Modify{direction}Header",
        parameters=cdn.HeaderActionParametersArgs(
            type_name="DeliveryRuleHeaderActionParameters", header_action="Overwrite", header_name=name, value=value
        ),
    )


def _cache(value: str, edge: tuple[str, str] | None) -> list[Any]:
    """Cache-Control for the browser, and (behaviour, duration) of Front Door's own cache
    (None: not cached at the edge)."""
    import pulumi_azure_native.cdn as cdn

    cache = None
    if edge is not None:
        cache = cdn.CacheConfigurationArgs(
            query_string_caching_behavior="IgnoreQueryString",
            is_compression_enabled="Enabled",
            cache_behavior=edge[0],
            cache_duration=edge[1],
        )
    override = cdn.DeliveryRuleRouteConfigurationOverrideActionArgs(
        name="RouteConfigurationOverride",
        parameters=cdn.RouteConfigurationOverrideActionParametersArgs(
            type_name="DeliveryRuleRouteConfigurationOverrideActionParameters", cache_configuration=cache
        ),
    )
    return [_header("Response", "Cache-Control", value), override]


def _rewrite(destination: str) -> Any:
    import pulumi_azure_native.cdn as cdn

    return cdn.UrlRewriteActionArgs(
        name="UrlRewrite",
        parameters=cdn.UrlRewriteActionParametersArgs(
            type_name="DeliveryRuleUrlRewriteActionParameters",
            source_pattern="/",
            destination=destination,
            preserve_unmatched_path=False,
        ),
    )


def site_delivery_rules() -> list[dict[str, Any]]:
    """The site route's rule set: cache lifetimes by name, and the app shell for routes."""
    hour = ("OverrideIfOriginMissing", "01:00:00")
    year = ("OverrideAlways", "365.00:00:00")
    return [
        {"name": "ShortCache", "order": 1, "conditions": [_condition("UrlPath", "Any", [])],
         "actions": _cache(SHORT, hour)},
        {"name": "HashedImmutable", "order": 2, "conditions": [_condition("UrlPath", "RegEx", [_HASHED_NAME])],
         "actions": _cache(IMMUTABLE, year)},
        # Front Door's request path has no leading slash: "index.html", "js/app.<hash>.js".
        {"name": "EntryRevalidate", "order": 3,
         "conditions": [_condition("UrlPath", "Equal", list(NO_CACHE), ["Lowercase"])],
         "actions": _cache(REVALIDATE, None)},
        # An extension-less path (/p/<id>, /c/<id>, /cart...) is a client-side route: answer
        # it with index.html and a 200 (the static website's own 404 page would say 404).
        {"name": "SpaRoutes", "order": 4, "conditions": [_condition("UrlFileExtension", "LessThan", ["1"])],
         "actions": [_rewrite("/" + ENTRY), *_cache(REVALIDATE, None)]},
    ]  # fmt: skip


def api_delivery_rules() -> list[dict[str, Any]]:
    """The API route's rule set: the sitemap's absolute URLs need the storefront's host, and
    behind Front Door the API sees its own, so the visitor's goes along in a header."""
    return [
        {"name": "SitemapHost", "order": 1,
         "conditions": [_condition("UrlPath", "Equal", [SITEMAP_PATH.lstrip("/")], ["Lowercase"])],
         "actions": [_header("Request", SITE_HOST_HEADER, "{hostname}")]},
    ]  # fmt: skip


def content_security_policy(upload_host: str) -> str:
    """Own origin, plus the site account's blob host for the admins' SAS uploads
    (functions/shop/security_headers.py, the policy the local gateway sends too)."""
    from functions.shop import security_headers as shared

    return shared.content_security_policy(f"https://{upload_host}")


def security_headers(upload_host: pulumi.Input[str]) -> list[tuple[str, pulumi.Input[str]]]:
    return [
        ("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload"),
        ("Content-Security-Policy", pulumi.Output.from_input(upload_host).apply(content_security_policy)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]


def _security_headers_rule_set(env: AzureEnv, profile: Any, upload_host: pulumi.Input[str], parent: Any) -> Any:
    import pulumi_azure_native.cdn as cdn

    opts = pulumi.ResourceOptions(parent=parent)
    rule_set = cdn.RuleSet(
        "rules-headers", resource_group_name=env.rg_name, profile_name=profile.name, rule_set_name="securityheaders",
        opts=opts,
    )  # fmt: skip
    # Typed args: `actions` is a union type, so plain dicts would reach ARM with snake_case keys.
    cdn.Rule(
        "rule-security-headers",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        rule_set_name=rule_set.name,
        rule_name="securityheaders",
        order=1,
        conditions=[],
        actions=[
            cdn.DeliveryRuleResponseHeaderActionArgs(
                name="ModifyResponseHeader",
                parameters=cdn.HeaderActionParametersArgs(
                    type_name="DeliveryRuleHeaderActionParameters", header_action="Overwrite", header_name=n, value=v
                ),
            )
            for n, v in security_headers(upload_host)
        ],
        match_processing_behavior="Continue",
        opts=opts,
    )
    return rule_set


@dataclass(frozen=True)
class CdnNative:
    profile: Any
    endpoint: Any
    waf: Any
    security_policy: Any
    routes: dict[str, Any]
    origin_groups: dict[str, Any]
    custom_domain: Any


def _match_all() -> dict[str, Any]:
    # "client IP is not 255.255.255.255": true for every request (Front Door needs a condition).
    return {"match_variable": "RemoteAddr", "operator": "IPMatch", "negate_condition": True,
            "match_value": ["255.255.255.255/32"]}  # fmt: skip


def waf_custom_rules(
    rate_limit: int, premium: bool, auth_rate_limit: int = 50, auth_prefix: str = "/api/auth/"
) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            # Sign-in's own, tighter limit (credential stuffing); evaluated before the general one.
            "name": "RateLimitSignInPerClientIp",
            "priority": 90,
            "enabled_state": "Enabled",
            "rule_type": "RateLimitRule",
            "rate_limit_duration_in_minutes": 5,
            "rate_limit_threshold": auth_rate_limit,
            "group_by": [{"variable_name": "SocketAddr"}],
            "match_conditions": [
                {
                    "match_variable": "RequestUri",
                    "operator": "Contains",
                    "negate_condition": False,
                    "match_value": [auth_prefix],
                    "transforms": ["Lowercase"],
                }
            ],
            "action": "Block",
        },
        {
            "name": "RateLimitPerClientIp",
            "priority": 100,
            "enabled_state": "Enabled",
            "rule_type": "RateLimitRule",
            "rate_limit_duration_in_minutes": 5,
            "rate_limit_threshold": rate_limit,
            "group_by": [{"variable_name": "SocketAddr"}],
            "match_conditions": [_match_all()],
            "action": "Block",
        },
    ]
    if not premium:
        # Standard has no managed rule sets: block the most common probes by hand.
        rules += [
            {
                "name": "BlockPathTraversal",
                "priority": 200,
                "enabled_state": "Enabled",
                "rule_type": "MatchRule",
                "match_conditions": [
                    {
                        "match_variable": "RequestUri",
                        "operator": "Contains",
                        "negate_condition": False,
                        "match_value": ["../", "..%2f", "%2e%2e/"],
                        "transforms": ["Lowercase", "UrlDecode"],
                    }
                ],
                "action": "Block",
            },
            {
                "name": "BlockSqlAndScriptInjection",
                "priority": 300,
                "enabled_state": "Enabled",
                "rule_type": "MatchRule",
                "match_conditions": [
                    {
                        "match_variable": "QueryString",
                        "operator": "Contains",
                        "negate_condition": False,
                        "match_value": ["<script", "union select", "' or 1=1", "javascript:"],
                        "transforms": ["Lowercase", "UrlDecode"],
                    }
                ],
                "action": "Block",
            },
            {
                "name": "AllowedMethodsOnly",
                "priority": 400,
                "enabled_state": "Enabled",
                "rule_type": "MatchRule",
                "match_conditions": [
                    {
                        "match_variable": "RequestMethod",
                        "operator": "Equal",
                        "negate_condition": True,
                        "match_value": ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE"],
                    }
                ],
                "action": "Block",
            },
        ]
    return rules


def _zone_parts(zone_id: str) -> tuple[str, str]:
    m = re.search(r"/resourceGroups/([^/]+)/providers/Microsoft\.Network/dnszones/([^/]+)", zone_id, re.I)
    if not m:
        raise ValueError(f"not an Azure DNS zone id: {zone_id}")
    return m.group(1), m.group(2)


def front_door_only_policy(front_door_id: str) -> str:
    """API-level policy: only requests that came through this Front Door profile (its id in
    X-Azure-FDID, which Front Door overwrites on every request) reach the operations, so the
    WAF cannot be bypassed by calling the API Management gateway directly."""
    return (
        "<policies><inbound>"
        '<check-header name="X-Azure-FDID" failed-check-httpcode="403" '
        'failed-check-error-message="Forbidden" ignore-case="true">'
        f"<value>{front_door_id}</value></check-header>"
        "<base /></inbound><backend><base /></backend><outbound><base /></outbound>"
        "<on-error><base /></on-error></policies>"
    )


def lock_api_to_front_door(env: AzureEnv, api: specs.ApiResult, profile: Any, parent: pulumi.Resource) -> Any:
    import pulumi_azure_native.apimanagement as apim

    native = api.native
    return apim.ApiPolicy(
        "api-front-door-only",
        resource_group_name=env.rg_name,
        service_name=native.service.name,
        api_id=native.api.name,
        policy_id="policy",
        format="rawxml",
        value=profile.front_door_id.apply(front_door_only_policy),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _rule_set(
    env: AzureEnv, profile: Any, name: str, rule_specs: list[dict[str, Any]], opts: pulumi.ResourceOptions
) -> tuple[Any, list[Any]]:
    import pulumi_azure_native.cdn as cdn

    rule_set = cdn.RuleSet(
        f"rules-{name}", resource_group_name=env.rg_name, profile_name=profile.name, rule_set_name=name, opts=opts
    )
    rules = [
        cdn.Rule(
            f"rule-{name}-{rule['name']}",
            resource_group_name=env.rg_name,
            profile_name=profile.name,
            rule_set_name=rule_set.name,
            rule_name=rule["name"],
            order=rule["order"],
            conditions=rule["conditions"],
            actions=rule["actions"],
            match_processing_behavior="Continue",
            opts=opts,
        )
        for rule in rule_specs
    ]
    return rule_set, rules


def create_cdn(env: AzureEnv, args: specs.CdnArgs, parent: pulumi.Resource) -> specs.CdnResult:
    import pulumi_azure_native.cdn as cdn
    import pulumi_azure_native.frontdoor as frontdoor

    opts = pulumi.ResourceOptions(parent=parent)
    sku = env.settings.sku_for(env.context.is_prod)
    premium = sku == PREMIUM
    profile = cdn.Profile(
        "afd",
        resource_group_name=env.rg_name,
        location="global",
        sku={"name": sku},
        origin_response_timeout_seconds=60,
        tags=env.tags,
        opts=opts,
    )
    endpoint = cdn.AFDEndpoint(
        "endpoint",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        location="global",
        enabled_state="Enabled",
        tags=env.tags,
        opts=opts,
    )
    site = args.site.native

    def origin_group(key: str) -> Any:
        return cdn.AFDOriginGroup(
            f"og-{key}",
            resource_group_name=env.rg_name,
            profile_name=profile.name,
            # One origin per group: Front Door recommends no health probes (they only add
            # traffic, and a lone origin gets every request whatever its health).
            health_probe_settings=None,
            load_balancing_settings={
                "sample_size": 4,
                "successful_samples_required": 3,
                "additional_latency_in_milliseconds": 50,
            },
            session_affinity_state="Disabled",
            opts=opts,
        )

    og_site = origin_group("site")
    og_api = origin_group("api")
    origin_site = cdn.AFDOrigin(
        "origin-site",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        origin_group_name=og_site.name,
        host_name=site.web_host,
        origin_host_header=site.web_host,
        https_port=443,
        http_port=80,
        priority=1,
        weight=1000,
        enforce_certificate_name_check=True,
        enabled_state="Enabled",
        opts=opts,
    )
    origin_api = cdn.AFDOrigin(
        "origin-api",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        origin_group_name=og_api.name,
        host_name=args.api.host,
        origin_host_header=args.api.host,
        https_port=443,
        http_port=80,
        priority=1,
        weight=1000,
        enforce_certificate_name_check=True,
        enabled_state="Enabled",
        opts=opts,
    )

    custom_domain = None
    if args.domain_name:
        zone_id = env.settings.dns_zone_id or args.dns_zone_id
        custom_domain = cdn.AFDCustomDomain(
            "domain",
            resource_group_name=env.rg_name,
            profile_name=profile.name,
            host_name=args.domain_name,
            tls_settings={"certificate_type": "ManagedCertificate", "minimum_tls_version": "TLS12"},
            azure_dns_zone={"id": zone_id} if zone_id and zone_id.startswith("/") else None,
            opts=opts,
        )

    domains = [{"id": custom_domain.id}] if custom_domain is not None else []
    upload_host = site.blob_endpoint.apply(lambda e: (e or "").removeprefix("https://").split("/")[0])
    headers = _security_headers_rule_set(env, profile, upload_host, parent)
    api_pattern = args.api_path_pattern  # "/api/*"
    api_rule_set, api_rules = _rule_set(env, profile, "api", api_delivery_rules(), opts)
    route_api = cdn.Route(
        "route-api",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        endpoint_name=endpoint.name,
        origin_group={"id": og_api.id},
        patterns_to_match=[api_pattern],
        supported_protocols=["Http", "Https"],
        https_redirect="Enabled",
        forwarding_protocol="HttpsOnly",
        link_to_default_domain="Enabled",
        custom_domains=domains or None,
        cache_configuration=None,  # never cached
        rule_sets=[{"id": api_rule_set.id}, {"id": headers.id}],
        enabled_state="Enabled",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[origin_api, *api_rules]),
    )
    site_rules, rules = _rule_set(env, profile, "site", site_delivery_rules(), opts)
    route_site = cdn.Route(
        "route-site",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        endpoint_name=endpoint.name,
        origin_group={"id": og_site.id},
        patterns_to_match=["/*"],
        supported_protocols=["Http", "Https"],
        https_redirect="Enabled",
        forwarding_protocol="HttpsOnly",
        link_to_default_domain="Enabled",
        custom_domains=domains or None,
        cache_configuration={
            "query_string_caching_behavior": "IgnoreQueryString",
            "compression_settings": {"is_compression_enabled": True, "content_types_to_compress": COMPRESSIBLE},
        },
        rule_sets=[{"id": site_rules.id}, {"id": headers.id}],
        enabled_state="Enabled",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[origin_site, route_api, *rules]),
    )

    waf = frontdoor.Policy(
        "waf",
        resource_group_name=env.rg_name,
        policy_name=re.sub(r"[^A-Za-z0-9]", "", f"{env.context.name_prefix}waf"),
        location="Global",
        sku={"name": sku},
        policy_settings={
            "enabled_state": "Enabled",
            "mode": env.settings.waf_mode,
            "request_body_check": "Enabled",
            "custom_block_response_status_code": 403,
        },
        custom_rules={
            "rules": waf_custom_rules(
                args.firewall.rate_limit, premium, args.firewall.auth_rate_limit, args.firewall.auth_path_prefix
            )
        },
        managed_rules={
            "managed_rule_sets": [
                {"rule_set_type": t, "rule_set_version": v, **({"rule_set_action": a} if a else {})}
                for t, v, a in MANAGED_RULE_SETS
            ]
        }
        if premium
        else None,
        tags=env.tags,
        opts=opts,
    )
    security_policy = cdn.SecurityPolicy(
        "security",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        parameters={
            "type": "WebApplicationFirewall",
            "waf_policy": {"id": waf.id},
            "associations": [{"domains": [{"id": endpoint.id}, *domains], "patterns_to_match": ["/*"]}],
        },
        opts=opts,
    )
    if custom_domain is not None and env.settings.dns_zone_id:
        import pulumi_azure_native.dns as dns

        zone_rg, zone = _zone_parts(env.settings.dns_zone_id)
        relative = args.domain_name.removesuffix(zone).rstrip(".") or "@"
        dns.RecordSet(
            "dns-validation",
            resource_group_name=zone_rg,
            zone_name=zone,
            relative_record_set_name="_dnsauth" if relative == "@" else f"_dnsauth.{relative}",
            record_type="TXT",
            ttl=3600,
            txt_records=[{"value": [custom_domain.validation_properties.apply(lambda v: v.validation_token)]}],
            opts=opts,
        )
        if relative != "@":  # an apex needs an alias record to the endpoint instead (docs)
            dns.RecordSet(
                "dns-cname",
                resource_group_name=zone_rg,
                zone_name=zone,
                relative_record_set_name=relative,
                record_type="CNAME",
                ttl=3600,
                cname_record={"cname": endpoint.host_name},
                opts=pulumi.ResourceOptions(parent=parent, depends_on=[route_site]),
            )
    lock_api_to_front_door(env, args.api, profile, parent)
    host = pulumi.Output.from_input(args.domain_name) if args.domain_name else endpoint.host_name
    native = CdnNative(
        profile, endpoint, waf, security_policy, {"api": route_api, "site": route_site},
        {"api": og_api, "site": og_site}, custom_domain,
    )  # fmt: skip
    return specs.CdnResult(
        url=host.apply(lambda h: f"https://{h}"),
        host=host,
        distribution_id=endpoint.id,
        firewall_id=waf.id,
        native=native,
    )
