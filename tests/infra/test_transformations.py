"""Escape hatch 1: per-component Pulumi transformations change what the providers create.

A transformation given for one component (by name) runs on every resource under that
component, and on nothing else: on each cloud, one on "database" changes a property of the
table / Cosmos DB account / Firestore database, and the same change given for "cdn" leaves the
database as the provider made it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.shop import COMPONENT_NAMES

from .azure_mocks import AZURE_DEV, build_azure_stack
from .conftest import DEV_CONFIG, BuiltStack, build_stack
from .gcp_mocks import GCP_DEV, build_gcp_stack

# cloud -> (builder, dev config, database resource type, property, value the transformation sets)
CASES: dict[str, tuple[Callable[..., BuiltStack], dict[str, Any], str, str, object]] = {
    "aws": (build_stack, DEV_CONFIG, "aws:dynamodb/table:Table", "deletion_protection_enabled", True),
    "azure": (
        build_azure_stack,
        AZURE_DEV,
        "azure-native:cosmosdb:DatabaseAccount",
        "enable_automatic_failover",
        True,
    ),
    "gcp": (
        build_gcp_stack,
        GCP_DEV,
        "gcp:firestore/database:Database",
        "delete_protection_state",
        "DELETE_PROTECTION_ENABLED",
    ),
}
# How the mocks record each property (the engine's camelCase names).
RECORDED = {
    "deletion_protection_enabled": "deletionProtectionEnabled",
    "enable_automatic_failover": "enableAutomaticFailover",
    "delete_protection_state": "deleteProtectionState",
}


def _setting(typ: str, prop: str, value: object) -> pulumi.ResourceTransformation:
    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != typ:
            return None
        return pulumi.ResourceTransformationResult({**args.props, prop: value}, args.opts)

    return transform


@pytest.mark.parametrize("cloud", sorted(CASES))
def test_a_transformation_changes_only_its_own_components_resources(cloud: str) -> None:
    build, config, typ, prop, value = CASES[cloud]
    on_database = build(config, "dev", transformations={"database": [_setting(typ, prop, value)]})
    on_cdn = build(config, "dev", transformations={"cdn": [_setting(typ, prop, value)]})
    changed, untouched = on_database.of_type(typ), on_cdn.of_type(typ)
    assert changed and untouched, f"{cloud}: no {typ} in the graph"
    assert all(r.inputs.get(RECORDED[prop]) == value for r in changed), (
        f"{cloud}: a transformation on 'database' did not set {prop} on {[r.name for r in changed]}"
    )
    assert all(r.inputs.get(RECORDED[prop]) != value for r in untouched), (
        f"{cloud}: a transformation on 'cdn' reached the database's {typ}"
    )


def test_a_transformation_can_add_a_tag_beside_the_stacks_tags_on_azure() -> None:
    """Azure's own tag transformation (stack-wide) merges tags: a component's added tag survives it."""

    def data_class(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != "azure-native:cosmosdb:DatabaseAccount":
            return None
        return pulumi.ResourceTransformationResult({**args.props, "tags": {"dataClass": "pii"}}, args.opts)

    stack = build_azure_stack(AZURE_DEV, "dev", transformations={"database": [data_class]})
    (account,) = stack.of_type("azure-native:cosmosdb:DatabaseAccount")
    tags = account.inputs["tags"]
    assert tags.get("dataClass") == "pii", f"the component's tag was lost: {tags}"
    assert tags.get("managed-by") == "pulumi", f"the stack's tags were lost: {tags}"


def test_transformations_for_an_unknown_component_are_refused() -> None:
    with pytest.raises(Exception, match=r"no such component") as info:
        build_stack(DEV_CONFIG, "dev", transformations={"databse": [_setting("x", "y", 1)]})
    assert "database" in str(info.value), "the error should list the known component names"
    assert "database" in COMPONENT_NAMES and "cdn" in COMPONENT_NAMES
