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
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from functions.shop.openapi import openapi2
from providers.gcp.env import GcpEnv

APIGATEWAY = "apigateway.googleapis.com"
RUN_INVOKER = "roles/run.invoker"
LB_KEY_HEADER = "x-api-key"
LB_KEY_DEFINITION = "lb_key"


@dataclass
class ApiNative:
    api: Any
    config: Any
    gateway: Any
    account: Any
    document: pulumi.Output[dict]
    invokers: dict[str, Any] = field(default_factory=dict)
    lb_key: Any = None  # projects.ApiKey the load balancer sends (lb_key_header)
    lb_key_header: pulumi.Output[str] | None = None  # "x-api-key: <key>", a secret


def api_document(urls: dict[str, str], args: specs.ApiArgs, auth: Any, title: str) -> dict:
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


def require_lb_key(document: dict) -> dict:
    """Every operation also needs the load balancer's API key (AND with its JWT, if any)."""
    document["securityDefinitions"][LB_KEY_DEFINITION] = {"type": "apiKey", "name": LB_KEY_HEADER, "in": "header"}
    for operations in document["paths"].values():
        for op in operations.values():
            op["security"] = [{**requirement, LB_KEY_DEFINITION: []} for requirement in op.get("security") or [{}]]
    return document


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
    lb_key = _lb_key(env, api, parent)
    native = ApiNative(
        api=api, config=config, gateway=gateway, account=account, document=document, invokers=invokers,
        lb_key=lb_key, lb_key_header=pulumi.Output.secret(pulumi.Output.concat(LB_KEY_HEADER, ": ", lb_key.key_string)),
    )  # fmt: skip
    return specs.ApiResult(
        url=gateway.default_hostname.apply(lambda h: f"https://{h}"),
        host=gateway.default_hostname,
        api_id=api.api_id,
        route_count=len(args.routes),
        native=native,
    )


def _lb_key(env: GcpEnv, api: Any, parent: pulumi.Resource) -> Any:
    """The key only the load balancer holds. API keys work for an API only once its managed
    service is enabled in the project."""
    import pulumi_gcp as gcp

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
