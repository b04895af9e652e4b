"""Parity across clouds: every component kind, every function and every route of the route
table is deployed on AWS, Azure and GCP, and the README's cloud-mapping table matches the
resources the programs really create. A route, service or component one provider lacks
fails here, by name."""

from __future__ import annotations

import base64
import importlib
import inspect
import json

import pytest

from functions.shop import datamodel
from functions.shop.routes import PUBLIC, ROUTES
from providers import PROVIDER_MODULES
from providers.base import CloudProvider
from providers.mapping import BEGIN, CLOUDS, END, MAPPING, NO_RESOURCES, component_class, render_table

from .conftest import ROOT, BuiltStack

KINDS = tuple(name for name, f in vars(CloudProvider).items() if getattr(f, "__isabstractmethod__", False))


@pytest.fixture(scope="module")
def stacks(dev: BuiltStack, az_dev: BuiltStack, gcp_dev: BuiltStack) -> dict[str, BuiltStack]:
    return {"aws": dev, "azure": az_dev, "gcp": gcp_dev}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_provider_implements_every_method_with_the_same_signature(cloud: str):
    provider = importlib.import_module(PROVIDER_MODULES[cloud]).Provider
    assert provider.cloud == cloud
    assert not provider.__abstractmethods__, f"{cloud} lacks {sorted(provider.__abstractmethods__)}"
    for name in KINDS:
        base = inspect.signature(getattr(CloudProvider, name))
        impl = inspect.signature(getattr(provider, name))
        assert list(base.parameters) == list(impl.parameters), f"{cloud}.{name} signature differs"


def test_the_mapping_covers_every_component_kind_on_every_cloud():
    assert set(MAPPING) == set(KINDS), f"mapping lacks {sorted(set(KINDS) - set(MAPPING))}"
    for kind, (_, clouds) in MAPPING.items():
        assert set(clouds) == set(CLOUDS), kind
        for cloud in CLOUDS:
            assert clouds[cloud] or (cloud, kind) in NO_RESOURCES, f"{kind} on {cloud}: no resources and no reason"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_component_is_built_with_the_resources_the_mapping_names(stacks, cloud: str):
    stack = stacks[cloud]
    counts = stack.counts()
    problems = []
    for kind in KINDS:
        cls = component_class(kind)
        if counts[f"shop:components:{cls}"] != 1:
            problems.append(f"{cls}: {counts[f'shop:components:{cls}']} components")
            continue
        children = {r.type for r in stack.resources if r.parent_type == f"shop:components:{cls}"}
        if not children and (cloud, kind) not in NO_RESOURCES:
            problems.append(f"{cls}: no {cloud} resources")
        for label, typ in MAPPING[kind][1][cloud]:
            if typ not in children:
                problems.append(f"{cls}: the mapping says {label!r} ({typ}) but none is created under it")
    assert not problems, f"{cloud}:\n  " + "\n  ".join(problems)


def _aws_services(stack: BuiltStack) -> set[str]:
    return {r.name for r in stack.of_type("aws:lambda/function:Function")}


def _azure_services(stack: BuiltStack) -> set[str]:
    return {r.inputs["tags"]["service"] for r in stack.of_type("azure-native:web:WebApp")}


def _gcp_services(stack: BuiltStack) -> set[str]:
    return {r.inputs["labels"]["service"] for r in stack.of_type("gcp:cloudfunctionsv2/function:Function")}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_service_is_a_deployed_function(stacks, cloud: str):
    found = {"aws": _aws_services, "azure": _azure_services, "gcp": _gcp_services}[cloud](stacks[cloud])
    expected = {s.name for s in datamodel.SERVICES}
    assert found == expected, f"{cloud}: missing {sorted(expected - found)}, unexpected {sorted(found - expected)}"


def _aws_routes(stack: BuiltStack) -> dict[str, bool]:
    """route key -> requires a JWT."""
    return {r.inputs["routeKey"]: r.inputs["authorizationType"] == "JWT"
            for r in stack.of_type("aws:apigatewayv2/route:Route")}  # fmt: skip


def _azure_routes(stack: BuiltStack) -> dict[str, bool]:
    protected = {r.inputs["operationId"] for r in stack.of_type("azure-native:apimanagement:ApiOperationPolicy")
                 if "validate-jwt" in r.inputs["value"]}  # fmt: skip
    return {f"{r.inputs['method']} /api{r.inputs['urlTemplate']}": r.inputs["operationId"] in protected
            for r in stack.of_type("azure-native:apimanagement:ApiOperation")}  # fmt: skip


