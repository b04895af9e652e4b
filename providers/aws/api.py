"""HTTP API generated from the route table: Cognito JWT authorizer, one route per Route,
one Lambda proxy integration (payload 2.0) per service, $default stage with JSON access
logs and throttling (tighter on /api/auth/*), and invoke permissions scoped to this API.

Only CloudFront reaches the API. With a custom domain (always in prod), the API's own
execute-api endpoint is off and CloudFront's origin is ``origin-api.<domain>``, a custom
domain that requires mutual TLS: a caller without CloudFront's client certificate (signed by
the stack's private CA, the domain's truststore) fails the TLS handshake before API Gateway
routes, authorizes or throttles anything. An HTTP API takes no WAF and no resource policy, so
this is the way to keep direct callers off the stage's throttle. Without a domain (dev), the
execute-api URL answers, and the functions refuse any request without CloudFront's origin
secret header (cdn.py, functions/runtimes/origin.py), which they check in both cases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import ApiArgs, ApiResult
from functions.shop.routes import PUBLIC
from providers.aws.certificate import (
    OriginClientCertificate,
    create_origin_certificate,
    create_origin_client_certificate,
    origin_api_host,
)
from providers.aws.env import AwsEnv
from providers.aws.static_site import deny_insecure_transport_policy, harden_bucket
from providers.base import Parent

# API Gateway ends an HTTP API integration after 30 s whatever the function's timeout.
INTEGRATION_TIMEOUT_MS = 30_000
# Sign-in, sign-up, confirm, refresh: all clients together, so a stuffing run spread over
# many addresses (each under the WAF's per-IP limit) stays far below Cognito's quotas.
AUTH_PATH_PREFIX = "/api/auth/"
AUTH_ROUTE_RATE_LIMIT = 20  # requests per second
AUTH_ROUTE_BURST_LIMIT = 40

# One JSON object per request: who, what, how long, and why it failed.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "path": "$context.path",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
        "userAgent": "$context.identity.userAgent",
    },
    separators=(",", ":"),
)


TRUSTSTORE_KEY = "truststore.pem"


@dataclass(frozen=True)
class AwsOriginDomain:
    """The API's mutual-TLS custom domain, CloudFront's only way in."""

    host: str  # origin-api.<domain>
    site_url: str  # https://<domain>: where the API answers the public (through CloudFront)
    domain: aws.apigatewayv2.DomainName
    truststore: aws.s3.BucketObjectv2
    client_certificate: OriginClientCertificate


@dataclass(frozen=True)
class AwsApi:
    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    authorizer: aws.apigatewayv2.Authorizer
    routes: Mapping[str, aws.apigatewayv2.Route]  # route_key -> route
    origin: AwsOriginDomain | None = None  # None: no domain, the execute-api URL is the origin

    @property
    def result(self) -> ApiResult:
        # With the execute-api endpoint off, the one URL that answers API calls is the site's
        # (routes under /api), known up front because it is the configured domain.
        if self.origin is not None:
            url: pulumi.Output[str] = pulumi.Output.from_input(self.origin.site_url)
            host: pulumi.Output[str] = pulumi.Output.from_input(self.origin.host)
        else:
            url = self.stage.invoke_url.apply(lambda u: u.rstrip("/"))
            host = self.api.api_endpoint.apply(lambda e: e.removeprefix("https://"))
        return ApiResult(url=url, host=host, api_id=self.api.id, route_count=len(self.routes))


def create_api(env: AwsEnv, args: ApiArgs, parent: Parent) -> AwsApi:
    domain = (args.domain_name, args.dns_zone_id) if args.domain_name and args.dns_zone_id else None
    api = aws.apigatewayv2.Api(
        "http-api",
        protocol_type="HTTP",
        description="Shop API (routes from functions/shop/routes.py)",
        # No CORS: the storefront calls the API on its own origin through the CDN.
        # With a domain, only the mutual-TLS custom domain answers (module docstring).
        disable_execute_api_endpoint=True if domain else None,
        opts=env.opts(parent),
    )
    authorizer = aws.apigatewayv2.Authorizer(
        "cognito",
        api_id=api.id,
        authorizer_type="JWT",
        identity_sources=["$request.header.Authorization"],
        jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
            issuer=args.auth.issuer_url,
            # Cognito access tokens carry the app client id in client_id, which API Gateway
            # checks against the audience list.
            audiences=[args.auth.client_id],
        ),
        opts=env.opts(parent),
    )
    integrations = _integrations(env, args, api, parent)
    routes = _routes(env, args, api, authorizer, integrations, parent)
    stage = _stage(env, args, api, routes, parent)
    origin = _origin_domain(env, *domain, api, stage, parent) if domain else None
    return AwsApi(api, stage, authorizer, routes, origin)


def _origin_domain(
    env: AwsEnv,
    domain_name: str,
    hosted_zone_id: str,
    api: aws.apigatewayv2.Api,
    stage: aws.apigatewayv2.Stage,
    parent: Parent,
) -> AwsOriginDomain:
    """origin-api.<domain>: REGIONAL, TLS 1.2, mutual TLS against the stack's private CA, mapped
    to the $default stage, with its alias record in the hosted zone."""
    host = origin_api_host(domain_name)
    client_certificate = create_origin_client_certificate(env, domain_name, parent)
    truststore = _truststore(env, client_certificate.ca_cert_pem, parent)
    domain = aws.apigatewayv2.DomainName(
        "origin-api",
        domain_name=host,
        domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
            certificate_arn=create_origin_certificate(env, host, hosted_zone_id, parent),
            endpoint_type="REGIONAL",
            security_policy="TLS_1_2",
        ),
        mutual_tls_authentication=aws.apigatewayv2.DomainNameMutualTlsAuthenticationArgs(
            truststore_uri=pulumi.Output.concat("s3://", truststore.bucket, "/", truststore.key),
            # A new CA uploads a new version, and the domain follows it.
            truststore_version=truststore.version_id,
        ),
        opts=env.opts(parent),
    )
    aws.apigatewayv2.ApiMapping(
        "origin-api", api_id=api.id, domain_name=domain.id, stage=stage.name, opts=env.opts(parent)
    )
    target = domain.domain_name_configuration
    aws.route53.Record(
        "origin-api",
        zone_id=hosted_zone_id,
        name=host,
        type="A",
        aliases=[
            aws.route53.RecordAliasArgs(
                name=target.target_domain_name, zone_id=target.hosted_zone_id, evaluate_target_health=False
            )
        ],
        opts=env.opts(parent),
    )
    return AwsOriginDomain(host, f"https://{domain_name}", domain, truststore, client_certificate)


def _truststore(env: AwsEnv, ca_cert_pem: pulumi.Input[str], parent: Parent) -> aws.s3.BucketObjectv2:
    """The CA's certificate as API Gateway's truststore: a private, versioned bucket of the API's
    region (the domain names the object version it trusts)."""
    opts = env.opts(parent)
    bucket = aws.s3.Bucket("origin-truststore", force_destroy=not env.context.is_prod, opts=opts)
    versioning = aws.s3.BucketVersioning(
        "origin-truststore",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=opts,
    )
    harden_bucket(env, "origin-truststore", bucket, parent, object_ownership="BucketOwnerEnforced")
    deny_insecure_transport_policy(env, "origin-truststore", bucket, parent)
    return aws.s3.BucketObjectv2(
        "origin-truststore",
        bucket=bucket.id,
        key=TRUSTSTORE_KEY,
        content=ca_cert_pem,
        content_type="application/x-pem-file",
        # The object has a version id only once versioning is on.
        opts=env.opts(parent, depends_on=[versioning]),
    )


def _integrations(
    env: AwsEnv, args: ApiArgs, api: aws.apigatewayv2.Api, parent: Parent
) -> dict[str, aws.apigatewayv2.Integration]:
    """One Lambda proxy integration per service the routes name, and its invoke permission."""
    integrations: dict[str, aws.apigatewayv2.Integration] = {}
    for service in sorted({r.service for r in args.routes}):
        fn = args.functions.functions.get(service)
        if fn is None:
            raise ValueError(f"routes name service {service!r} but no function serves it (datamodel.SERVICES)")
        integrations[service] = aws.apigatewayv2.Integration(
            service,
            api_id=api.id,
            integration_type="AWS_PROXY",
            integration_uri=fn.invoke_ref,
            integration_method="POST",
            payload_format_version="2.0",
            timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
            opts=env.opts(parent),
        )
        # Only this API (any stage, any route) may invoke the function.
        aws.lambda_.Permission(
            f"{service}-invoke",
            action="lambda:InvokeFunction",
            function=fn.function_id,
            principal="apigateway.amazonaws.com",
            source_arn=api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
            opts=env.opts(parent),
        )
    return integrations


def _routes(
    env: AwsEnv,
    args: ApiArgs,
    api: aws.apigatewayv2.Api,
    authorizer: aws.apigatewayv2.Authorizer,
    integrations: Mapping[str, aws.apigatewayv2.Integration],
    parent: Parent,
) -> dict[str, aws.apigatewayv2.Route]:
    routes: dict[str, aws.apigatewayv2.Route] = {}
    for route in args.routes:
        protected = route.auth != PUBLIC
        # Admin routes need a valid token here; membership of the admin group (the
        # cognito:groups claim) is checked by the handler, which JWT authorizers cannot do.
        routes[route.route_key] = aws.apigatewayv2.Route(
            f"route-{route.operation_id}",
            api_id=api.id,
            route_key=route.route_key,
            operation_name=route.operation_id,
            target=integrations[route.service].id.apply(lambda i: f"integrations/{i}"),
            authorization_type="JWT" if protected else "NONE",
            authorizer_id=authorizer.id if protected else None,
            opts=env.opts(parent),
        )
    return routes


def _stage(
    env: AwsEnv,
    args: ApiArgs,
    api: aws.apigatewayv2.Api,
    routes: Mapping[str, aws.apigatewayv2.Route],
    parent: Parent,
) -> aws.apigatewayv2.Stage:
    """$default stage: JSON access logs, throttling (tighter on the auth routes)."""
    access_logs = aws.cloudwatch.LogGroup(
        "api-access-logs",
        retention_in_days=args.log_retention_days,
        kms_key_id=args.encryption.key_id if args.encryption else None,
        opts=env.opts(parent),
    )
    return aws.apigatewayv2.Stage(
        "default",
        api_id=api.id,
        name="$default",
        auto_deploy=True,
        access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
            destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
        ),
        default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
            throttling_rate_limit=args.throttle_rate_limit,
            throttling_burst_limit=args.throttle_burst_limit,
            detailed_metrics_enabled=True,
        ),
        route_settings=[
            aws.apigatewayv2.StageRouteSettingArgs(
                route_key=route.route_key,
                throttling_rate_limit=min(AUTH_ROUTE_RATE_LIMIT, args.throttle_rate_limit),
                throttling_burst_limit=min(AUTH_ROUTE_BURST_LIMIT, args.throttle_burst_limit),
                detailed_metrics_enabled=True,
            )
            for route in args.routes
            if route.path.startswith(AUTH_PATH_PREFIX)
        ],
        opts=env.opts(parent, depends_on=list(routes.values())),
    )
