"""API: API Management (Consumption) with one operation per route of the route table
(functions.shop.routes.ROUTES), each routed to its service's Function App backend;
customer and admin operations carry a ``validate-jwt`` policy (issuer, audience and the
tenant's OpenID configuration from the auth result; admin also requires the ``admin`` app
role in ``roles``); public operations have none.

Only API Management reaches the Function Apps: their HTTP trigger needs a function key
(functions/runtimes/azure_http.py, auth level FUNCTION), and each backend sends its app's
default key in x-functions-key from a secret named value. A call to *.azurewebsites.net
without it gets the Functions host's 401. (API Management Consumption has no VNet and no
fixed outbound addresses, so an IP or service-tag access restriction could not single it out.)

Throttling: API Management Consumption has no rate-limit-by-key (and rate-limit needs
subscriptions), so the per-client limit is Front Door's WAF rate-limit rule and the
backstop is each Function App's maximum instance count.

The operations are generated from the route table (the same source the handlers'
OpenAPI document is generated from), so the imported surface is exactly the route table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from xml.sax.saxutils import escape

import pulumi

from components import specs
from functions.shop.routes import ADMIN, CUSTOMER, Route
from providers.azure import roles
from providers.azure.env import AzureEnv

API_PATH = "api"
FUNCTION_KEY_HEADER = "x-functions-key"


def function_key_name(service: str) -> str:
    return f"fn-{service}-key"


@dataclass(frozen=True)
class ApiNative:
    service: Any
    api: Any
    operations: dict[str, Any]  # operation_id -> ApiOperation
    policies: dict[str, Any]  # operation_id -> ApiOperationPolicy
    backends: dict[str, Any]  # service -> Backend
    function_keys: dict[str, Any]  # service -> NamedValue (secret) holding its app's function key


def validate_jwt(openid_url: str, issuer: str, audience: str, required_role: str | None) -> str:
    claims = (
        '<required-claims><claim name="roles" match="any">'
        f"<value>{escape(required_role)}</value></claim></required-claims>"
        if required_role
        else ""
    )
    return (
        '<validate-jwt header-name="Authorization" failed-validation-httpcode="401" '
        'failed-validation-error-message="Unauthorized" require-expiration-time="true" '
        'require-scheme="Bearer" require-signed-tokens="true">'
        f'<openid-config url="{escape(openid_url)}" />'
        f"<audiences><audience>{escape(audience)}</audience></audiences>"
        f"<issuers><issuer>{escape(issuer)}</issuer></issuers>"
        f"{claims}</validate-jwt>"
    )


def operation_policy(route: Route, backend_id: str, auth: Any, admin_group: str) -> str:
    jwt = ""
    if route.auth in (CUSTOMER, ADMIN):
        jwt = validate_jwt(
            auth.openid_configuration_url, auth.issuer, auth.audience, admin_group if route.auth == ADMIN else None
        )
    return (
        "<policies><inbound><base />"
        f"{jwt}"
        f'<set-backend-service backend-id="{backend_id}" />'
        "</inbound><backend><base /></backend><outbound><base />"
        '<set-header name="X-Powered-By" exists-action="delete" />'
        "</outbound><on-error><base /></on-error></policies>"
    )


def url_template(route: Route) -> str:
    return route.path.removeprefix(f"/{API_PATH}") or "/"


def create_api(env: AzureEnv, args: specs.ApiArgs, parent: pulumi.Resource) -> specs.ApiResult:
    import pulumi_azure_native.apimanagement as apim

    opts = pulumi.ResourceOptions(parent=parent)
    auth = args.auth.native
    s = env.settings
    service = apim.ApiManagementService(
        "apim",
        resource_group_name=env.rg_name,
        location=env.location,
        sku={"name": "Consumption", "capacity": 0},
        publisher_email=s.publisher_email or f"admin@{s.tenant_domain}",
        publisher_name=env.context.name_prefix,
        identity={"type": "SystemAssigned"},
        custom_properties={
            # TLS 1.2+ only, on both sides.
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls10": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls11": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Ssl30": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Ssl30": "False",
        },
        tags=env.tags,
        opts=opts,
    )
    api = apim.Api(
        "api-shop",
        resource_group_name=env.rg_name,
        service_name=service.name,
        api_id="shop",
        display_name=f"{env.context.name_prefix} shop API",
        path=API_PATH,
        protocols=["https"],
        subscription_required=False,  # identity is the bearer JWT; anonymous catalog browsing
        api_type="http",
        opts=opts,
    )
    import pulumi_azure_native.web as web

    backends: dict[str, Any] = {}
    function_keys: dict[str, Any] = {}
    for name, fn in args.functions.functions.items():
        if fn.trigger != "http":
            continue
        host_keys = web.list_web_app_host_keys_output(name=fn.name, resource_group_name=env.rg_name)
        function_keys[name] = apim.NamedValue(
            f"nv-{function_key_name(name)}",
            resource_group_name=env.rg_name,
            service_name=service.name,
            named_value_id=function_key_name(name),
            display_name=function_key_name(name),
            secret=True,
            value=pulumi.Output.secret(host_keys.apply(lambda k: (k.function_keys or {})["default"])),
            opts=opts,
        )
        backends[name] = apim.Backend(
            f"backend-{name}",
            resource_group_name=env.rg_name,
            service_name=service.name,
            backend_id=f"fn-{name}",
            protocol="http",
            url=fn.invoke_ref,
            resource_id=fn.function_id.apply(lambda i: f"https://management.azure.com{i}"),
            description=f"Function App of the {name} service",
            tls={"validate_certificate_chain": True, "validate_certificate_name": True},
            credentials={"header": {FUNCTION_KEY_HEADER: [f"{{{{{function_key_name(name)}}}}}"]}},
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[function_keys[name]]),
        )
    operations: dict[str, Any] = {}
    policies: dict[str, Any] = {}
    for route in args.routes:
        if route.service not in backends:
            raise ValueError(f"route {route.operation_id} is served by {route.service!r}, which has no HTTP function")
        op = apim.ApiOperation(
            f"op-{route.operation_id}",
            resource_group_name=env.rg_name,
            service_name=service.name,
            api_id=api.name,
            operation_id=route.operation_id,
            display_name=route.summary or route.operation_id,
            method=route.method,
            url_template=url_template(route),
            template_parameters=[{"name": p, "required": True, "type": "string"} for p in route.path_params],
            request={"query_parameters": [{"name": q, "required": False, "type": "string"} for q in route.query_params]}
            if route.query_params
            else None,
            responses=[{"status_code": route.success_status, "description": "Success"}],
            description=f"{route.auth}: {route.summary}",
            opts=opts,
        )
        operations[route.operation_id] = op
        policies[route.operation_id] = apim.ApiOperationPolicy(
            f"policy-{route.operation_id}",
            resource_group_name=env.rg_name,
            service_name=service.name,
            api_id=api.name,
            operation_id=op.name,
            policy_id="policy",
            format="rawxml",
            # The audience is the API app's client id: an Output when the program creates the app.
            value=pulumi.Output.from_input(auth.audience).apply(
                lambda aud, r=route: operation_policy(
                    r, f"fn-{r.service}", replace(auth, audience=aud), args.admin_group
                )
            ),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[backends[route.service]]),
        )
    # Access logs: every request to Application Insights (local auth is off there: the
    # gateway's system identity publishes, with Monitoring Metrics Publisher on the component).
    insights = args.functions.native.insights
    publisher = roles.assign(
        "apim-insights-publisher",
        scope=insights.id,
        role=roles.MONITORING_METRICS_PUBLISHER,
        principal_id=service.identity.apply(lambda i: i.principal_id if i else None),
        subscription_id=env.client.subscription_id,
        parent=parent,
    )
    logger = apim.Logger(
        "apim-logger",
        resource_group_name=env.rg_name,
        service_name=service.name,
        logger_id="appinsights",
        logger_type="applicationInsights",
        resource_id=insights.id,
        credentials={"connectionString": insights.connection_string, "identityClientId": "SystemAssigned"},
        is_buffered=True,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[publisher]),
    )
    apim.ApiDiagnostic(
        "api-diagnostics",
        resource_group_name=env.rg_name,
        service_name=service.name,
        api_id=api.name,
        diagnostic_id="applicationinsights",
        logger_id=logger.id,
        always_log="allErrors",
        log_client_ip=True,
        http_correlation_protocol="W3C",
        verbosity="information",
        sampling={"sampling_type": "fixed", "percentage": 100 if not env.context.is_prod else 50},
        opts=opts,
    )
    host = service.gateway_url.apply(lambda u: (u or "").removeprefix("https://").rstrip("/"))
    return specs.ApiResult(
        # The gateway's origin, like every cloud's apiUrl: routes keep their /api prefix under it.
        url=service.gateway_url.apply(lambda u: u.rstrip("/")),
        host=host,
        api_id=api.id,
        route_count=len(operations),
        native=ApiNative(service, api, operations, policies, backends, function_keys),
    )
