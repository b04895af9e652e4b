"""Build the whole Pulumi program under mocks (no CLI, no account, no network).

``build_stack(config)`` runs ``components.program.build`` exactly as ``pulumi up`` would,
with Pulumi's mock monitor. The mocks record every resource (type, logical name, resolved
inputs, provider, parent) and answer every invoke the program makes with realistic values,
so tests assert on real property values across the whole stack.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ACCOUNT = "123456789012"
PROJECT = "shop"

# AWS managed CloudFront policies (real ids, published by AWS).
MANAGED_CACHE_POLICIES = {
    "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
}
MANAGED_ORIGIN_REQUEST_POLICIES = {
    "Managed-AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
}

# A Firebase service-account key as `pulumi config set --secret shop:fcmCredentials` holds it
# (fields only: FCM is never called under the mocks).
FCM_CREDENTIALS = json.dumps(
    {
        "type": "service_account",
        "project_id": "shop-push-test",
        "private_key": "-----BEGIN PRIVATE KEY-----\nfake-key-for-tests\n-----END PRIVATE KEY-----\n",
        "client_email": "push@shop-push-test.iam.gserviceaccount.com",
    }
)
# Stripe test-mode keys as `pulumi config set [--secret]` holds them (shapes only: Stripe is never called here).
STRIPE_CONFIG: dict[str, str] = {
    "stripeSecretKey": "sk_test_51ShopTestSecretKey0123456789",
    "stripeWebhookSecret": "whsec_ShopTestSigningSecret0123456789",
    "stripePublishableKey": "pk_test_51ShopTestPublishableKey0123456789",
}
DEV_CONFIG: dict[str, Any] = {
    "cloud": "aws",
    "region": "eu-west-1",
    "environment": "dev",
    "alertEmail": "oncall@example.com",
    "senderEmail": "shop@example.com",
    "owner": "platform-team",
    "fcmCredentials": FCM_CREDENTIALS,
    **STRIPE_CONFIG,  # the dev stack takes cards (the least-privilege proof pays with Stripe); prod does not
}
PROD_CONFIG: dict[str, Any] = {
    **{k: v for k, v in DEV_CONFIG.items() if k not in STRIPE_CONFIG},
    "region": "eu-central-1",
    "environment": "prod",
    "domainName": "shop.example.com",
    "hostedZoneId": "Z0123456789ABCDEFGHIJ",
    "azCount": 3,
    "natMode": "perAz",
    "functionMemoryMb": 1024,
    "logRetentionDays": 90,
    "wafRateLimit": 1000,
    "reservedConcurrency": 50,
    "authThreatProtection": "audit",
    "tags": {"costCenter": "shop-42"},
}


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: str | None
    parent_type: str | None = None
    parent_name: str | None = None

    def policy(self, key: str = "policy") -> dict:
        value = self.inputs[key]
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class BuiltStack:
    stack: str
    config: dict[str, Any]
    resources: list[Resource]
    outputs: dict[str, Any]
    invokes: list[str]
    seconds: float

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def of_type_prefix(self, prefix: str) -> list[Resource]:
        return [r for r in self.resources if r.type.startswith(prefix)]

    def one(self, typ: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def counts(self) -> Counter[str]:
        return Counter(r.type for r in self.resources)


def _suffix(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:7]


class ShopMocks(pulumi.runtime.Mocks):
    """Answers like AWS would: ARNs, names, URLs and ids shaped as the real ones."""

    def __init__(self, region: str, lambda_concurrency_quota: float = 1000.0) -> None:
        self.region = region
        self.lambda_concurrency_quota = lambda_concurrency_quota
        self.resources: list[Resource] = []
        self.invokes: list[str] = []

    # -- invokes ----------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        self.invokes.append(args.token)
        token, a = args.token, args.args
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/deployer",
                "userId": "AIDAEXAMPLE",
                "id": ACCOUNT,
            }
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": "aws"}
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{z}" for z in "abc"]
            return {
                "names": names,
                "zoneIds": [f"euw1-az{i}" for i in range(1, 4)],
                "groupNames": [self.region] * 3,
                "id": self.region,
                "state": a.get("state"),
            }
        if token == "aws:servicequotas/getServiceQuota:getServiceQuota":
            # Only the Lambda concurrent-executions quota is answered: another code is a program bug.
            assert (a.get("serviceCode"), a.get("quotaCode")) == ("lambda", "L-B99A9384"), a
            return {
                "serviceCode": "lambda",
                "quotaCode": "L-B99A9384",
                "quotaName": "Concurrent executions",
                "value": self.lambda_concurrency_quota,
                "defaultValue": 1000.0,
                "adjustable": True,
                "globalQuota": False,
                "arn": f"arn:aws:servicequotas:{self.region}:{ACCOUNT}:lambda/L-B99A9384",
                "id": "lambda/L-B99A9384",
                "region": self.region,
                "serviceName": "AWS Lambda",
                "usageMetrics": [],
            }
        if token == "aws:cloudfront/getCachePolicy:getCachePolicy":
            return {"id": MANAGED_CACHE_POLICIES[a["name"]], "name": a["name"]}
        if token == "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy":
            return {"id": MANAGED_ORIGIN_REQUEST_POLICIES[a["name"]], "name": a["name"]}
        raise NotImplementedError(f"the infra mocks do not answer invoke {token}: add it to ShopMocks.call")

    # -- resources --------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        region = "us-east-1" if args.provider and "aws-us-east-1" in args.provider else self.region
        rid = f"{name}-{_suffix(typ, name)}"
        out: dict[str, Any] = {}
        physical = inputs.get("name") or rid

        def arn(service: str, resource: str, reg: str = region) -> str:
            return f"arn:aws:{service}:{reg}:{ACCOUNT}:{resource}"

        match typ:
            case "aws:kms/key:Key":
                rid = f"1234abcd-{_suffix(name)}"
                out = {"arn": arn("kms", f"key/{rid}"), "keyId": rid}
            case "aws:kms/alias:Alias":
                out = {"arn": arn("kms", inputs["name"])}
            case "aws:dynamodb/table:Table":
                out = {"name": physical, "arn": arn("dynamodb", f"table/{physical}")}
                rid = physical
            case "aws:sns/platformApplication:PlatformApplication":
                out = {"name": physical, "arn": arn("sns", f"app/{inputs['platform']}/{physical}")}
                rid = out["arn"]
            case "aws:sns/topic:Topic":
                out = {"name": physical, "arn": arn("sns", physical)}
                rid = out["arn"]
            case "aws:sqs/queue:Queue":
                url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{physical}"
                out = {"name": physical, "arn": arn("sqs", physical), "url": url}
                rid = url
            case "aws:sesv2/emailIdentity:EmailIdentity":
                out = {"arn": arn("ses", f"identity/{inputs['emailIdentity']}")}
            case "aws:sesv2/configurationSet:ConfigurationSet":
                out = {"arn": arn("ses", f"configuration-set/{inputs['configurationSetName']}")}
            case "aws:cognito/userPool:UserPool":
                rid = f"{region}_AbC{_suffix(name)}"
                out = {
                    "arn": arn("cognito-idp", f"userpool/{rid}"),
                    "endpoint": f"cognito-idp.{region}.amazonaws.com/{rid}",
                }
            case "aws:cognito/userPoolClient:UserPoolClient":
                rid = f"client{_suffix(name)}abcdefghijklmn"
            case "aws:s3/bucket:Bucket":
                bucket = inputs.get("bucket") or f"{name}-{_suffix(name)}"
                rid = bucket
                out = {
                    "bucket": bucket,
                    "arn": f"arn:aws:s3:::{bucket}",
                    "bucketDomainName": f"{bucket}.s3.amazonaws.com",
                    "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
                }
            case "aws:lambda/function:Function":
                fn_arn = arn("lambda", f"function:{physical}")
                out = {
                    "name": physical,
                    "arn": fn_arn,
                    "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}/invocations",
                }
                rid = physical
            case "aws:lambda/layerVersion:LayerVersion":
                out = {"arn": arn("lambda", f"layer:{inputs['layerName']}:1"), "version": "1"}
            case "aws:iam/role:Role":
                out = {"name": physical, "arn": f"arn:aws:iam::{ACCOUNT}:role/{physical}"}
                rid = physical
            case "aws:cloudwatch/logGroup:LogGroup":
                out = {"name": physical, "arn": arn("logs", f"log-group:{physical}")}
                rid = physical
            case "aws:apigatewayv2/api:Api":
                rid = f"a1b2{_suffix(name)}"
                out = {
                    "apiEndpoint": f"https://{rid}.execute-api.{region}.amazonaws.com",
                    "executionArn": arn("execute-api", rid),
                    "arn": f"arn:aws:apigateway:{region}::/apis/{rid}",
                }
            case "aws:apigatewayv2/stage:Stage":
                api_id = inputs["apiId"]
                out = {"invokeUrl": f"https://{api_id}.execute-api.{region}.amazonaws.com/"}
                rid = inputs["name"]
            case "aws:cloudfront/distribution:Distribution":
                rid = f"E{_suffix(name).upper()}XYZ"
                out = {
                    "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{rid}",
                    "domainName": f"d{_suffix(rid)}.cloudfront.net",
                    "hostedZoneId": "Z2FDTNDATAQYW2",
                }
            case "aws:cloudfront/function:Function":
                out = {"arn": f"arn:aws:cloudfront::{ACCOUNT}:function/{physical}"}
            case "aws:wafv2/webAcl:WebAcl":
                rid = f"{_suffix(name)}-0000-1111"
                out = {"arn": arn("wafv2", f"global/webacl/{physical}/{rid}", "us-east-1"), "name": physical}
            case "aws:acm/certificate:Certificate" if "certificateBody" in inputs:  # an import
                out = {"arn": arn("acm", f"certificate/{_suffix(name, 'import')}")}
            case "aws:acm/certificate:Certificate":
                domain = inputs["domainName"]
                out = {
                    "arn": arn("acm", f"certificate/{_suffix(domain)}"),
                    "domainValidationOptions": [
                        {
                            "domainName": domain,
                            "resourceRecordName": f"_x1.{domain}.",
                            "resourceRecordType": "CNAME",
                            "resourceRecordValue": "_y2.acm-validations.aws.",
                        }
                    ],
                }
            case "aws:acm/certificateValidation:CertificateValidation":
                out = {"certificateArn": inputs["certificateArn"]}
            case "aws:apigatewayv2/domainName:DomainName":
                rid = inputs["domainName"]
                out = {
                    "arn": f"arn:aws:apigateway:{region}::/domainnames/{rid}",
                    "domainNameConfiguration": {
                        **inputs["domainNameConfiguration"],
                        "targetDomainName": f"d-{_suffix(name)}.execute-api.{region}.amazonaws.com",
                        "hostedZoneId": "ZLY8HYME6SFDD",
                    },
                }
            case "aws:s3/bucketObjectv2:BucketObjectv2":
                out = {"versionId": f"v{_suffix(name, str(inputs.get('content', '')))}"}
            case "tls:index/privateKey:PrivateKey":
                out = {"privateKeyPem": f"-----BEGIN PRIVATE KEY-----\n{name}\n-----END PRIVATE KEY-----\n"}
            case "tls:index/certRequest:CertRequest":
                out = {
                    "certRequestPem": f"-----BEGIN CERTIFICATE REQUEST-----\n{name}\n-----END CERTIFICATE REQUEST-----\n"
                }
            case "tls:index/selfSignedCert:SelfSignedCert" | "tls:index/locallySignedCert:LocallySignedCert":
                out = {"certPem": f"-----BEGIN CERTIFICATE-----\n{name}\n-----END CERTIFICATE-----\n"}
            case "aws:route53/record:Record":
                out = {"fqdn": inputs["name"].rstrip(".")}
            case "aws:ssm/parameter:Parameter":
                out = {"arn": arn("ssm", f"parameter{inputs['name']}"), "version": 1}
            case "aws:cloudwatch/metricAlarm:MetricAlarm":
                out = {"arn": arn("cloudwatch", f"alarm:{physical}")}
            case "aws:cloudwatch/dashboard:Dashboard":
                out = {"dashboardArn": f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{inputs['dashboardName']}"}
            case "random:index/randomPassword:RandomPassword":
                out = {"result": f"origin{_suffix(name, 'secret') * 6}"[: int(inputs.get("length", 16))]}
            case "aws:ec2/vpc:Vpc":
                rid = f"vpc-{_suffix(name)}"
            case "aws:ec2/subnet:Subnet":
                rid = f"subnet-{_suffix(name)}"
            case "aws:ec2/securityGroup:SecurityGroup":
                rid = f"sg-{_suffix(name)}"
        self.resources.append(Resource(typ, name, inputs, out, args.provider))
        return rid, {**inputs, **out}


def _parent_recorder(parents: dict[tuple[str, str], tuple[str, str]]) -> Callable:
    def record(args: pulumi.ResourceTransformationArgs) -> None:
        parent = args.opts.parent if args.opts else None
        if parent is not None:
            parents[(args.type_, args.name)] = (parent._type if hasattr(parent, "_type") else "", parent._name)
        return None

    return record


def set_stack_config(config: Mapping[str, Any]) -> None:
    """The stack's config as `pulumi up` gives it; the keys that are secrets in a real stack marked secret."""
    from components.config import SECRET_KEYS

    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
        [f"{PROJECT}:{k}" for k in config if k in SECRET_KEYS],
    )


