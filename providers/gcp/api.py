"""API: API Gateway with the Swagger 2.0 document generated from the route table
(functions.shop.openapi.openapi2): one operation per route, Identity Platform JWT security
on customer and admin operations, ``x-google-backend`` to the route's service function with
the path appended (handlers see the same /api/... paths as on every cloud).

The gateway calls the functions as its own service account, the only invoker the HTTP
functions have; the admin group is still checked by the handler.

Only the load balancer reaches the gateway: every operation also requires an API key in
``x-api-key`` (a key restricted to this API), which the load balancer's backend service adds
to each request it forwards (cdn.py). A call to the ``*.gateway.dev`` host, around Cloud
Armor, has no key and gets the gateway's 401. API Gateway has no ingress setting or IP
filter; the key is the one lock it offers. API Gateway has no
per-client throttling without API keys: the per-IP rate limit is Cloud Armor's, on the
load balancer in front (cdn.py), and each function's max instance count caps the rest.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from functions.shop.openapi import OpenApiDocument, openapi2
from providers.gcp.auth import GcpAuth
from providers.gcp.env import GcpEnv
from providers.gcp.functions import GcpFunctions
from providers.gcp.iam import RUN_INVOKER

APIGATEWAY = "apigateway.googleapis.com"
LB_KEY_HEADER = "x-api-key"
LB_KEY_DEFINITION = "lb_key"


@dataclass(frozen=True)
class GcpApi:
    api: gcp.apigateway.Api
    config: gcp.apigateway.ApiConfig
    gateway: gcp.apigateway.Gateway
    account: gcp.serviceaccount.Account  # the gateway's identity towards the functions
    document: pulumi.Output[OpenApiDocument]  # the Swagger 2.0 document the config serves
    invokers: Mapping[str, gcp.cloudrunv2.ServiceIamMember]
    lb_key: gcp.projects.ApiKey  # the key the load balancer sends
    lb_key_header: pulumi.Output[str]  # "x-api-key: <key>", a secret
    route_count: int

    @property
    def result(self) -> specs.ApiResult:
        host = self.gateway.default_hostname
        return specs.ApiResult(
            url=host.apply(lambda h: f"https://{h}"), host=host, api_id=self.api.api_id, route_count=self.route_count
        )


def api_document(urls: dict[str, str], args: specs.ApiArgs, auth: GcpAuth, title: str) -> OpenApiDocument:
    return require_lb_key(
        openapi2(
            urls,
            auth.issuer,
            auth.audience,
            jwks_uri=auth.jwks_uri,
            title=title,
            route_table=tuple(args.routes),
        )
    )


def require_lb_key(document: OpenApiDocument) -> OpenApiDocument:
    """Every operation also needs the load balancer's API key (AND with its JWT, if any)."""
    document["securityDefinitions"][LB_KEY_DEFINITION] = {"type": "apiKey", "name": LB_KEY_HEADER, "in": "header"}
    for operations in document["paths"].values():
        for op in operations.values():
            op["security"] = [{**requirement, LB_KEY_DEFINITION: []} for requirement in op.get("security") or [{}]]
    return document


def _invokers(env: GcpEnv, functions: GcpFunctions, account: gcp.serviceaccount.Account,
              parent: pulumi.Resource) -> dict[str, gcp.cloudrunv2.ServiceIamMember]:  # fmt: skip
    """The gateway's account is the only invoker of the HTTP functions."""
    return {
        name: gcp.cloudrunv2.ServiceIamMember(
            f"iam-gateway-invokes-{name}",
            project=env.project,
            location=env.region,
            name=fn.function.name,
            role=RUN_INVOKER,
            member=account.member,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for name, fn in functions.functions.items()
        if fn.service.trigger == "http"
    }


def _config(env: GcpEnv, api: gcp.apigateway.Api, document: pulumi.Output[OpenApiDocument],
            account: gcp.serviceaccount.Account, invokers: Mapping[str, gcp.cloudrunv2.ServiceIamMember],
            parent: pulumi.Resource) -> gcp.apigateway.ApiConfig:  # fmt: skip
    contents = document.apply(lambda d: base64.b64encode(json.dumps(d, sort_keys=True).encode()).decode())
    return gcp.apigateway.ApiConfig(
        "api-config",
        project=env.project,
        api=api.api_id,
        api_config_id_prefix=f"{env.context.name_prefix}-"[:40],
        openapi_documents=[{"document": {"path": "openapi.json", "contents": contents}}],
        gateway_config={"backend_config": {"google_service_account": account.email}},
        # A new document makes a new config; the gateway switches before the old one goes.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(invokers.values())),
    )


def create_api(env: GcpEnv, args: specs.ApiArgs, parent: pulumi.Resource, *, functions: GcpFunctions,
               auth: GcpAuth) -> GcpApi:  # fmt: skip
    account = env.service_account("sa-gateway", "gateway", "API Gateway backend identity", parent, "iam.googleapis.com")
    invokers = _invokers(env, functions, account, parent)
    api = gcp.apigateway.Api(
        "api",
        project=env.project,
        api_id=env.resource_id("api", max_len=63),
        display_name=f"{env.context.name_prefix} shop API",
        opts=env.opts(parent, APIGATEWAY),
    )
    title = f"{env.context.name_prefix}-api"
    http = {name: fn.function.url for name, fn in functions.functions.items() if fn.service.trigger == "http"}
    document = pulumi.Output.all(**http).apply(lambda u: api_document(dict(u), args, auth, title))
    config = _config(env, api, document, account, invokers, parent)
    gateway = gcp.apigateway.Gateway(
        "gateway",
        project=env.project,
        region=env.settings.gateway_region(env.region),
        gateway_id=env.resource_id("gw", max_len=63),
        api_config=config.id,
        display_name=f"{env.context.name_prefix} shop gateway",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    lb_key = _lb_key(env, api, parent)
    header: pulumi.Output[str] = pulumi.Output.secret(pulumi.Output.concat(LB_KEY_HEADER, ": ", lb_key.key_string))
    return GcpApi(api, config, gateway, account, document, invokers, lb_key, header, route_count=len(args.routes))


def _lb_key(env: GcpEnv, api: gcp.apigateway.Api, parent: pulumi.Resource) -> gcp.projects.ApiKey:
    """The key only the load balancer holds. API keys work for an API only once its managed
    service is enabled in the project."""
    managed = gcp.projects.Service(
        "api-managed-service",
        project=env.project,
        service=api.managed_service,
        disable_on_destroy=False,
        opts=env.opts(parent, "servicemanagement.googleapis.com", "servicecontrol.googleapis.com"),
    )
    return gcp.projects.ApiKey(
        "lb-key",
        project=env.project,
        name=env.resource_id("lb-key", max_len=63),
        display_name=f"{env.context.name_prefix} load balancer -> API Gateway",
        restrictions={"api_targets": [{"service": api.managed_service}]},
        opts=env.opts(parent, "apikeys.googleapis.com", depends_on=[managed]),
    )
