"""CDN: Azure Front Door (Standard in dev, Premium in prod unless shop:azure.frontDoorSku says
otherwise) with one endpoint, four origin groups (the site's static website, the uploads
account's static website and blob endpoint, the API Management gateway), four routes
(``/api/*`` -> API, never cached; ``/media/*`` -> uploaded images; ``/media-uploads/*`` ->
the admins' SAS PUTs, never cached; ``/*`` -> site, cached, compressed), HTTPS redirect, and
the WAF policy of firewall.py (which also caps the uploads' method, size and type) linked
through a security policy.
On Premium every storage origin is reached through Private Link (Front Door managed private
endpoints to the site account's ``web`` and the uploads account's ``web`` and ``blob``
sub-resources), which the account owner must approve once: docs/deploy-azure.md. Standard
has no Private Link: the storage origins are public there.
API Management accepts only requests carrying this profile's X-Azure-FDID (an API policy
created here, once the profile id exists), so the WAF sits in front of every API call.
Every route answers with the security headers of functions/shop/security_headers.py (HSTS, a
CSP with no storage host: uploads go to the shop's own origin, nosniff, no framing, referrer
policy) from a rule set.
A custom domain gets its certificate and DNS records from certificate.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.apimanagement as apim
import pulumi_azure_native.cdn as cdn
import pulumi_azure_native.frontdoor as frontdoor
import pulumi_azure_native.storage as storage

from components import specs
from functions.adapters.azure_media import UPLOAD_PATH, upload_origin_path
from functions.shop import security_headers as shared_headers
from functions.shop.datamodel import MEDIA_PREFIX
from functions.shop.routes import SITE_HOST_HEADER, SITEMAP_PATH
from providers.azure.api import AzureApi
from providers.azure.certificate import create_custom_domain, create_dns_records
from providers.azure.env import AzureEnv
from providers.azure.firewall import create_firewall
from providers.azure.static_site import BLOB_GROUP, STATIC_WEBSITE_GROUP, AzureStaticSite, web_host
from providers.site_files import ENTRY, HASH_LENGTH, IMMUTABLE, NO_CACHE, REVALIDATE, SHORT

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
Condition = cdn.DeliveryRuleUrlPathConditionArgs | cdn.DeliveryRuleUrlFileExtensionConditionArgs
Action = (
    cdn.DeliveryRuleResponseHeaderActionArgs
    | cdn.DeliveryRuleRequestHeaderActionArgs
    | cdn.DeliveryRuleRouteConfigurationOverrideActionArgs
    | cdn.UrlRewriteActionArgs
)


@dataclass(frozen=True)
class DeliveryRule:
    name: str
    order: int
    conditions: list[Condition]
    actions: list[Action]


@dataclass(frozen=True)
class AzureCdn:
    profile: cdn.Profile
    endpoint: cdn.AFDEndpoint
    waf: frontdoor.Policy
    security_policy: cdn.SecurityPolicy
    routes: dict[str, cdn.Route]  # "api" | "site" | "media" | "uploads" -> route
    origin_groups: dict[str, cdn.AFDOriginGroup]
    custom_domain: cdn.AFDCustomDomain | None
    host: pulumi.Output[str]  # the custom domain, else the endpoint's host

    @property
    def result(self) -> specs.CdnResult:
        return specs.CdnResult(
            url=self.host.apply(lambda h: f"https://{h}"),
            host=self.host,
            distribution_id=self.endpoint.id,
            firewall_id=self.waf.id,
        )


def _condition(kind: str, operator: str, values: list[str], transforms: list[str] | None = None) -> Condition:
    type_name = f"DeliveryRule{kind}MatchConditionParameters"
    if kind == "UrlPath":
        return cdn.DeliveryRuleUrlPathConditionArgs(
            name=kind,
            parameters=cdn.UrlPathMatchConditionParametersArgs(
                type_name=type_name, operator=operator, match_values=values, transforms=transforms
            ),
        )
    return cdn.DeliveryRuleUrlFileExtensionConditionArgs(
        name=kind,
        parameters=cdn.UrlFileExtensionMatchConditionParametersArgs(
            type_name=type_name, operator=operator, match_values=values, transforms=transforms
        ),
    )


def _header(direction: str, name: str, value: pulumi.Input[str]) -> Action:
    parameters = cdn.HeaderActionParametersArgs(
        type_name="DeliveryRuleHeaderActionParameters", header_action="Overwrite", header_name=name, value=value
    )
    if direction == "Response":
        return cdn.DeliveryRuleResponseHeaderActionArgs(name="ModifyResponseHeader", parameters=parameters)
    return cdn.DeliveryRuleRequestHeaderActionArgs(name="ModifyRequestHeader", parameters=parameters)


def _cache(value: str, edge: tuple[str, str] | None) -> list[Action]:
    """Cache-Control for the browser, and (behaviour, duration) of Front Door's own cache
    (None: not cached at the edge)."""
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


def _rewrite(destination: str) -> Action:
    return cdn.UrlRewriteActionArgs(
        name="UrlRewrite",
        parameters=cdn.UrlRewriteActionParametersArgs(
            type_name="DeliveryRuleUrlRewriteActionParameters",
            source_pattern="/",
            destination=destination,
            preserve_unmatched_path=False,
        ),
    )


def site_delivery_rules() -> list[DeliveryRule]:
    """The site route's rule set: cache lifetimes by name, and the app shell for routes."""
    hour = ("OverrideIfOriginMissing", "01:00:00")
    year = ("OverrideAlways", "365.00:00:00")
    return [
        DeliveryRule("ShortCache", 1, [_condition("UrlPath", "Any", [])], _cache(SHORT, hour)),
        DeliveryRule("HashedImmutable", 2, [_condition("UrlPath", "RegEx", [_HASHED_NAME])], _cache(IMMUTABLE, year)),
        # Front Door's request path has no leading slash: "index.html", "js/app.<hash>.js".
        DeliveryRule("EntryRevalidate", 3, [_condition("UrlPath", "Equal", list(NO_CACHE), ["Lowercase"])],
                     _cache(REVALIDATE, None)),
        # An extension-less path (/p/<id>, /c/<id>, /cart...) is a client-side route: answer
        # it with index.html and a 200 (the static website's own 404 page would say 404).
        DeliveryRule("SpaRoutes", 4, [_condition("UrlFileExtension", "LessThan", ["1"])],
                     [_rewrite("/" + ENTRY), *_cache(REVALIDATE, None)]),
    ]  # fmt: skip