def configure_mocks(config: Mapping[str, Any], stack: str) -> ShopMocks:
    """Fresh mocks, root stack and stack config, as `pulumi up` would provide them."""
    from pulumi.runtime import settings

    mocks = ShopMocks(region=str(config.get("region", "eu-west-1")))
    settings.set_root_resource(None)  # a fresh root Stack per build
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    set_stack_config(config)
    return mocks


def run_program(
    mocks: Any, config: Mapping[str, Any], stack: str, site_dir: Path | None = None, **build_args: Any
) -> BuiltStack:
    """Run ``components.program.build`` under `mocks` with this stack config; return what it created."""
    from pulumi.runtime import settings

    settings.set_root_resource(None)  # a fresh root Stack per build
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    set_stack_config(config)
    parents: dict[tuple[str, str], tuple[str, str]] = {}
    pulumi.runtime.register_stack_transformation(_parent_recorder(parents))
    outputs: dict[str, Any] = {}

    from components.program import build

    started = time.perf_counter()

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        exported: dict[str, Any] = {}  # exactly what `pulumi up` exports
        build(build_dependencies=False, site_dir=site_dir, outputs=exported, **build_args)
        return pulumi.Output.all(**exported).apply(outputs.update)

    run()
    seconds = time.perf_counter() - started
    for r in mocks.resources:
        r.parent_type, r.parent_name = parents.get((r.type, r.name), (None, None))
    return BuiltStack(stack, dict(config), mocks.resources, outputs, mocks.invokes, seconds)