def _gcp_routes(stack: BuiltStack) -> dict[str, bool]:
    config = stack.one("gcp:apigateway/apiConfig:ApiConfig").inputs
    doc = json.loads(base64.b64decode(config["openapiDocuments"][0]["document"]["contents"]))
    # Every operation also needs the load balancer's key (lb_key); JWT validation is "jwt".
    return {f"{method.upper()} {path}": any("jwt" in r for r in op.get("security") or [])
            for path, ops in doc["paths"].items() for method, op in ops.items()}  # fmt: skip


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_route_is_deployed_with_its_auth(stacks, cloud: str):
    found = {"aws": _aws_routes, "azure": _azure_routes, "gcp": _gcp_routes}[cloud](stacks[cloud])
    expected = {r.route_key: r.auth != PUBLIC for r in ROUTES}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    assert not missing and not extra, f"{cloud}: routes missing {missing}, not in the route table {extra}"
    wrong = sorted(k for k in expected if expected[k] != found[k])
    assert not wrong, f"{cloud}: JWT validation differs from the route table on {wrong}"


def test_the_readme_cloud_mapping_is_generated_from_the_code():
    text = (ROOT / "README.md").read_text()
    assert BEGIN in text and END in text, "README.md lost its cloud-mapping markers"
    table = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    assert table == render_table(), "README cloud mapping is stale: run `.venv/bin/python -m providers.mapping`"


def test_same_handler_package_and_route_table_on_every_cloud():
    from components.specs import CodePackage
    from providers.aws.packaging import code_archive
    from providers.azure.packaging import package_archive as azure_archive
    from providers.gcp.packaging import package_archive as gcp_archive

    code = CodePackage(ROOT / "functions", ("local", "tests"), ROOT / "requirements" / "runtime.txt", "3.12", False)
    aws = set(code_archive(code).assets)
    azure = {k for k in azure_archive(code).assets if k.startswith("functions/")}
    gcp = {k for k in gcp_archive(code)[0].assets if k.startswith("functions/")}
    assert aws == azure == gcp, "the three clouds must deploy the same functions/ package"
    assert "functions/shop/routes.py" in aws and not any(k.startswith("functions/local/") for k in aws)


def _pushing_aws(stack: BuiltStack) -> set[str]:
    setting = datamodel.AwsSettingNames.PUSH_APPLICATION_ARN
    return {r.name for r in stack.of_type("aws:lambda/function:Function")
            if setting in (r.inputs.get("environment") or {}).get("variables", {})}  # fmt: skip


def _pushing_azure(stack: BuiltStack) -> set[str]:
    needed = {datamodel.AzureSettingNames.NOTIFICATION_HUB, datamodel.AzureSettingNames.NOTIFICATION_HUB_KEY}
    return {r.inputs["tags"]["service"] for r in stack.of_type("azure-native:web:WebApp")
            if needed <= {s["name"] for s in r.inputs["siteConfig"]["appSettings"]}}  # fmt: skip


def _pushing_gcp(stack: BuiltStack) -> set[str]:
    setting = datamodel.GcpSettingNames.FCM_ENABLED
    return {r.inputs["labels"]["service"] for r in stack.of_type("gcp:cloudfunctionsv2/function:Function")
            if r.inputs["serviceConfig"]["environmentVariables"].get(setting) == "true"}  # fmt: skip


# With push configured: the cloud's channel to FCM, which the notifications function is wired to.
PUSH_CHANNEL = {
    "aws": ("aws:sns/platformApplication:PlatformApplication", _pushing_aws),
    "azure": ("azure-native:notificationhubs:NotificationHub", _pushing_azure),
    "gcp": ("gcp:firebase/project:Project", _pushing_gcp),
}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_push_goes_through_the_clouds_channel_from_the_notifications_function_only(
    prod: BuiltStack, az_prod: BuiltStack, gcp_prod: BuiltStack, cloud: str
):
    """Device registration is in the route table (every route is deployed, above); here: with
    push configured, each cloud has its FCM channel and exactly the notifications function sends."""
    stack = {"aws": prod, "azure": az_prod, "gcp": gcp_prod}[cloud]
    channel, pushing = PUSH_CHANNEL[cloud]
    assert stack.of_type(channel), f"{cloud}: push configured but no {channel}"
    assert pushing(stack) == {"notifications"}, f"{cloud}: functions configured to push: {sorted(pushing(stack))}"
    assert any(r.route_key == "POST /api/me/devices" for r in ROUTES), "device registration left the route table"
