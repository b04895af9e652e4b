"""CrossGuard wrappers around the plain rules of ``rules.py`` (one policy per rule)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

try:
    from . import rules
except ImportError:  # run by the CLI as a script from the pack's folder
    import rules  # type: ignore[no-redef]


# What a user may set per policy with `--policy-pack-config`.
CONFIG = PolicyConfigSchema(
    properties={
        "environment": {"type": "string", "description": "dev or prod when resources carry no environment tag"},
        "requiredTags": {"type": "array", "items": {"type": "string"}},
    }
)


def _context(props: Mapping[str, Any], provider_props: Mapping[str, Any] | None, config: Mapping) -> rules.Context:
    environment = config.get("environment") or rules.environment_of(props, provider_props)
    return rules.Context(environment, tuple(config.get("requiredTags") or rules.REQUIRED_TAGS))


def resource_policy(rule: rules.Rule) -> ResourceValidationPolicy:
    check = rule.resource_check
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        provider_props = args.provider.props if args.provider else None
        ctx = _context(args.props, provider_props, args.get_config())
        for message in check(args.resource_type, args.props, ctx):
            report(message, None)

    return ResourceValidationPolicy(
        name=rule.name, description=rule.description, validate=validate, config_schema=CONFIG
    )


def stack_policy(rule: rules.Rule) -> StackValidationPolicy:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [rules.StackResource(r.resource_type, r.name, r.props) for r in args.resources]
        environment = args.get_config().get("environment") or next(
            (e for r in resources if (e := rules.environment_of(r.props))), None
        )
        for name, message in check(resources, rules.Context(environment)):
            urn = next((r.urn for r in args.resources if r.name == name), None)
            report(message, urn)

    return StackValidationPolicy(
        name=f"{rule.name}-stack", description=rule.description, validate=validate, config_schema=CONFIG
    )


def policies() -> list:
    found: list = [resource_policy(r) for r in rules.RULES if r.resource_check]
    found += [stack_policy(r) for r in rules.RULES if r.stack_check]
    return found