def build_stack(
    config: Mapping[str, Any],
    stack: str = "dev",
    *,
    site_dir: Path | None = None,
    lambda_concurrency_quota: float = 1000.0,
    **build_args: Any,
) -> BuiltStack:
    """Run the program under fresh AWS mocks with this stack config; return what it created.
    `build_args` go to ``components.program.build`` (e.g. transformations)."""
    mocks = ShopMocks(region=str(config.get("region", "eu-west-1")), lambda_concurrency_quota=lambda_concurrency_quota)
    return run_program(mocks, config, stack, site_dir, **build_args)


# One build per config for the whole session: every test reads the same recorded stack.
@pytest.fixture(scope="session")
def dev() -> BuiltStack:
    return build_stack(DEV_CONFIG, "dev")


@pytest.fixture(scope="session")
def prod() -> BuiltStack:
    return build_stack(PROD_CONFIG, "prod")


@pytest.fixture(scope="session", params=["dev", "prod"])
def any_stack(request: pytest.FixtureRequest, dev: BuiltStack, prod: BuiltStack) -> BuiltStack:
    return dev if request.param == "dev" else prod


# The same builds for Azure and GCP (their mocks live in azure_mocks.py and gcp_mocks.py).
@pytest.fixture(scope="session")
def az_dev() -> BuiltStack:
    from .azure_mocks import AZURE_DEV, build_azure_stack

    return build_azure_stack(AZURE_DEV, "dev")


@pytest.fixture(scope="session")
def az_prod() -> BuiltStack:
    from .azure_mocks import AZURE_PROD, build_azure_stack

    return build_azure_stack(AZURE_PROD, "prod")


@pytest.fixture(scope="session")
def gcp_dev() -> BuiltStack:
    from .gcp_mocks import GCP_DEV, build_gcp_stack

    return build_gcp_stack(GCP_DEV, "dev")


@pytest.fixture(scope="session")
def gcp_prod() -> BuiltStack:
    from .gcp_mocks import GCP_PROD, build_gcp_stack

    return build_gcp_stack(GCP_PROD, "prod")