def api_delivery_rules() -> list[DeliveryRule]:
    """The API route's rule set: the sitemap's absolute URLs need the storefront's host, and
    behind Front Door the API sees its own, so the visitor's goes along in a header."""
    sitemap = _condition("UrlPath", "Equal", [SITEMAP_PATH.lstrip("/")], ["Lowercase"])
    return [DeliveryRule("SitemapHost", 1, [sitemap], [_header("Request", SITE_HOST_HEADER, "{hostname}")])]


def content_security_policy(stripe: bool = False) -> str:
    """Own origin (the admins' SAS uploads go to it too, through Front Door's uploads route),
    plus Stripe.js's hosts when the shop takes cards."""
    return shared_headers.content_security_policy(stripe=stripe)


def security_headers(stripe: bool = False) -> list[tuple[str, pulumi.Input[str]]]:
    """functions/shop/security_headers.py's policy, the one the local gateway sends too."""
    return [
        ("Strict-Transport-Security", f"max-age={shared_headers.HSTS_MAX_AGE_SECONDS}; includeSubDomains; preload"),
        ("Content-Security-Policy", content_security_policy(stripe)),
        ("X-Content-Type-Options", shared_headers.CONTENT_TYPE_OPTIONS),
        ("X-Frame-Options", shared_headers.FRAME_OPTIONS),
        ("Referrer-Policy", shared_headers.REFERRER_POLICY),
    ]


