"""The AWS program under mocks: every component, with the property values issue 3 asks for."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from functions.runtimes.origin import ORIGIN_SECRET_ENV
from functions.shop import datamodel
from functions.shop.expiry import EXPIRY_HOURS_SETTING
from functions.shop.routes import PUBLIC, ROUTES
from providers.aws import iam

from .conftest import (
    ACCOUNT,
    DEV_CONFIG,
    MANAGED_CACHE_POLICIES,
    MANAGED_ORIGIN_REQUEST_POLICIES,
    BuiltStack,
    build_stack,
)

COMPONENTS = (
    "Shop", "Encryption", "Network", "Database", "Notifications", "Auth", "StaticSite",
    "Functions", "Api", "Cdn", "Configuration", "Monitoring",
)  # fmt: skip


# -- the whole stack ------------------------------------------------------------------------


def test_whole_stack_builds_with_every_component_once(any_stack: BuiltStack):
    counts = any_stack.counts()
    for name in COMPONENTS:
        assert counts[f"shop:components:{name}"] == 1, f"component {name} missing or duplicated"
    for key in ("siteUrl", "apiUrl", "userPoolId", "userPoolClientId", "tableName", "alarmTopic"):
        assert any_stack.outputs.get(key), f"output {key} is empty"


def test_every_cloud_resource_is_a_child_of_a_component(any_stack: BuiltStack):
    orphans = [
        (r.type, r.name)
        for r in any_stack.resources
        if r.type.startswith("aws:") and not (r.parent_type or "").startswith("shop:components:")
    ]
    assert not orphans, f"resources not parented to a component: {orphans}"
    for r in any_stack.of_type_prefix("shop:components:"):
        if r.type != "shop:components:Shop":
            assert r.parent_type == "shop:components:Shop", f"{r.type} is not a child of Shop"


def test_outputs_are_the_real_values(prod: BuiltStack):
    pool = prod.one("aws:cognito/userPool:UserPool")
    assert prod.outputs["siteUrl"] == "https://shop.example.com"
    assert prod.outputs["userPoolId"].startswith("eu-central-1_")
    assert prod.outputs["tableName"] == prod.one("aws:dynamodb/table:Table").outputs["name"]
    assert prod.outputs["alarmTopic"].startswith(f"arn:aws:sns:eu-central-1:{ACCOUNT}:")
    assert pool.outputs["arn"].endswith(prod.outputs["userPoolId"])


# -- tags and providers ---------------------------------------------------------------------


def _provider_tags(provider) -> dict:
    # Provider inputs reach the engine JSON-encoded.
    value = provider.inputs["defaultTags"]
    return (json.loads(value) if isinstance(value, str) else value)["tags"]


def test_default_tags_on_every_resource_through_explicit_providers(any_stack: BuiltStack):
    providers = any_stack.of_type("pulumi:providers:aws")
    assert sorted(p.name for p in providers) == ["aws", "aws-us-east-1"]
    for p in providers:
        tags = _provider_tags(p)
        assert tags["project"] == "shop" and tags["stack"] == any_stack.stack
        assert tags["environment"] == any_stack.config["environment"]
        assert tags["owner"] == "platform-team"
    assert any_stack.one("pulumi:providers:aws", "aws-us-east-1").inputs["region"] == "us-east-1"
    # Every AWS resource goes through one of them, so none escapes the default tags.
    explicit = {"aws", "aws-us-east-1"}
    for r in any_stack.of_type_prefix("aws:"):
        # A provider reference is "<provider URN>::<id>"; the URN ends with the provider's name.
        urn_parts = (r.provider or "").split("::")
        assert "pulumi:providers:aws" in urn_parts[2] and urn_parts[3] in explicit, f"{r.type} {r.name}: {r.provider}"


def test_stack_tags_are_added_but_cannot_override_the_defaults(prod: BuiltStack):
    tags = _provider_tags(prod.one("pulumi:providers:aws", "aws"))
    assert tags["costCenter"] == "shop-42"


# -- network --------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack_name", "azs", "nats"), [("dev", 2, 1), ("prod", 3, 3)])
def test_vpc_spans_the_zones_with_nat_per_mode(stack_name: str, azs: int, nats: int, dev, prod):
    stack = dev if stack_name == "dev" else prod
    subnets = stack.of_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if s.inputs["tags"]["tier"] == "private"]
    public = [s for s in subnets if s.inputs["tags"]["tier"] == "public"]
    assert len(private) == len(public) == azs
    assert len({s.inputs["availabilityZone"] for s in private}) == azs, "private subnets share a zone"
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in public)
    assert len(stack.of_type("aws:ec2/natGateway:NatGateway")) == nats
    assert len(stack.of_type("aws:ec2/internetGateway:InternetGateway")) == 1
    private_defaults = [r for r in stack.of_type("aws:ec2/route:Route") if r.name.startswith("private-default")]
    assert len(private_defaults) == azs and all(r.inputs.get("natGatewayId") for r in private_defaults)


def test_gateway_endpoints_and_function_security_group(dev: BuiltStack):
    endpoints = {e.inputs["serviceName"]: e for e in dev.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert set(endpoints) == {"com.amazonaws.eu-west-1.dynamodb", "com.amazonaws.eu-west-1.s3"}
    for e in endpoints.values():
        assert e.inputs["vpcEndpointType"] == "Gateway" and len(e.inputs["routeTableIds"]) == 2
    sg = dev.one("aws:ec2/securityGroup:SecurityGroup", "functions-sg")
    assert not sg.inputs.get("ingress"), "functions must accept no inbound traffic"
    assert [(e["protocol"], e["fromPort"], e["toPort"]) for e in sg.inputs["egress"]] == [("tcp", 443, 443)]
    default_sg = dev.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg.inputs.get("ingress", []) == [] and default_sg.inputs.get("egress", []) == []
    assert dev.one("aws:ec2/flowLog:FlowLog").inputs["trafficType"] == "ALL"


# -- static site ----------------------------------------------------------------------------


def test_site_bucket_policy_allows_only_this_distribution_and_denies_plain_http(any_stack: BuiltStack):
    bucket = any_stack.one("aws:s3/bucket:Bucket", "site")
    distribution = any_stack.one("aws:cloudfront/distribution:Distribution")
    policy = any_stack.one("aws:s3/bucketPolicy:BucketPolicy", "site").policy()
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    read = by_sid["CloudFrontReadsObjects"]
    assert read["Effect"] == "Allow"
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == f"{bucket.outputs['arn']}/*"
    assert read["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution.outputs["arn"]}}
    deny = by_sid["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {bucket.outputs["arn"], f"{bucket.outputs['arn']}/*"}
    allowed_principals = [s["Principal"] for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert all(p == {"Service": "cloudfront.amazonaws.com"} for p in allowed_principals)


def test_site_bucket_is_private_encrypted_versioned(any_stack: BuiltStack):
    bpa = any_stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "site").inputs
    assert all(bpa[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    sse = any_stack.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "site"
    )
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    versioning = any_stack.one("aws:s3/bucketVersioning:BucketVersioning", "site").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    ownership = any_stack.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "site").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_site_files_are_uploaded_with_their_content_types(dev: BuiltStack):
    objects = {o.inputs["key"]: o.inputs for o in dev.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert objects["index.html"]["contentType"] == "text/html; charset=utf-8"
    assert objects["index.html"]["cacheControl"] == "no-cache"
    js = [k for k in objects if k.endswith(".js")]
    assert js and all(objects[k]["contentType"] == "text/javascript; charset=utf-8" for k in js)
    svg = [k for k in objects if k.endswith(".svg")]
    assert all(objects[k]["contentType"] == "image/svg+xml" for k in svg)
    assert not any("/." in f"/{k}" for k in objects), "hidden files must not be uploaded"


def test_config_json_is_generated_from_the_stack_outputs(dev: BuiltStack):
    config = next(o for o in dev.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.inputs["key"] == "config.json")
    assert config.inputs["contentType"] == "application/json"
    body = json.loads(config.inputs["content"])
    assert body == {
        "apiBase": "/api",
        "cloud": "aws",
        "region": "eu-west-1",
        "userPoolId": dev.outputs["userPoolId"],
        "userPoolClientId": dev.outputs["userPoolClientId"],
        "currency": "EUR",
        "environment": "dev",
        # the dev stack takes cards: Stripe.js gets the publishable key (never a secret one)
        "stripePublishableKey": dev.config["stripePublishableKey"],
    }


def test_missing_site_folder_still_deploys_bucket_and_config(tmp_path):
    stack = build_stack(DEV_CONFIG, "dev", site_dir=tmp_path / "does-not-exist")
    keys = [o.inputs["key"] for o in stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2")]
    assert keys == ["config.json"]
    assert stack.one("aws:s3/bucket:Bucket", "site")


# -- CDN, WAF, certificate -------------------------------------------------------------------


def test_cdn_origins_and_behaviours(any_stack: BuiltStack):
    d = any_stack.one("aws:cloudfront/distribution:Distribution").inputs
    origins = {o["originId"]: o for o in d["origins"]}
    oac = any_stack.one("aws:cloudfront/originAccessControl:OriginAccessControl").inputs
    assert oac["signingBehavior"] == "always" and oac["originAccessControlOriginType"] == "s3"
    assert origins["site"]["originAccessControlId"]
    api_origin = origins["api"]["customOriginConfig"]
    assert api_origin["originProtocolPolicy"] == "https-only" and api_origin["originSslProtocols"] == ["TLSv1.2"]
    if any_stack.config.get("domainName"):  # the API's mutual-TLS domain (test_origin_mtls_aws.py)
        assert origins["api"]["domainName"] == "origin-api." + any_stack.config["domainName"]
    else:
        assert origins["api"]["domainName"].endswith(".execute-api.{}.amazonaws.com".format(any_stack.config["region"]))

    behaviours = {b["pathPattern"]: b for b in d["orderedCacheBehaviors"]}
    assert list(behaviours) == ["/api/sitemap.xml", "/api/*"], "the sitemap's behaviour must come first"
    api = behaviours["/api/*"]
    assert api["pathPattern"] == "/api/*" and api["targetOriginId"] == "api"
    assert api["cachePolicyId"] == MANAGED_CACHE_POLICIES["Managed-CachingDisabled"]
    assert api["originRequestPolicyId"] == MANAGED_ORIGIN_REQUEST_POLICIES["Managed-AllViewerExceptHostHeader"]
    assert sorted(api["allowedMethods"]) == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    assert api["viewerProtocolPolicy"] == "https-only"
    assert not api.get("functionAssociations"), "the SPA rewrite must never touch /api/*"

    default = d["defaultCacheBehavior"]
    assert default["viewerProtocolPolicy"] == "redirect-to-https"
    assert default["cachePolicyId"] == MANAGED_CACHE_POLICIES["Managed-CachingOptimized"]
    assert default["functionAssociations"][0]["eventType"] == "viewer-request"
    headers_id = default["responseHeadersPolicyId"]
    assert headers_id and api["responseHeadersPolicyId"] == headers_id
    # No distribution-wide error rewriting: API 403/404 must reach the client as they are.
    assert not d.get("customErrorResponses")
    assert d["defaultRootObject"] == "index.html"
    assert d["loggingConfig"]["bucket"].endswith(".s3.amazonaws.com")


def test_security_headers_policy(dev: BuiltStack):
    config = dev.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs["securityHeadersConfig"]
    hsts = config["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 31_536_000 and hsts["includeSubdomains"]
    assert config["frameOptions"]["frameOption"] == "DENY"
    assert config["contentTypeOptions"]["override"]
    assert "frame-ancestors 'none'" in config["contentSecurityPolicy"]["contentSecurityPolicy"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_spa_routing_function_rewrites_routes_but_not_files(dev: BuiltStack):
    code = dev.one("aws:cloudfront/function:Function", "spa-routing").inputs["code"]
    cases = {
        "/": "/index.html",
        "/products/p-1": "/index.html",
        "/account/": "/index.html",
        "/js/app.js": "/js/app.js",
        "/img/logo.svg": "/img/logo.svg",
        "/config.json": "/config.json",
    }
    script = (
        code + "\n" + "\n".join(f"console.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);" for uri in cases)
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout.split()
    assert dict(zip(cases, out, strict=True)) == cases


def test_waf_is_attached_with_managed_rules_and_rate_limit(any_stack: BuiltStack):
    acl = any_stack.one("aws:wafv2/webAcl:WebAcl")
    assert acl.inputs["scope"] == "CLOUDFRONT"
    assert acl.provider and "aws-us-east-1" in acl.provider, "CLOUDFRONT-scope WAF must be created in us-east-1"
    distribution = any_stack.one("aws:cloudfront/distribution:Distribution")
    assert distribution.inputs["webAclId"] == acl.outputs["arn"]
    rules = {r["name"]: r for r in acl.inputs["rules"]}
    managed = {
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in rules.values()
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert managed == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    rate = rules["rate-limit-per-ip"]
    assert rate["statement"]["rateBasedStatement"]["limit"] == any_stack.config.get("wafRateLimit", 2000)
    assert rate["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
    assert "block" in rate["action"]
    assert len({r["priority"] for r in rules.values()}) == len(rules), "rule priorities must be unique"
    assert "allow" in acl.inputs["defaultAction"]


def test_prod_has_a_dns_validated_us_east_1_certificate_and_tls12(prod: BuiltStack):
    cert = prod.one("aws:acm/certificate:Certificate", "cdn")
    assert cert.inputs["domainName"] == "shop.example.com" and cert.inputs["validationMethod"] == "DNS"
    assert "aws-us-east-1" in cert.provider
    validation_record = prod.one("aws:route53/record:Record", "cdn-cert-validation").inputs
    assert validation_record["zoneId"] == "Z0123456789ABCDEFGHIJ"
    validation = prod.one("aws:acm/certificateValidation:CertificateValidation", "cdn").inputs
    assert validation["validationRecordFqdns"] == [validation_record["name"].rstrip(".")]
    viewer = prod.one("aws:cloudfront/distribution:Distribution").inputs["viewerCertificate"]
    assert viewer == {
        "acmCertificateArn": cert.outputs["arn"],
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    assert prod.one("aws:cloudfront/distribution:Distribution").inputs["aliases"] == ["shop.example.com"]
    aliases = [
        r
        for r in prod.of_type("aws:route53/record:Record")
        if r.inputs.get("aliases") and r.inputs["name"] == "shop.example.com"
    ]
    assert sorted(r.inputs["type"] for r in aliases) == ["A", "AAAA"]


def test_dev_without_domain_uses_the_cloudfront_certificate(dev: BuiltStack):
    assert not dev.of_type("aws:acm/certificate:Certificate")
    viewer = dev.one("aws:cloudfront/distribution:Distribution").inputs["viewerCertificate"]
    assert viewer == {"cloudfrontDefaultCertificate": True}


# -- auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack_name", "protection"), [("dev", "INACTIVE"), ("prod", "ACTIVE")])
def test_user_pool(stack_name: str, protection: str, dev, prod):
    stack = dev if stack_name == "dev" else prod
    pool = stack.one("aws:cognito/userPool:UserPool").inputs
    assert pool["usernameAttributes"] == ["email"] and pool["autoVerifiedAttributes"] == ["email"]
    policy = pool["passwordPolicy"]
    assert policy["minimumLength"] >= 10
    assert all(policy[k] for k in ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"))
    assert pool["deletionProtection"] == protection
    if stack_name == "prod":
        assert pool["userPoolAddOns"]["advancedSecurityMode"] == "AUDIT" and pool["userPoolTier"] == "PLUS"
    else:
        assert "userPoolAddOns" not in pool
    assert pool["mfaConfiguration"] == "OPTIONAL" and pool["softwareTokenMfaConfiguration"] == {"enabled": True}
    # an e-mail change waits for its code: order mail never goes to an unverified address
    assert pool["userAttributeUpdateSettings"] == {"attributesRequireVerificationBeforeUpdates": ["email"]}


def test_production_cognito_mail_goes_through_the_shops_ses_identity(prod: BuiltStack, dev: BuiltStack):
    email = prod.one("aws:cognito/userPool:UserPool").inputs["emailConfiguration"]
    identity = prod.one("aws:sesv2/emailIdentity:EmailIdentity")
    assert email["emailSendingAccount"] == "DEVELOPER"
    assert (
        email["sourceArn"] == identity.outputs["arn"] and email["fromEmailAddress"] == identity.inputs["emailIdentity"]
    )
    assert (
        email["configurationSet"]
        == prod.one("aws:sesv2/configurationSet:ConfigurationSet").inputs["configurationSetName"]
    )
    # dev keeps Cognito's sender: SES in its sandbox only mails verified recipients
    assert "emailConfiguration" not in dev.one("aws:cognito/userPool:UserPool").inputs


def test_public_client_and_admin_group(dev: BuiltStack):
    client = dev.one("aws:cognito/userPoolClient:UserPoolClient").inputs
    assert client["generateSecret"] is False
    # password sign-in only through the accounts function (ContextData), never with the public id
    assert sorted(client["explicitAuthFlows"]) == ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["preventUserExistenceErrors"] == "ENABLED" and client["enableTokenRevocation"] is True
    assert (client["accessTokenValidity"], client["tokenValidityUnits"]["accessToken"]) == (15, "minutes")
    assert dev.one("aws:cognito/userGroup:UserGroup").inputs["name"] == "admin"


# -- API --------------------------------------------------------------------------------------


def test_jwt_authorizer_checks_the_pool_issuer_and_client_audience(any_stack: BuiltStack):
    authorizer = any_stack.one("aws:apigatewayv2/authorizer:Authorizer").inputs
    region = any_stack.config["region"]
    assert authorizer["authorizerType"] == "JWT"
    assert authorizer["identitySources"] == ["$request.header.Authorization"]
    assert authorizer["jwtConfiguration"] == {
        "issuer": f"https://cognito-idp.{region}.amazonaws.com/{any_stack.outputs['userPoolId']}",
        "audiences": [any_stack.outputs["userPoolClientId"]],
    }


def test_one_gateway_route_per_route_table_entry_with_its_auth(dev: BuiltStack):
    gw_routes = {r.inputs["routeKey"]: r for r in dev.of_type("aws:apigatewayv2/route:Route")}
    assert set(gw_routes) == {r.route_key for r in ROUTES}
    authorizer_id = dev.one("aws:apigatewayv2/authorizer:Authorizer").name
    integrations = {i.name: i for i in dev.of_type("aws:apigatewayv2/integration:Integration")}
    for route in ROUTES:
        gw = gw_routes[route.route_key].inputs
        if route.auth == PUBLIC:
            assert gw["authorizationType"] == "NONE", f"{route.route_key} must be public"
            assert not gw.get("authorizerId")
        else:
            assert gw["authorizationType"] == "JWT", f"{route.route_key} ({route.auth}) must require a JWT"
            assert gw["authorizerId"].startswith(authorizer_id)
        assert gw["target"].startswith("integrations/"), route.route_key
        assert gw["operationName"] == route.operation_id
    assert set(integrations) == {r.service for r in ROUTES}


def test_integrations_stage_and_permissions(any_stack: BuiltStack):
    functions = {f.name: f for f in any_stack.of_type("aws:lambda/function:Function")}
    for integration in any_stack.of_type("aws:apigatewayv2/integration:Integration"):
        i = integration.inputs
        assert i["integrationType"] == "AWS_PROXY" and i["payloadFormatVersion"] == "2.0"
        assert i["integrationUri"] == functions[integration.name].outputs["arn"]
    stage = any_stack.one("aws:apigatewayv2/stage:Stage").inputs
    assert stage["name"] == "$default" and stage["autoDeploy"] is True
    fmt = json.loads(stage["accessLogSettings"]["format"])
    assert fmt["requestId"] == "$context.requestId" and fmt["status"] == "$context.status"
    log_groups = {g.outputs["arn"] for g in any_stack.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert stage["accessLogSettings"]["destinationArn"] in log_groups
    assert stage["defaultRouteSettings"]["throttlingRateLimit"] > 0
    assert stage["defaultRouteSettings"]["throttlingBurstLimit"] > 0
    execution_arn = any_stack.one("aws:apigatewayv2/api:Api").outputs["executionArn"]
    permissions = any_stack.of_type("aws:lambda/permission:Permission")
    assert len(permissions) == len({r.service for r in ROUTES})
    for p in permissions:
        assert p.inputs["principal"] == "apigateway.amazonaws.com"
        assert p.inputs["sourceArn"] == f"{execution_arn}/*/*"


# -- functions ----------------------------------------------------------------------------------


def test_one_function_per_service_with_runtime_settings(any_stack: BuiltStack):
    fns = {f.name: f.inputs for f in any_stack.of_type("aws:lambda/function:Function")}
    assert set(fns) == {s.name for s in datamodel.SERVICES}
    layer = any_stack.one("aws:lambda/layerVersion:LayerVersion")
    assert layer.inputs["compatibleArchitectures"] == ["arm64"]
    private_subnets = {
        s.name for s in any_stack.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "private"
    }
    for service in datamodel.SERVICES:
        fn = fns[service.name]
        assert fn["runtime"] in ("python3.12", "python3.13") and fn["architectures"] == ["arm64"]
        assert fn["layers"] == [layer.outputs["arn"]]
        assert fn["tracingConfig"] == {"mode": "Active"}
        assert fn["memorySize"] == any_stack.config.get("functionMemoryMb", 512)
        expected_handler = {
            "http": "functions.runtimes.aws_http.handler",
            "queue": "functions.runtimes.aws_notifications.handler",
            "schedule": "functions.runtimes.aws_expiry.handler",
        }[service.trigger]
        assert fn["handler"] == expected_handler
        assert len(fn["vpcConfig"]["subnetIds"]) == len(private_subnets)
        assert fn["vpcConfig"]["securityGroupIds"]
        # the scheduled run draws on the unreserved pool
        reserved = None if service.trigger == "schedule" else any_stack.config.get("reservedConcurrency")
        assert fn.get("reservedConcurrentExecutions") == reserved, service.name


def test_function_environment_sets_every_datamodel_variable(dev: BuiltStack):
    expected_names = {v for k, v in vars(datamodel).items() if k.startswith("ENV_")} | {
        ORIGIN_SECRET_ENV,
        EXPIRY_HOURS_SETTING,
    }
    table = dev.one("aws:dynamodb/table:Table").outputs["name"]
    topic = dev.one("aws:sns/topic:Topic", datamodel.ORDER_EVENTS_TOPIC).outputs["arn"]
    bucket = dev.one("aws:s3/bucket:Bucket", "site").outputs["bucket"]
    push_app = dev.one("aws:sns/platformApplication:PlatformApplication").outputs["arn"]
    for fn in dev.of_type("aws:lambda/function:Function"):
        env = fn.inputs["environment"]["variables"]
        # only the function granted push learns the platform application
        push = {datamodel.AwsSettingNames.PUSH_APPLICATION_ARN} if fn.name == "notifications" else set()
        # only the function granted payments learns where Stripe's keys are
        payments = (
            {*datamodel.AwsSettingNames.PAYMENT_PARAMETERS.values(), datamodel.AwsSettingNames.STRIPE_KEYS_VERSION}
            if fn.name == "orders"
            else set()
        )
        assert set(env) == expected_names | push | payments, fn.name
        assert env.get(datamodel.AwsSettingNames.PUSH_APPLICATION_ARN, push_app) == push_app, fn.name
        assert env[datamodel.ENV_TABLE] == table
        assert env[datamodel.ENV_TOPIC] == topic
        assert env[datamodel.ENV_BUCKET] == bucket
        assert env[datamodel.ENV_USER_POOL] == dev.outputs["userPoolId"]
        assert env[datamodel.ENV_USER_POOL_CLIENT] == dev.outputs["userPoolClientId"]
        assert env[datamodel.ENV_SENDER] == "shop@example.com"
        assert env[datamodel.ENV_CLOUD] == "aws"
        assert env[datamodel.ENV_PARAMETERS_PATH] == "/shop/dev/"
        assert env[EXPIRY_HOURS_SETTING] == "24", "the default expiry is 24 hours"
        assert env[datamodel.ENV_MEDIA_BASE_URL] == "/media/"


def test_notifications_function_consumes_the_queue_reporting_partial_failures(dev: BuiltStack):
    mapping = dev.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs
    queue = dev.one("aws:sqs/queue:Queue", datamodel.NOTIFICATIONS_QUEUE)
    assert mapping["eventSourceArn"] == queue.outputs["arn"]
    assert mapping["functionName"] == dev.one("aws:lambda/function:Function", "notifications").outputs["arn"]
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]


# -- data, notifications, configuration, monitoring ------------------------------------------------


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_table_matches_the_shared_definition(stack_name: str, dev, prod):
    stack = dev if stack_name == "dev" else prod
    t = stack.one("aws:dynamodb/table:Table").inputs
    spec = datamodel.SHOP_TABLE
    assert (t["hashKey"], t["rangeKey"]) == (spec.partition_key, spec.sort_key)
    assert t["billingMode"] == "PAY_PER_REQUEST"
    assert t["pointInTimeRecovery"] == {"enabled": True}
    assert t["serverSideEncryption"] == {
        "enabled": True,
        "kmsKeyArn": stack.one("aws:kms/key:Key", "stack-key").outputs["arn"],
    }
    assert t["ttl"] == {"attributeName": spec.ttl_attribute, "enabled": True}
    assert t["deletionProtectionEnabled"] is (stack_name == "prod")
    gsis = {g["name"]: {k["keyType"]: k["attributeName"] for k in g["keySchemas"]} for g in t["globalSecondaryIndexes"]}
    assert gsis == {i.name: {"HASH": i.partition_key, "RANGE": i.sort_key} for i in spec.indexes}
    assert stack.one("aws:kms/key:Key", "stack-key").inputs["enableKeyRotation"] is True


def test_topic_queue_and_dead_letter_queue(dev: BuiltStack):
    key_arn = dev.one("aws:kms/key:Key", "stack-key").outputs["arn"]
    topic = dev.one("aws:sns/topic:Topic", datamodel.ORDER_EVENTS_TOPIC)
    queue = dev.one("aws:sqs/queue:Queue", datamodel.NOTIFICATIONS_QUEUE)
    dlq = dev.one("aws:sqs/queue:Queue", f"{datamodel.NOTIFICATIONS_QUEUE}-dlq")
    assert topic.inputs["kmsMasterKeyId"] == key_arn
    assert queue.inputs["kmsMasterKeyId"] == key_arn and dlq.inputs["kmsMasterKeyId"] == key_arn
    assert json.loads(queue.inputs["redrivePolicy"]) == {
        "deadLetterTargetArn": dlq.outputs["arn"],
        "maxReceiveCount": datamodel.NOTIFICATION_MAX_RECEIVES,
    }
    sub = dev.one("aws:sns/topicSubscription:TopicSubscription", datamodel.NOTIFICATIONS_QUEUE).inputs
    assert (sub["topic"], sub["protocol"], sub["endpoint"]) == (topic.outputs["arn"], "sqs", queue.outputs["arn"])
    policy = dev.one("aws:sqs/queuePolicy:QueuePolicy", datamodel.NOTIFICATIONS_QUEUE).policy()
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": topic.outputs["arn"]}}


def test_ses_identity_and_configuration_set(dev: BuiltStack):
    identity = dev.one("aws:sesv2/emailIdentity:EmailIdentity").inputs
    config_set = dev.one("aws:sesv2/configurationSet:ConfigurationSet").inputs
    assert identity["emailIdentity"] == "shop@example.com"
    assert identity["configurationSetName"] == config_set["configurationSetName"]
    assert config_set["deliveryOptions"]["tlsPolicy"] == "REQUIRE"


def test_parameters_live_under_the_stack_path_secrets_encrypted(any_stack: BuiltStack):
    key_arn = any_stack.one("aws:kms/key:Key", "stack-key").outputs["arn"]
    params = any_stack.of_type("aws:ssm/parameter:Parameter")
    assert params
    for p in params:
        assert p.inputs["name"].startswith(f"/shop/{any_stack.stack}/"), p.inputs["name"]
        if p.inputs["type"] == "SecureString":
            assert p.inputs["keyId"] == key_arn
    secure = sorted(p.name for p in params if p.inputs["type"] == "SecureString")
    takes_cards = bool(any_stack.config.get("stripeSecretKey"))  # dev does, prod not
    assert secure == sorted(["alertEmail", *(datamodel.PAYMENT_SECRETS if takes_cards else ())]), secure


def test_alarms_cover_functions_api_table_and_dead_letters(any_stack: BuiltStack):
    topic = any_stack.one("aws:sns/topic:Topic", "alarms")
    sub = any_stack.one("aws:sns/topicSubscription:TopicSubscription", "alert-email").inputs
    assert (sub["protocol"], sub["endpoint"]) == ("email", "oncall@example.com")
    alarms = any_stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    edge_topic = any_stack.one("aws:sns/topic:Topic", "alarms-edge")  # us-east-1 metrics (test_edge_aws.py)
    for a in alarms:
        expected = edge_topic if "aws-us-east-1" in (a.provider or "") else topic
        assert a.inputs["alarmActions"] == [expected.outputs["arn"]], a.name
    metrics = {(a.inputs["namespace"], a.inputs["metricName"]) for a in alarms}
    assert {
        ("AWS/ApiGateway", "5xx"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    } <= metrics
    assert {("AWS/DynamoDB", "ReadThrottleEvents"), ("AWS/DynamoDB", "WriteThrottleEvents")} <= metrics
    per_function = {
        (a.inputs["dimensions"]["FunctionName"], a.inputs["metricName"])
        for a in alarms
        if a.inputs["namespace"] == "AWS/Lambda"
    }
    names = {f.outputs["name"] for f in any_stack.of_type("aws:lambda/function:Function")}
    assert per_function == {(n, m) for n in names for m in ("Errors", "Throttles")}
    latency = next(a for a in alarms if a.inputs["metricName"] == "Latency").inputs
    assert latency["extendedStatistic"] == "p99"
    dlq_alarm = next(a for a in alarms if a.inputs["namespace"] == "AWS/SQS").inputs
    dlq_name = any_stack.one("aws:sqs/queue:Queue", f"{datamodel.NOTIFICATIONS_QUEUE}-dlq").outputs["name"]
    assert dlq_alarm["dimensions"] == {"QueueName": dlq_name}
    assert (dlq_alarm["comparisonOperator"], dlq_alarm["threshold"]) == ("GreaterThanThreshold", 0)
    dashboard = json.loads(any_stack.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert len(dashboard["widgets"]) >= 6


def test_resource_counts_by_type(dev: BuiltStack, prod: BuiltStack, capsys):
    """Not an assertion of exact numbers: prints the inventory the closing note reports."""
    for stack in (dev, prod):
        counts = stack.counts()
        print(f"\n{stack.stack}: {sum(counts.values())} resources, built in {stack.seconds:.2f}s")
        for typ, n in sorted(counts.items()):
            print(f"  {n:3d}  {typ}")
    assert dev.counts()["aws:lambda/function:Function"] == len(datamodel.SERVICES)
    assert iam.WILDCARD_RESOURCE_ACTIONS  # referenced by the security tests


def test_eventbridge_scheduler_invokes_only_the_expiry_function_through_its_own_role(dev: BuiltStack):
    [schedule] = dev.of_type("aws:scheduler/schedule:Schedule")
    expiry = dev.one("aws:lambda/function:Function", "expiry")
    role = dev.one("aws:iam/role:Role", "expiry-scheduler-role")
    assert schedule.inputs["scheduleExpression"] == f"rate({datamodel.EXPIRY_SCHEDULE_MINUTES} minutes)"
    target = schedule.inputs["target"]
    assert target["arn"] == expiry.outputs["arn"] and target["roleArn"] == role.outputs["arn"], target
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}, trust
    policy = json.loads(dev.one("aws:iam/rolePolicy:RolePolicy", "expiry-scheduler-invoke").inputs["policy"])
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        ("lambda:InvokeFunction", expiry.outputs["arn"])
    ], "the scheduler's role may invoke the expiry function and nothing else"
