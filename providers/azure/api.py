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
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pulumi
import pulumi_azure_native.apimanagement as apim
import pulumi_azure_native.web as web

from components import specs
from functions.shop.routes import ADMIN, CUSTOMER, Route
from providers.azure import iam
from providers.azure.auth import AzureAuth
from providers.azure.env import AzureEnv
from providers.azure.functions import AzureFunctions

API_PATH = "api"
FUNCTION_KEY_HEADER = "x-functions-key"


def function_key_name(service: str) -> str:
    return f"fn-{service}-key"


@dataclass(frozen=True)
class AzureApi:
    service: apim.ApiManagementService
    api: apim.Api
    operations: dict[str, apim.ApiOperation]  # operation_id -> operation
    policies: dict[str, apim.ApiOperationPolicy]  # operation_id -> its policy
    backends: dict[str, apim.Backend]  # service -> its Function App backend
    function_keys: dict[str, apim.NamedValue]  # service -> secret named value holding its app's function key

    @property
    def result(self) -> specs.ApiResult:
        gateway = self.service.gateway_url
        return specs.ApiResult(
            # The gateway's origin, like every cloud's apiUrl: routes keep their /api prefix under it.
            url=gateway.apply(lambda u: u.rstrip("/")),
            host=gateway.apply(lambda u: (u or "").removeprefix("https://").rstrip("/")),
            api_id=self.api.id,
            route_count=len(self.operations),
        )


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


def operation_policy(route: Route, backend_id: str, auth: AzureAuth, audience: str, admin_group: str) -> str:
    """`audience` is the API app's client id, resolved (an Output when the program creates the app)."""
    checks = ""
    if route.auth in (CUSTOMER, ADMIN):
        checks = validate_jwt(auth.openid_configuration_url, auth.issuer, audience)
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


def create_api(
    env: AzureEnv, args: specs.ApiArgs, parent: pulumi.Resource, auth: AzureAuth, functions: AzureFunctions
) -> AzureApi:
    opts = pulumi.ResourceOptions(parent=parent)
    service = _service(env, opts)
    api = apim.Api(
        "api-shop",
        resource_group_name=env.rg_name,
        service_name=service.name,
        api_id="shop",
        display_name=f"{env.context.name_prefix} shop API",
        path=API_PATH,
        protocols=[apim.Protocol.HTTPS],
        subscription_required=False,  # identity is the bearer JWT; anonymous catalog browsing
        api_type=apim.ApiType.HTTP,
        opts=opts,
    )
    function_keys: dict[str, apim.NamedValue] = {}
    backends: dict[str, apim.Backend] = {}
    for name, fn in args.functions.functions.items():
        if fn.trigger == "http":
            function_keys[name], backends[name] = _function_backend(env, service, name, fn, parent)
    operations: dict[str, apim.ApiOperation] = {}
    policies: dict[str, apim.ApiOperationPolicy] = {}
    for route in args.routes:
        if route.service not in backends:
            raise ValueError(f"route {route.operation_id} is served by {route.service!r}, which has no HTTP function")
        operations[route.operation_id] = op = _operation(env, service, api, route, opts)
        policies[route.operation_id] = apim.ApiOperationPolicy(
            f"policy-{route.operation_id}",
            resource_group_name=env.rg_name,
            service_name=service.name,
            api_id=api.name,
            operation_id=op.name,
            policy_id="policy",
            format="rawxml",
            value=_policy_value(route, auth, args.admin_group),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[backends[route.service]]),
        )
    _access_logs(env, service, api, functions, parent)
    return AzureApi(service, api, operations, policies, backends, function_keys)


def _policy_value(route: Route, auth: AzureAuth, admin_group: str) -> pulumi.Output[str]:
    def render(audience: str) -> str:
        return operation_policy(route, f"fn-{route.service}", auth, audience, admin_group)

    return pulumi.Output.from_input(auth.audience).apply(render)


def _service(env: AzureEnv, opts: pulumi.ResourceOptions) -> apim.ApiManagementService:
    s = env.settings
    tls = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security"
    return apim.ApiManagementService(
        "apim",
        resource_group_name=env.rg_name,
        location=env.location,
        sku=apim.ApiManagementServiceSkuPropertiesArgs(name="Consumption", capacity=0),
        publisher_email=s.publisher_email or f"admin@{s.tenant_domain}",
        publisher_name=env.context.name_prefix,
        identity=apim.ApiManagementServiceIdentityArgs(type="SystemAssigned"),
        # TLS 1.2+ only, on both sides.
        custom_properties={
            f"{tls}.Protocols.Tls10": "False",
            f"{tls}.Protocols.Tls11": "False",
            f"{tls}.Backend.Protocols.Tls10": "False",
            f"{tls}.Backend.Protocols.Tls11": "False",
            f"{tls}.Backend.Protocols.Ssl30": "False",
            f"{tls}.Protocols.Ssl30": "False",
        },
        opts=opts,
    )