def _security_headers_rule_set(
    env: AzureEnv, profile: cdn.Profile, stripe: bool, opts: pulumi.ResourceOptions
) -> cdn.RuleSet:
    rule_set = cdn.RuleSet(
        "rules-headers", resource_group_name=env.rg_name, profile_name=profile.name, rule_set_name="securityheaders",
        opts=opts,
    )  # fmt: skip
    cdn.Rule(
        "rule-security-headers",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        rule_set_name=rule_set.name,
        rule_name="securityheaders",
        order=1,
        conditions=[],
        actions=[_header("Response", n, v) for n, v in security_headers(stripe)],
        match_processing_behavior="Continue",
        opts=opts,
    )
    return rule_set


def _rule_set(
    env: AzureEnv, profile: cdn.Profile, name: str, rules: list[DeliveryRule], opts: pulumi.ResourceOptions
) -> tuple[cdn.RuleSet, list[cdn.Rule]]:
    rule_set = cdn.RuleSet(
        f"rules-{name}", resource_group_name=env.rg_name, profile_name=profile.name, rule_set_name=name, opts=opts
    )
    made = [
        cdn.Rule(
            f"rule-{name}-{rule.name}",
            resource_group_name=env.rg_name,
            profile_name=profile.name,
            rule_set_name=rule_set.name,
            rule_name=rule.name,
            order=rule.order,
            conditions=rule.conditions,
            actions=rule.actions,
            match_processing_behavior="Continue",
            opts=opts,
        )
        for rule in rules
    ]
    return rule_set, made


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


