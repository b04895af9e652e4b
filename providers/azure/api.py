"""API: API Management (Consumption) with one operation per route of the route table
(functions.shop.routes.ROUTES), each routed to its service's Function App backend;
customer and admin operations carry a ``validate-jwt`` policy (issuer, audience and the
tenant's OpenID configuration from the auth result); public operations have none. Admin
operations then check the validated token's ``roles`` for the admin app role and answer 403
themselves, so a signed-in customer gets 403 and only a bad token gets 401. Both, and a
request that did not come through Front Door (the API-level ``check-header``), answer the
shop's error shape ``{"error": {"code", "message"}}`` from the ``on-error`` section.

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

import json
import re
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


JWT_VARIABLE = "jwt"
UNAUTHORIZED_MESSAGE = "sign in: a valid bearer access token is required"
FORBIDDEN_MESSAGE = "this operation needs the admin group"
NOT_FROM_FRONT_DOOR_MESSAGE = "requests must come through the shop's Front Door"
_ROLE_VALUE = re.compile(r"[A-Za-z0-9_.-]+")


def error_response(status: int, reason: str, code: str, message: str, headers: dict[str, str] | None = None) -> str:
    """A ``return-response`` with the shop's error body (functions/shop/http.py ``error``)."""
    body = json.dumps({"error": {"code": code, "message": message}})
    extra = "".join(
        f'<set-header name="{escape(k)}" exists-action="override"><value>{escape(v)}</value></set-header>'
        for k, v in (headers or {}).items()
    )
    return (
        f'<return-response><set-status code="{status}" reason="{escape(reason)}" />'
        '<set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>'
        f"{extra}<set-body>{escape(body)}</set-body></return-response>"
    )


def validate_jwt(openid_url: str, issuer: str, audience: str) -> str:
    return (
        '<validate-jwt header-name="Authorization" failed-validation-httpcode="401" '
        'failed-validation-error-message="Unauthorized" require-expiration-time="true" '
        f'require-scheme="Bearer" require-signed-tokens="true" output-token-variable-name="{JWT_VARIABLE}">'
        f'<openid-config url="{escape(openid_url)}" />'
        f"<audiences><audience>{escape(audience)}</audience></audiences>"
        f"<issuers><issuer>{escape(issuer)}</issuer></issuers>"
        "</validate-jwt>"
    )


def require_role(role: str) -> str:
    """403 in the shop's shape unless the token validated above carries ``role`` in ``roles``
    (a required claim in validate-jwt would answer 401). Policy expressions are C#, written
    raw: the policy format is rawxml."""
    if not _ROLE_VALUE.fullmatch(role):
        raise ValueError(f"admin role {role!r} must be letters, digits, '_', '.' or '-'")
    roles = f'((Jwt)context.Variables["{JWT_VARIABLE}"]).Claims.GetValueOrDefault("roles", "").Split(\',\')'
    return (
        f'<choose><when condition="@(!{roles}.Contains("{role}"))">'
        f"{error_response(403, 'Forbidden', 'FORBIDDEN', FORBIDDEN_MESSAGE)}"
        "</when></choose>"
    )


def on_error(validates_jwt: bool) -> str:
    """The gateway's own refusals in the shop's error shape; anything else keeps API
    Management's answer."""
    unauthorized = error_response(
        401, "Unauthorized", "UNAUTHORIZED", UNAUTHORIZED_MESSAGE, {"WWW-Authenticate": "Bearer"}
    )
    jwt = f'<when condition="@(context.LastError.Source == "validate-jwt")">{unauthorized}</when>'
    return (
        "<on-error><base /><choose>"
        f"{jwt if validates_jwt else ''}"
        '<when condition="@(context.LastError.Source == "check-header")">'
        f"{error_response(403, 'Forbidden', 'FORBIDDEN', NOT_FROM_FRONT_DOOR_MESSAGE)}"
        "</when>"
        "</choose></on-error>"
    )


def operation_policy(route: Route, backend_id: str, auth: Any, admin_group: str) -> str:
    checks = ""
    if route.auth in (CUSTOMER, ADMIN):
        checks = validate_jwt(auth.openid_configuration_url, auth.issuer, auth.audience)
    if route.auth == ADMIN:
        checks += require_role(admin_group)
    return (
        "<policies><inbound><base />"
        f"{checks}"
        f'<set-backend-service backend-id="{backend_id}" />'
        "</inbound><backend><base /></backend><outbound><base />"
        '<set-header name="X-Powered-By" exists-action="delete" />'
        f"</outbound>{on_error(bool(checks))}</policies>"
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