def _function_backend(
    env: AzureEnv, service: apim.ApiManagementService, name: str, fn: specs.FunctionResult, parent: pulumi.Resource
) -> tuple[apim.NamedValue, apim.Backend]:
    """The app's default function key as a secret named value, and the backend that sends it."""
    host_keys = web.list_web_app_host_keys_output(name=fn.name, resource_group_name=env.rg_name)
    default_key: pulumi.Output[str] = host_keys.apply(lambda k: (k.function_keys or {})["default"])
    secret_key: pulumi.Output[str] = pulumi.Output.secret(default_key)
    key = apim.NamedValue(
        f"nv-{function_key_name(name)}",
        resource_group_name=env.rg_name,
        service_name=service.name,
        named_value_id=function_key_name(name),
        display_name=function_key_name(name),
        secret=True,
        value=secret_key,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    backend = apim.Backend(
        f"backend-{name}",
        resource_group_name=env.rg_name,
        service_name=service.name,
        backend_id=f"fn-{name}",
        protocol="http",
        url=fn.invoke_ref,
        resource_id=fn.function_id.apply(lambda i: f"https://management.azure.com{i}"),
        description=f"Function App of the {name} service",
        tls=apim.BackendTlsPropertiesArgs(validate_certificate_chain=True, validate_certificate_name=True),
        credentials=apim.BackendCredentialsContractArgs(
            header={FUNCTION_KEY_HEADER: [f"{{{{{function_key_name(name)}}}}}"]}
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[key]),
    )
    return key, backend


def _operation(
    env: AzureEnv, service: apim.ApiManagementService, api: apim.Api, route: Route, opts: pulumi.ResourceOptions
) -> apim.ApiOperation:
    query = [apim.ParameterContractArgs(name=q, required=False, type="string") for q in route.query_params]
    return apim.ApiOperation(
        f"op-{route.operation_id}",
        resource_group_name=env.rg_name,
        service_name=service.name,
        api_id=api.name,
        operation_id=route.operation_id,
        display_name=route.summary or route.operation_id,
        method=route.method,
        url_template=url_template(route),
        template_parameters=[
            apim.ParameterContractArgs(name=p, required=True, type="string") for p in route.path_params
        ],
        request=apim.RequestContractArgs(query_parameters=query) if query else None,
        responses=[apim.ResponseContractArgs(status_code=route.success_status, description="Success")],
        description=f"{route.auth}: {route.summary}",
        opts=opts,
    )


def _access_logs(
    env: AzureEnv, service: apim.ApiManagementService, api: apim.Api, functions: AzureFunctions, parent: pulumi.Resource
) -> apim.ApiDiagnostic:
    """Every request to Application Insights (local auth is off there: the gateway's system
    identity publishes, with Monitoring Metrics Publisher on the component)."""
    insights = functions.insights
    principal: pulumi.Output[str] = service.identity.apply(lambda i: i.principal_id if i else "")
    publisher = iam.assign(
        "apim-insights-publisher",
        scope=insights.id,
        role=iam.MONITORING_METRICS_PUBLISHER,
        principal_id=principal,
        subscription_id=env.subscription_id,
        parent=parent,
    )
    logger = apim.Logger(
        "apim-logger",
        resource_group_name=env.rg_name,
        service_name=service.name,
        logger_id="appinsights",
        logger_type=apim.LoggerType.APPLICATION_INSIGHTS,
        resource_id=insights.id,
        credentials={"connectionString": insights.connection_string, "identityClientId": "SystemAssigned"},
        is_buffered=True,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[publisher]),
    )
    return apim.ApiDiagnostic(
        "api-diagnostics",
        resource_group_name=env.rg_name,
        service_name=service.name,
        api_id=api.name,
        diagnostic_id="applicationinsights",
        logger_id=logger.id,
        always_log=apim.AlwaysLog.ALL_ERRORS,
        log_client_ip=True,
        http_correlation_protocol=apim.HttpCorrelationProtocol.W3_C,
        verbosity=apim.Verbosity.INFORMATION,
        sampling=apim.SamplingSettingsArgs(sampling_type="fixed", percentage=100 if not env.context.is_prod else 50),
        opts=pulumi.ResourceOptions(parent=parent),
    )
