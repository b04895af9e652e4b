"""Stack configuration: each wrong or missing value fails with the key, the problem and the fix."""

from __future__ import annotations

import json
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
        ({"tags": {"aws:owner": "x"}}, "'aws:owner': the aws: prefix is reserved for AWS"),
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
    assert set(CONFIG_KEYS) - set(schema) == {"tags", "azure", "gcp", "reservedConcurrency", "existingNetwork"}


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


# -- shop:tags: text on every cloud, within each cloud's rules ------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1234, "1234"), (12.5, "12.5"), (True, "true"), (False, "false"), ("shop-42", "shop-42")],
)
def test_scalar_tag_values_become_text(raw: object, expected: str):
    # `pulumi config set --path 'shop:tags.costCenter' 1234` stores the number 1234.
    assert parse_stack_config({**VALID, "tags": {"costCenter": raw}}).tags == {"costCenter": expected}


@pytest.mark.parametrize("raw", [None, [1, 2], {"nested": "x"}])
def test_non_scalar_tag_values_are_refused_with_the_command(raw: object):
    with pytest.raises(ConfigError) as err:
        parse_stack_config({**VALID, "tags": {"costCenter": raw}})
    message = str(err.value)
    assert "shop:tags values of ['costCenter'] must be text, a number or true/false" in message
    assert "`pulumi config set --path 'shop:tags.costCenter' 1234`" in message


def test_numeric_tag_reaches_the_aws_provider_as_text():
    stack = build_stack({**DEV_CONFIG, "tags": {"costCenter": 1234}}, "tags-number")
    value = stack.one("pulumi:providers:aws", "aws").inputs["defaultTags"]
    tags = (json.loads(value) if isinstance(value, str) else value)["tags"]  # provider inputs arrive as JSON
    assert tags["costCenter"] == "1234", tags


def _gcp_stack_tags(tags: dict) -> dict:
    from .gcp_mocks import GCP_DEV, build_gcp_stack

    stack = build_gcp_stack({**GCP_DEV, "tags": tags}, "tags-gcp")
    bucket = next(r for r in stack.resources if r.type == "gcp:storage/bucket:Bucket")
    return bucket.inputs["labels"]


def test_numeric_tag_reaches_gcp_as_a_lowered_label():
    labels = _gcp_stack_tags({"costCenter": 1234})
    assert labels["costcenter"] == "1234", labels


@pytest.mark.parametrize(
    ("cloud", "tags", "expected"),
    [
        ("aws", {"aws:team": "x"}, "'aws:team': the aws: prefix is reserved for AWS"),
        ("aws", {"cost|center": "x"}, "'cost|center': AWS tag keys are 1-128 letters, digits, spaces and _.:/=+-@"),
        ("aws", {"k" * 129: "x"}, "AWS tag keys are 1-128"),
        ("aws", {"team": "a;b"}, "value 'a;b': AWS tag values are at most 256 letters"),
        ("aws", {"team": "x" * 257}, "AWS tag values are at most 256"),
        ("aws", {f"t{i}": "x" for i in range(46)}, "46 tags: at most 45 fit beside the program's 5"),
        ("azure", {"cost/center": "x"}, "'cost/center': Azure tag names are 1-128 characters without"),
        ("azure", {"team:a": "x"}, "'team:a': Azure tag names"),
        ("azure", {"Team": "a", "team": "b"}, "'team' and 'Team': the same key on azure (keys ignore case)"),
        ("azure", {"team": "x" * 257}, "Azure tag values are at most 256 characters"),
        ("gcp", {"cost center": "x"}, "'cost center': GCP label keys are 1-63 letters (lowered), digits, _ and -"),
        ("gcp", {"9lives": "x"}, "'9lives': GCP label keys"),
        ("gcp", {"k" * 64: "x"}, "GCP label keys are 1-63"),
        ("gcp", {"team": "Web Shop"}, "value 'Web Shop': GCP label values are at most 63"),
        ("gcp", {"team": "x" * 64}, "GCP label values are at most 63"),
        ("gcp", {"Team": "a", "team": "b"}, "the same key on gcp"),
        ("aws", {"Owner": "me"}, "'Owner': reserved (set shop:owner instead)"),
        ("gcp", {"managed-by": "me"}, "'managed-by': reserved (the program sets it)"),
    ],
)
def test_tags_each_cloud_refuses_are_named_with_the_rule(cloud: str, tags: dict, expected: str):
    with pytest.raises(ConfigError) as err:
        parse_stack_config({**VALID, "cloud": cloud, "tags": tags})
    message = str(err.value)
    assert f"shop:tags cannot be applied on {cloud}:" in message, message
    assert expected in message, message
    assert "pulumi config set --path 'shop:tags.<key>' <value>" in message


@pytest.mark.parametrize(
    ("cloud", "tags"),
    [
        ("aws", {"cost center": "Web Shop/EU @ 1", "team": ""}),
        ("azure", {"Cost Center": "Web; Shop!", "x" * 128: "y" * 256}),
        ("gcp", {"costCenter": "1234", "team": "web-shop_eu", "k" * 63: "v" * 63}),
    ],
)
def test_tags_each_cloud_allows_pass(cloud: str, tags: dict):
    assert parse_stack_config({**VALID, "cloud": cloud, "tags": tags}).tags == tags


def test_order_expiry_hours_must_be_whole_hours_within_a_month():
    from components.config import ConfigError, parse_stack_config

    base = {"alertEmail": "ops@example.com", "senderEmail": "shop@example.com"}
    assert parse_stack_config(base).order_expiry_hours == 24
    assert parse_stack_config({**base, "orderExpiryHours": "2"}).order_expiry_hours == 2
    for bad in ("0", "721", "soon"):
        with pytest.raises(ConfigError, match="orderExpiryHours"):
            parse_stack_config({**base, "orderExpiryHours": bad})
