"""The provider interface: components stay cloud-neutral, every kind has a method, the entry point runs."""

from __future__ import annotations

import ast
import inspect
import runpy
from pathlib import Path

import pulumi
import pytest

from components.specs import DeploymentContext
from functions.shop import datamodel
from providers import PROVIDER_MODULES, get_provider
from providers.aws.provider import Provider as AwsProvider
from providers.base import CloudProvider

from .conftest import DEV_CONFIG, configure_mocks

ROOT = Path(__file__).resolve().parents[2]
CLOUD_SDKS = ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "providers.aws", "providers.azure", "providers.gcp")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", sorted(p.name for p in (ROOT / "components").glob("*.py")))
def test_components_import_no_cloud(module: str):
    bad = {m for m in _imports(ROOT / "components" / module) if m.startswith(CLOUD_SDKS)}
    assert not bad, f"components/{module} imports {sorted(bad)}: components must stay cloud-neutral"


def test_every_component_kind_calls_its_provider_method():
    methods = {name for name, f in vars(CloudProvider).items() if getattr(f, "__isabstractmethod__", False)}
    assert methods == {
        "encryption", "network", "database", "notifications", "auth", "static_site",
        "functions", "api", "cdn", "configuration", "monitoring",
    }  # fmt: skip
    called = set()
    for path in (ROOT / "components").glob("*.py"):
        called |= {m for m in methods if f"provider.{m}(" in path.read_text()}
    assert called == methods, f"provider methods no component calls: {sorted(methods - called)}"


def test_aws_implements_every_method_with_the_same_signature():
    assert not AwsProvider.__abstractmethods__
    for name in CloudProvider.__abstractmethods__:
        base = inspect.signature(getattr(CloudProvider, name))
        impl = inspect.signature(getattr(AwsProvider, name))
        assert list(base.parameters) == list(impl.parameters), name


def test_unknown_or_missing_cloud_is_a_clear_error():
    context = DeploymentContext("shop", "t", "x", "r", "dev", {})
    with pytest.raises(ValueError, match="unknown cloud 'ibm'; known: \\['aws', 'azure', 'gcp'\\]"):
        get_provider("ibm", context)
    assert set(PROVIDER_MODULES) == {"aws", "azure", "gcp"}


def test_main_entry_point_runs_the_program(monkeypatch):
    # Builds once through __main__.py exactly as `pulumi up` starts it (layer build skipped).
    mocks = configure_mocks(DEV_CONFIG, "dev")
    monkeypatch.setenv("SHOP_SKIP_LAYER_BUILD", "1")

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    run()
    assert sum(1 for r in mocks.resources if r.type == "aws:lambda/function:Function") == len(datamodel.SERVICES)
