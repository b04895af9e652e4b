"""Stack configuration: each wrong or missing value fails with the key, the problem and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.config import CONFIG_KEYS, ConfigError, StackConfig, parse_stack_config

from .conftest import DEV_CONFIG, build_stack

ROOT = Path(__file__).resolve().parents[2]
VALID = {"alertEmail": "oncall@example.com", "senderEmail": "shop@example.com"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"azCount": "1"}, "shop:azCount must be >= 2 (got '1'): set `pulumi config set shop:azCount 2`"),
        ({"azCount": "two"}, "shop:azCount must be a valid integer"),
        ({"cloud": "ibm"}, "shop:cloud must be 'aws', 'azure' or 'gcp' (got 'ibm')"),
        ({"environment": "staging"}, "shop:environment must be 'dev' or 'prod'"),
        ({"natMode": "double"}, "shop:natMode must be 'single' or 'perAz'"),
        ({"senderEmail": "not-an-address"}, "shop:senderEmail must be an e-mail address"),
        ({"alertEmail": "a@b"}, "shop:alertEmail must be an e-mail address"),
        ({"logRetentionDays": "10"}, "shop:logRetentionDays must be one of the CloudWatch Logs retention periods"),
        ({"functionMemoryMb": "64"}, "shop:functionMemoryMb must be >= 128"),
        ({"functionTimeoutSeconds": "60"}, "shop:functionTimeoutSeconds must be <= 29"),
        ({"wafRateLimit": "5"}, "shop:wafRateLimit must be >= 10"),
        ({"region": "europe-west"}, "shop:region 'europe-west' is not an AWS region"),
        ({"domainName": "shop.example.com"}, "shop:domainName and shop:hostedZoneId go together"),
        ({"hostedZoneId": "Z0123456789ABCDEFGHIJ"}, "set `pulumi config set shop:domainName shop.example.com`"),
        ({"domainName": "not a domain", "hostedZoneId": "Z1"}, "shop:domainName must be a fully qualified domain name"),
        ({"hostedZoneId": "abc", "domainName": "a.example.com"}, "shop:hostedZoneId must be a Route 53 hosted zone id"),
        ({"currency": "euro"}, "shop:currency"),
        ({"authThreatProtection": "max"}, "shop:authThreatProtection must be 'off', 'audit' or 'enforced'"),
        ({"tags": {"aws:owner": "x"}}, "shop:tags tag keys ['aws:owner'] are not allowed"),
        ({"azcount": "3"}, "shop:azcount is not a known setting"),
    ],
)
def test_bad_value_names_the_key_and_the_fix(overrides: dict, expected: str):
    with pytest.raises(ConfigError) as err:
        parse_stack_config({**VALID, **overrides})
    assert expected in str(err.value)


@pytest.mark.parametrize("missing", ["alertEmail", "senderEmail"])
def test_missing_required_key(missing: str):
    values = {k: v for k, v in VALID.items() if k != missing}
    with pytest.raises(ConfigError, match=rf"shop:{missing} is required: set `pulumi config set shop:{missing} "):
        parse_stack_config(values)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        parse_stack_config({"azCount": "1", "natMode": "x"})
    message = str(err.value)
    for key in ("alertEmail", "senderEmail", "azCount", "natMode"):
        assert f"shop:{key}" in message


def test_valid_values_from_strings_like_pulumi_gives_them():
    config = parse_stack_config(
        {**VALID, "azCount": "3", "logRetentionDays": "90", "domainName": "Shop.Example.com.", "hostedZoneId": "Z123"}
    )
    assert (config.az_count, config.log_retention_days, config.domain_name) == (3, 90, "shop.example.com")
    assert parse_stack_config({**VALID, "domainName": "", "hostedZoneId": ""}).domain_name is None


def test_pulumi_yaml_schema_defaults_match_the_model():
    schema = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    fields = {(f.alias or name): f for name, f in StackConfig.model_fields.items()}
    for key, spec in schema.items():
        assert key in fields, f"Pulumi.yaml declares {key}, unknown to StackConfig"
        field = fields[key]
        if "default" not in spec:
            assert field.is_required(), f"{key}: required in Pulumi.yaml but has a default in StackConfig"
            continue
        default = field.get_default(call_default_factory=True)
        if spec["default"] == "":
            assert default is None, key
        else:
            assert spec["default"] == default, f"{key}: Pulumi.yaml default {spec['default']!r} != model {default!r}"
    assert set(CONFIG_KEYS) - set(schema) == {"tags", "azure", "gcp", "reservedConcurrency"}


@pytest.mark.parametrize("stack_file", ["Pulumi.dev.yaml", "Pulumi.prod.yaml"])
def test_stack_files_are_valid(stack_file: str):
    raw = yaml.safe_load((ROOT / stack_file).read_text())["config"]
    values = {k.removeprefix("shop:"): v for k, v in raw.items() if k.startswith("shop:")}
    assert set(raw) == {f"shop:{k}" for k in values}, "only shop:* keys are expected"
    config = parse_stack_config(values)
    assert config.cloud == "aws"


def test_preview_fails_with_the_message_under_the_real_program():
    with pytest.raises(ConfigError, match=r"shop:azCount must be >= 2 \(got '1'\)"):
        build_stack({**DEV_CONFIG, "azCount": 1}, "bad")


def test_more_zones_than_the_region_has_fails_with_the_fix():
    # The mocked region has three zones (like most AWS regions).
    with pytest.raises(ValueError, match=r"shop:azCount is 4 but eu-west-1 has only 3 available zones"):
        build_stack({**DEV_CONFIG, "azCount": 4}, "bad")
