"""Every input the programs pass exists in the provider SDK's schema, at every nesting level.

Pulumi's mocks accept any input, and nested arguments are plain dicts: a misspelt key
(`ouput_config`, `rate_limit_option`) would pass every other test and fail only at
`pulumi up`, against the cloud. Each recorded input (camelCase, as the SDK sends it) is
mapped back to the SDK's argument names and checked against the resource class and its
``*Args`` input types, recursively."""

from __future__ import annotations

import importlib
import inspect
import re
from functools import cache
from typing import Any

import pytest

from .conftest import BuiltStack

PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}
_ARGS = re.compile(r"\b([A-Z]\w*Args)\b")


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@cache
def resource_class(typ: str) -> Any:
    package, module, cls = typ.split(":")
    module = module.split("/")[0]
    mod = importlib.import_module(f"{PACKAGES[package]}.{module + '_' if module == 'lambda' else module}")
    return mod, getattr(mod, cls)


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how the mocks see a Pulumi secret value


@cache
def parameters(cls: Any) -> dict[str, str]:
    init = getattr(cls, "_internal_init", cls.__init__)
    return {name: str(p.annotation) for name, p in inspect.signature(init).parameters.items()}


@cache
def wire_names(cls: Any) -> dict[str, str]:
    """camelCase wire name -> argument name, from the SDK's own @pulumi.getter(name=...) marks
    (acronyms such as VNet or IP do not round-trip through a regex)."""
    names = {}
    for klass in cls.__mro__:
        for attr, value in vars(klass).items():
            if isinstance(value, property):
                names.setdefault(getattr(value.fget, "_pulumi_name", None) or attr, attr)
    return names


def _args_classes(module: Any, annotation: str) -> list[Any]:
    names = _ARGS.findall(annotation)
    if not names:
        return []
    inputs = importlib.import_module(module.__name__ + "._inputs")
    found = [getattr(inputs, n, None) or getattr(module, n, None) for n in names]
    return [c for c in dict.fromkeys(found) if c is not None]


def _argument(cls: Any, key: str) -> str | None:
    params = parameters(cls)
    for candidate in (wire_names(cls).get(key), snake(key), snake(key) + "_", key):
        if candidate and candidate in params:
            return candidate
    return None


def check(module: Any, cls: Any, value: dict, path: str, problems: list[str]) -> None:
    if SECRET_SIG in value:  # a secret: check what it wraps
        value = value.get("value") if isinstance(value.get("value"), dict) else {}
    params = parameters(cls)
    for key, item in value.items():
        match = _argument(cls, key)
        if match is None:
            problems.append(f"{path}.{key}: not an argument of {cls.__name__}")
            continue
        if _is_map(params[match]):
            continue
        # A union (e.g. static or dynamic alert criteria): a member type that has every key.
        nested = _args_classes(module, params[match])
        values = item if isinstance(item, list) else [item]
        for i, v in enumerate(values):
            if not isinstance(v, dict) or not nested:
                continue
            where = f"{path}.{key}" + (f"[{i}]" if isinstance(item, list) else "")
            fitting = [c for c in nested if all(_argument(c, k) for k in v if k != SECRET_SIG)] or nested
            # Members alike at the top (Front Door rule actions: all {name, parameters}) differ
            # below: take the first whose nested inputs fit too.
            check(
                module, next((c for c in fitting if not _problems(module, c, v, where)), fitting[0]), v, where, problems
            )


def _problems(module: Any, cls: Any, value: dict, path: str) -> list[str]:
    found: list[str] = []
    check(module, cls, value, path, found)
    return found


def _is_map(annotation: str) -> bool:
    return annotation.replace(" ", "").startswith(
        ("pulumi.Input[Optional[Mapping[str", "Optional[pulumi.Input[Mapping[str")
    )


def stack_problems(stack: BuiltStack, prefix: str) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for r in stack.resources:
        if not r.type.startswith(prefix) or (r.type, r.name) in seen:
            continue
        seen.add((r.type, r.name))
        module, cls = resource_class(r.type)
        check(module, cls, r.inputs, f"{r.type} {r.name}", problems)
    return problems


@pytest.mark.parametrize("cloud", ["gcp", "azure", "aws"])
def test_every_input_is_in_the_provider_schema(cloud: str, request: pytest.FixtureRequest):
    stacks = {"gcp": ("gcp_dev", "gcp_prod"), "azure": ("az_dev", "az_prod"), "aws": ("dev", "prod")}[cloud]
    prefix = {"gcp": "gcp:", "azure": "azure-native:", "aws": "aws:"}[cloud]
    problems = sorted({p for name in stacks for p in stack_problems(request.getfixturevalue(name), prefix)})
    assert not problems, f"{len(problems)} inputs unknown to the SDK:\n  " + "\n  ".join(problems[:40])
