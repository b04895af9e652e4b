"""Reserved concurrency is checked against the account's Lambda quota at preview time."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from functions.shop import datamodel

from .conftest import PROD_CONFIG, BuiltStack, build_stack

ROOT = Path(__file__).resolve().parents[2]
QUOTA_INVOKE = "aws:servicequotas/getServiceQuota:getServiceQuota"
# The scheduled function reserves nothing (it runs once per period from the unreserved pool).
FUNCTIONS = len([s for s in datamodel.SERVICES if s.trigger != "schedule"])
PER_FUNCTION = PROD_CONFIG["reservedConcurrency"]
NEEDED = PER_FUNCTION * FUNCTIONS + 100


def test_prod_builds_when_the_quota_leaves_100_unreserved():
    stack = build_stack(PROD_CONFIG, "prod-quota", lambda_concurrency_quota=float(NEEDED))
    assert QUOTA_INVOKE in stack.invokes
    reserved = {
        r.name: r.inputs.get("reservedConcurrentExecutions") for r in stack.of_type("aws:lambda/function:Function")
    }
    scheduled = {s.name for s in datamodel.SERVICES if s.trigger == "schedule"}
    assert reserved == {s.name: None if s.name in scheduled else PER_FUNCTION for s in datamodel.SERVICES}, reserved


def test_prod_fails_at_preview_with_the_quota_needed_and_the_request_command():
    with pytest.raises(ValueError) as err:
        build_stack(PROD_CONFIG, "prod-quota", lambda_concurrency_quota=float(NEEDED - 1))
    message = str(err.value)
    assert f"needs a Lambda concurrency quota of at least {NEEDED} in eu-central-1" in message, message
    assert f"but it is {NEEDED - 1}" in message
    assert (
        f"aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 "
        f"--desired-value {NEEDED} --region eu-central-1"
    ) in message
    # What still fits beside the 100 unreserved executions.
    assert f"pulumi config set shop:reservedConcurrency {(NEEDED - 1 - 100) // FUNCTIONS}" in message


def test_a_quota_with_no_room_suggests_removing_the_reservation():
    with pytest.raises(ValueError, match=r"`pulumi config rm shop:reservedConcurrency`"):
        build_stack(PROD_CONFIG, "prod-quota", lambda_concurrency_quota=100.0)


def test_the_checked_in_prod_stack_needs_700():
    raw = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    config = {k.removeprefix("shop:"): v for k, v in raw.items()}
    assert config["reservedConcurrency"] * FUNCTIONS + 100 == 700, "docs/deploy-aws.md quotes 700"
    with pytest.raises(ValueError, match=r"at least 700 in eu-west-1 .* but it is 699"):
        build_stack(config, "prod-file", lambda_concurrency_quota=699.0)


def test_without_reserved_concurrency_the_quota_is_not_read(dev: BuiltStack):
    assert "reservedConcurrency" not in dev.config
    assert QUOTA_INVOKE not in dev.invokes
