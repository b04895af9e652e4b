"""API: API Gateway with the Swagger 2.0 document generated from the route table
(functions.shop.openapi.openapi2): one operation per route, Identity Platform JWT security
on customer and admin operations, ``x-google-backend`` to the route's service function with
the path appended (handlers see the same /api/... paths as on every cloud).

The gateway calls the functions as its own service account, the only invoker the HTTP
functions have; the admin group is still checked by the handler. API Gateway has no
per-client throttling without API keys: the per-IP rate limit is Cloud Armor's, on the
load balancer in front (cdn.py), and each function's max instance count caps the rest.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from functions.shop.openapi import openapi2
from providers.gcp.env import GcpEnv

APIGATEWAY = "apigateway.googleapis.com"
RUN_INVOKER = "roles/run.invoker"


@dataclass
class ApiNative:
    api: Any
    config: Any
    gateway: Any
    account: Any
    document: pulumi.Output[dict]
    invokers: dict[str, Any] = field(default_factory=dict)


def api_document(urls: dict[str, str], args: specs.ApiArgs, auth: Any, title: str) -> dict:
    return openapi2(
        urls,
        auth.issuer,
        auth.audience,
        jwks_uri=auth.jwks_uri,
        title=title,
        route_table=tuple(args.routes),
    )


def create_api(env: GcpEnv, args: specs.ApiArgs, parent: pulumi.Resource) -> specs.ApiResult:
    import pulumi_gcp as gcp

    child = pulumi.ResourceOptions(parent=parent)
    auth = args.auth.native
    http = {name: fn for name, fn in args.functions.functions.items() if fn.trigger == "http"}
    account = gcp.serviceaccount.Account(
        "sa-gateway",
        project=env.project,
        account_id=env.resource_id("gateway"),
        display_name=f"{env.context.name_prefix} API Gateway backend identity",
        opts=env.opts(parent, "iam.googleapis.com"),
    )
    member = account.member
    invokers = {
        name: gcp.cloudrunv2.ServiceIamMember(
            f"iam-gateway-invokes-{name}",
            project=env.project,
            location=env.region,
            name=fn.name,
            role=RUN_INVOKER,
            member=member,
            opts=child,
        )
        for name, fn in http.items()
    }
    api = gcp.apigateway.Api(
        "api",
        project=env.project,
        api_id=env.resource_id("api", max_len=63),
        display_name=f"{env.context.name_prefix} shop API",
        labels=env.labels,
        opts=env.opts(parent, APIGATEWAY),
    )
    title = f"{env.context.name_prefix}-api"
    urls = pulumi.Output.all(**{name: fn.invoke_ref for name, fn in http.items()})
    document = urls.apply(lambda u: api_document(dict(u), args, auth, title))
    config = gcp.apigateway.ApiConfig(
        "api-config",
        project=env.project,
        api=api.api_id,
        api_config_id_prefix=f"{env.context.name_prefix}-"[:40],
        openapi_documents=[
            {
                "document": {
                    "path": "openapi.json",
                    "contents": document.apply(
                        lambda d: base64.b64encode(json.dumps(d, sort_keys=True).encode()).decode()
                    ),
                }
            }
        ],
        gateway_config={"backend_config": {"google_service_account": account.email}},
        labels=env.labels,
        # A new document makes a new config; the gateway switches before the old one goes.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(invokers.values())),
    )
    gateway = gcp.apigateway.Gateway(
        "gateway",
        project=env.project,
        region=env.settings.gateway_region(env.region),
        gateway_id=env.resource_id("gw", max_len=63),
        api_config=config.id,
        display_name=f"{env.context.name_prefix} shop gateway",
        labels=env.labels,
        opts=child,
    )
    native = ApiNative(api=api, config=config, gateway=gateway, account=account, document=document, invokers=invokers)
    return specs.ApiResult(
        url=gateway.default_hostname.apply(lambda h: f"https://{h}"),
        host=gateway.default_hostname,
        api_id=api.api_id,
        route_count=len(args.routes),
        native=native,
    )