def lock_api_to_front_door(
    env: AzureEnv, api: AzureApi, profile: cdn.Profile, parent: pulumi.Resource
) -> apim.ApiPolicy:
    return apim.ApiPolicy(
        "api-front-door-only",
        resource_group_name=env.rg_name,
        service_name=api.service.name,
        api_id=api.api.name,
        policy_id="policy",
        format="rawxml",
        value=profile.front_door_id.apply(front_door_only_policy),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def private_link(
    env: AzureEnv, site: AzureStaticSite, account: storage.StorageAccount, group: str, what: str
) -> cdn.SharedPrivateLinkResourcePropertiesArgs | None:
    """Premium: Front Door asks for a private endpoint to the account's `group` sub-resource;
    the connection stays Pending until approved (docs/deploy-azure.md), and until then Front
    Door answers that origin's paths with an error, never through the public endpoint."""
    if not site.private:
        return None
    return cdn.SharedPrivateLinkResourcePropertiesArgs(
        group_id=group,
        private_link=cdn.ResourceReferenceArgs(id=account.id),
        private_link_location=env.location,
        request_message=f"Front Door origin of {env.context.name_prefix} {what}",
    )


def _origin(
    env: AzureEnv,
    profile: cdn.Profile,
    key: str,
    host: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    private_link: cdn.SharedPrivateLinkResourcePropertiesArgs | None = None,
) -> tuple[cdn.AFDOriginGroup, cdn.AFDOrigin]:
    group = cdn.AFDOriginGroup(
        f"og-{key}",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        # One origin per group: Front Door recommends no health probes (they only add
        # traffic, and a lone origin gets every request whatever its health).
        health_probe_settings=None,
        load_balancing_settings=cdn.LoadBalancingSettingsParametersArgs(
            sample_size=4, successful_samples_required=3, additional_latency_in_milliseconds=50
        ),
        session_affinity_state="Disabled",
        opts=opts,
    )
    origin = cdn.AFDOrigin(
        f"origin-{key}",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        origin_group_name=group.name,
        host_name=host,
        origin_host_header=host,
        https_port=443,
        http_port=80,
        priority=1,
        weight=1000,
        enforce_certificate_name_check=True,
        enabled_state="Enabled",
        shared_private_link_resource=private_link,
        opts=opts,
    )
    return group, origin


@dataclass(frozen=True)
class _Edge:
    """What both routes attach to."""

    profile: cdn.Profile
    endpoint: cdn.AFDEndpoint
    domains: list[cdn.ActivatedResourceReferenceArgs]  # the custom domain, if any
    headers: cdn.RuleSet


def _route(
    env: AzureEnv,
    edge: _Edge,
    key: str,
    group: cdn.AFDOriginGroup,
    pattern: str,
    rule_set: cdn.RuleSet | None,
    cache: cdn.AfdRouteCacheConfigurationArgs | None,
    opts: pulumi.ResourceOptions,
    origin_path: str | None = None,
) -> cdn.Route:
    rule_sets = [r for r in (rule_set, edge.headers) if r is not None]
    return cdn.Route(
        f"route-{key}",
        resource_group_name=env.rg_name,
        profile_name=edge.profile.name,
        endpoint_name=edge.endpoint.name,
        origin_group=cdn.ResourceReferenceArgs(id=group.id),
        patterns_to_match=[pattern],
        supported_protocols=["Http", "Https"],
        https_redirect="Enabled",
        forwarding_protocol="HttpsOnly",
        link_to_default_domain="Enabled",
        custom_domains=edge.domains or None,
        cache_configuration=cache,
        origin_path=origin_path,
        rule_sets=[cdn.ResourceReferenceArgs(id=r.id) for r in rule_sets],
        enabled_state="Enabled",
        opts=opts,
    )


def _media_route(
    env: AzureEnv,
    edge: _Edge,
    site: AzureStaticSite,
    cache: cdn.AfdRouteCacheConfigurationArgs,
    parent: pulumi.Resource,
    after: cdn.Route,
) -> tuple[cdn.Route, cdn.AFDOriginGroup]:
    """/media/* from the uploads account (blob names keep the media/ prefix, so the path maps
    1:1). Made after the site route, as that one waits for the API's: the endpoint's routes are
    created one by one."""
    opts = pulumi.ResourceOptions(parent=parent)
    link = private_link(env, site, site.uploads.account, STATIC_WEBSITE_GROUP, "product images")
    og_media, origin_media = _origin(env, edge.profile, "media", web_host(site.uploads.account), opts, link)
    short_cache = [r for r in site_delivery_rules() if r.name == "ShortCache"]
    media_rules, media_made = _rule_set(env, edge.profile, "media", short_cache, opts)
    route = _route(
        env, edge, "media", og_media, "/" + MEDIA_PREFIX + "*", media_rules, cache,
        pulumi.ResourceOptions(parent=parent, depends_on=[origin_media, after, *media_made]),
    )  # fmt: skip
    return route, og_media


def _uploads_route(
    env: AzureEnv, edge: _Edge, site: AzureStaticSite, parent: pulumi.Resource, after: cdn.Route
) -> tuple[cdn.Route, cdn.AFDOriginGroup]:
    """The admins' SAS PUTs on the shop's origin: UPLOAD_PATH<key> goes to the uploads account's
    blob endpoint as /$web/media/<key> (the route's origin path replaces the matched prefix),
    the blob the SAS is signed for. Never cached; the WAF checks method, size and type."""
    opts = pulumi.ResourceOptions(parent=parent)
    link = private_link(env, site, site.uploads.account, BLOB_GROUP, "admin image uploads")
    og_uploads, origin_uploads = _origin(env, edge.profile, "uploads", site.uploads.blob_host, opts, link)
    route = _route(
        env, edge, "uploads", og_uploads, UPLOAD_PATH + "*", None, None,
        pulumi.ResourceOptions(parent=parent, depends_on=[origin_uploads, after]),
        origin_path=upload_origin_path(site.uploads.container),
    )  # fmt: skip
    return route, og_uploads


def _routes(
    env: AzureEnv, edge: _Edge, args: specs.CdnArgs, site: AzureStaticSite, parent: pulumi.Resource
) -> tuple[dict[str, cdn.Route], dict[str, cdn.AFDOriginGroup]]:
    opts = pulumi.ResourceOptions(parent=parent)
    site_link = private_link(env, site, site.account, STATIC_WEBSITE_GROUP, "storefront")
    og_site, origin_site = _origin(env, edge.profile, "site", site.web_host, opts, site_link)
    og_api, origin_api = _origin(env, edge.profile, "api", args.api.host, opts)
    api_rules, api_made = _rule_set(env, edge.profile, "api", api_delivery_rules(), opts)
    route_api = _route(
        env, edge, "api", og_api, args.api_path_pattern, api_rules, None,  # never cached
        pulumi.ResourceOptions(parent=parent, depends_on=[origin_api, *api_made]),
    )  # fmt: skip
    site_rules, site_made = _rule_set(env, edge.profile, "site", site_delivery_rules(), opts)
    cache = cdn.AfdRouteCacheConfigurationArgs(
        query_string_caching_behavior="IgnoreQueryString",
        compression_settings=cdn.CompressionSettingsArgs(
            is_compression_enabled=True, content_types_to_compress=COMPRESSIBLE
        ),
    )
    route_site = _route(
        env, edge, "site", og_site, "/*", site_rules, cache,
        pulumi.ResourceOptions(parent=parent, depends_on=[origin_site, route_api, *site_made]),
    )  # fmt: skip
    route_media, og_media = _media_route(env, edge, site, cache, parent, after=route_site)
    route_uploads, og_uploads = _uploads_route(env, edge, site, parent, after=route_media)
    routes = {"api": route_api, "site": route_site, "media": route_media, "uploads": route_uploads}
    return routes, {"api": og_api, "site": og_site, "media": og_media, "uploads": og_uploads}


def create_cdn(
    env: AzureEnv, args: specs.CdnArgs, parent: pulumi.Resource, site: AzureStaticSite, api: AzureApi
) -> AzureCdn:
    opts = pulumi.ResourceOptions(parent=parent)
    sku = env.settings.sku_for(env.context.is_prod)
    profile = cdn.Profile(
        "afd",
        resource_group_name=env.rg_name,
        location="global",
        sku=cdn.SkuArgs(name=sku),
        origin_response_timeout_seconds=60,
        opts=opts,
    )
    endpoint = cdn.AFDEndpoint(
        "endpoint", resource_group_name=env.rg_name, profile_name=profile.name, location="global",
        enabled_state="Enabled", opts=opts,
    )  # fmt: skip
    domain = None
    if args.domain_name:
        domain = create_custom_domain(env, profile, args.domain_name, args.dns_zone_id, parent)
    edge = _Edge(
        profile,
        endpoint,
        [cdn.ActivatedResourceReferenceArgs(id=domain.id)] if domain is not None else [],
        _security_headers_rule_set(env, profile, args.stripe, opts),
    )
    routes, origin_groups = _routes(env, edge, args, site, parent)
    waf = create_firewall(env, args.firewall, sku, parent)
    security_policy = cdn.SecurityPolicy(
        "security",
        resource_group_name=env.rg_name,
        profile_name=profile.name,
        parameters=cdn.SecurityPolicyWebApplicationFirewallParametersArgs(
            type="WebApplicationFirewall",
            waf_policy=cdn.ResourceReferenceArgs(id=waf.id),
            associations=[
                cdn.SecurityPolicyWebApplicationFirewallAssociationArgs(
                    domains=[cdn.ActivatedResourceReferenceArgs(id=endpoint.id), *edge.domains],
                    patterns_to_match=["/*"],
                )
            ],
        ),
        opts=opts,
    )
    if domain is not None and args.domain_name:
        create_dns_records(env, domain, args.domain_name, endpoint, routes["site"], parent)
    lock_api_to_front_door(env, api, profile, parent)
    host = pulumi.Output.from_input(args.domain_name) if args.domain_name else endpoint.host_name
    return AzureCdn(profile, endpoint, waf, security_policy, routes, origin_groups, domain, host)
