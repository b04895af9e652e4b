"""The policy pack's rules over the program's own resources (pass) and broken variants (flagged).

The rules are the plain functions of policy/rules.py that policy/__main__.py wraps in
CrossGuard policies; here they run over what the program creates under the mocks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from infra.conftest import BuiltStack

from policy import rules

CLOUDS = ("aws", "azure", "gcp")


def as_policy_resources(stack: BuiltStack) -> list[rules.StackResource]:
    """Resource rules see inputs (as at preview); stack rules see outputs with inputs."""
    return [rules.StackResource(r.type, r.name, {**r.inputs, **r.outputs}, r.inputs) for r in stack.resources]


def check(stack: BuiltStack, resources: list[rules.StackResource] | None = None) -> list[tuple[str, str, str]]:
    return rules.violations(resources or as_policy_resources(stack), stack.config["environment"])


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_program_passes_every_rule(stacks, cloud: str, env: str):
    found = check(stacks(cloud, env))
    assert not found, "\n".join(f"[{rule}] {name}: {msg}" for rule, name, msg in found)


def test_the_tag_lists_cover_every_tagged_type_the_program_creates(stacks):
    for cloud, key, known in (("azure", "tags", rules.AZURE_TAGGED), ("gcp", "labels", set(rules.GCP_LABELLED))):
        for env in ("dev", "prod"):
            tagged = {
                r.type
                for r in stacks(cloud, env).resources
                # Entra objects (azuread:) carry keyword tags, a list of strings, not resource tags
                if (r.inputs.get(key) or r.inputs.get("userLabels")) and not r.type.startswith("azuread:")
            }
            assert tagged <= set(known), f"{cloud}: tagged types the pack does not check: {tagged - set(known)}"


# -- broken variants ------------------------------------------------------------------------


def mutate(stack: BuiltStack, typ: str, change: Callable[[dict[str, Any]], None], name: str | None = None):
    """The stack's resources with `change` applied to the inputs of the first matching resource."""
    resources = as_policy_resources(stack)
    for i, r in enumerate(resources):
        if r.type == typ and (name is None or r.name == name):
            inputs = copy.deepcopy(dict(r.inputs or {}))
            change(inputs)
            resources[i] = rules.StackResource(r.type, r.name, {**r.props, **inputs}, inputs)
            return resources, r.name
    raise AssertionError(f"no {typ} {name or ''} in the {stack.stack} stack")


def drop(key: str) -> Callable[[dict], None]:
    return lambda p: p.pop(key, None)


def set_(key: str, value: Any) -> Callable[[dict], None]:
    return lambda p: p.__setitem__(key, value)


def _wildcard_role_policy(p: dict) -> None:
    doc = json.loads(p["policy"])
    doc["Statement"][0]["Action"] = "dynamodb:*"
    p["policy"] = json.dumps(doc)


def _public_bucket_policy(p: dict) -> None:
    doc = json.loads(p["policy"])
    doc["Statement"].append({"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})
    p["policy"] = json.dumps(doc)


def _without_oac(p: dict) -> None:
    for origin in p["origins"]:
        origin.pop("originAccessControlId", None)


def _azure_wildcard_role(p: dict) -> None:
    p["permissions"][0]["actions"] = ["Microsoft.Communication/*"]


def _afd_without_waf(p: dict) -> None:
    p["parameters"].pop("wafPolicy")


BROKEN = [
    # (cloud, env, type, name, change, rule, message a user sees)
    ("aws", "dev", "aws:dynamodb/table:Table", None, drop("serverSideEncryption"),
     "encryption-at-rest-with-stack-key", "DynamoDB table must be encrypted with the stack's KMS key"),
    ("aws", "dev", "aws:sqs/queue:Queue", None, drop("kmsMasterKeyId"),
     "encryption-at-rest-with-stack-key", "SQS must be encrypted with the stack's KMS key (kmsMasterKeyId)"),
    ("aws", "dev", "aws:s3/bucket:Bucket", None, set_("acl", "public-read"),
     "no-public-storage", "S3 ACL 'public-read' makes data public"),
    ("aws", "prod", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", None, set_("blockPublicPolicy", False),
     "no-public-storage", "public access block must set blockPublicPolicy to true"),
    ("aws", "dev", "aws:s3/bucketPolicy:BucketPolicy", None, _public_bucket_policy,
     "no-public-storage", "bucket policy statement 'Public' allows anyone (Principal '*')"),
    ("aws", "dev", "aws:cloudfront/distribution:Distribution", None, _without_oac,
     "no-public-storage", "reads S3 anonymously: set originAccessControlId"),
    ("aws", "dev", "aws:iam/rolePolicy:RolePolicy", "catalog-grants", _wildcard_role_policy,
     "no-wildcard-iam", "allows wildcard action 'dynamodb:*'"),
    ("aws", "prod", "aws:cloudfront/distribution:Distribution", None,
     set_("viewerCertificate", {"cloudfrontDefaultCertificate": True}),
     "tls-1-2", "prod distribution must serve its own certificate with minimumProtocolVersion TLSv1.2_2021"),
    ("aws", "dev", "aws:cloudfront/distribution:Distribution", None, drop("webAclId"),
     "firewall-on-cdn", "CloudFront distribution must have a WAF web ACL attached (webAclId)"),
    ("aws", "prod", "aws:apigatewayv2/api:Api", None, drop("disableExecuteApiEndpoint"),
     "firewall-on-cdn", "prod HTTP API must disable its execute-api endpoint"),
    ("aws", "prod", "aws:apigatewayv2/domainName:DomainName", None, drop("mutualTlsAuthentication"),
     "firewall-on-cdn", "prod API domain must require CloudFront's client certificate"),
    ("aws", "prod", "aws:dynamodb/table:Table", None, set_("pointInTimeRecovery", {"enabled": False}),
     "backups-in-prod", "prod DynamoDB table must have point-in-time recovery enabled"),
    ("aws", "prod", "pulumi:providers:aws", "aws", set_("defaultTags", json.dumps({"tags": {"project": "shop"}})),
     "required-tags", "AWS provider default tags lack stack, environment, managed-by, owner"),
    ("azure", "prod", "azure-native:storage:StorageAccount", None, set_("allowBlobPublicAccess", True),
     "no-public-storage", "storage account must set allowBlobPublicAccess: false"),
    ("azure", "prod", "azure-native:storage:StorageAccount", None,
     lambda p: p["encryption"].__setitem__("keySource", "Microsoft.Storage"),
     "encryption-at-rest-with-stack-key", "prod storage account must be encrypted with the stack key in Key Vault"),
    ("azure", "dev", "azure-native:authorization:RoleDefinition", None, _azure_wildcard_role,
     "no-wildcard-iam", "custom role allows wildcard action 'Microsoft.Communication/*'"),
    ("azure", "dev", "azure-native:authorization:RoleAssignment", None,
     set_("roleDefinitionId", "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"),
     "no-wildcard-iam", "role assignment grants Contributor"),
    ("azure", "dev", "azure-native:cosmosdb:DatabaseAccount", None, set_("minimalTlsVersion", "Tls"),
     "tls-1-2", "Cosmos DB account must set minimalTlsVersion Tls12"),
    ("azure", "prod", "azure-native:cdn:SecurityPolicy", None, _afd_without_waf,
     "firewall-on-cdn", "Front Door endpoint has no WAF security policy"),
    ("azure", "prod", "azure-native:cosmosdb:DatabaseAccount", None, set_("backupPolicy", {"type": "Periodic"}),
     "backups-in-prod", "prod Cosmos DB account must use continuous backup"),
    ("azure", "dev", "azure-native:keyvault:Vault", None, set_("tags", {"project": "shop"}),
     "required-tags", "tags lack stack, environment, managed-by, owner"),
    ("gcp", "dev", "gcp:pubsub/topic:Topic", None, drop("kmsKeyName"),
     "encryption-at-rest-with-stack-key", "Pub/Sub topic must be encrypted with the stack's KMS key"),
    ("gcp", "dev", "gcp:storage/bucketIAMMember:BucketIAMMember", None,
     lambda p: p.update(member="allUsers", role="roles/storage.objectViewer"),
     "no-public-storage", "anonymous members may only read objects by name, not hold roles/storage.objectViewer"),
    ("gcp", "dev", "gcp:storage/bucket:Bucket", "bucket-source", set_("publicAccessPrevention", "inherited"),
     "no-public-storage", "a bucket that is not the site must enforce public access prevention"),
    ("gcp", "prod", "gcp:projects/iAMCustomRole:IAMCustomRole", None, set_("permissions", ["cloudmessaging.*"]),
     "no-wildcard-iam", "custom role grants wildcard permission 'cloudmessaging.*'"),
    ("gcp", "dev", "gcp:projects/iAMMember:IAMMember", None, set_("role", "roles/editor"),
     "no-wildcard-iam", "basic role roles/editor grants a whole project"),
    ("gcp", "prod", "gcp:compute/sSLPolicy:SSLPolicy", None, set_("minTlsVersion", "TLS_1_0"),
     "tls-1-2", "SSL policy must set minTlsVersion TLS_1_2"),
    ("gcp", "dev", "gcp:compute/backendService:BackendService", None, drop("securityPolicy"),
     "firewall-on-cdn", "load balancer backend must have a Cloud Armor security policy attached"),
    ("gcp", "prod", "gcp:firestore/database:Database", None,
     set_("pointInTimeRecoveryEnablement", "POINT_IN_TIME_RECOVERY_DISABLED"),
     "backups-in-prod", "prod Firestore database must have point-in-time recovery enabled"),
    ("gcp", "prod", "gcp:cloudfunctionsv2/function:Function", None, set_("labels", {"project": "shop"}),
     "required-tags", "labels lack stack, environment, managed-by, owner"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cloud", "env", "typ", "name", "change", "rule", "message"),
    BROKEN,
    ids=[f"{c}-{e}-{r}-{t.split(':')[-1]}" for c, e, t, _, _, r, _ in BROKEN],
)
def test_a_broken_resource_is_flagged_with_a_clear_message(stacks, cloud, env, typ, name, change, rule, message):
    stack = stacks(cloud, env)
    resources, broken = mutate(stack, typ, change, name)
    found = check(stack, resources)
    assert found, f"{rule}: the broken {typ} passed"
    assert {(r, n) for r, n, _ in found} <= {(rule, broken), (rule, _owner_of(resources, typ, broken))}, found
    assert any(message in m for _, _, m in found), f"{rule}: expected {message!r}, got {found}"


def test_every_rule_is_shown_to_catch_a_break_on_every_cloud():
    """Each rule has a broken variant on each cloud above, so none passes vacuously."""
    covered = {(cloud, rule) for cloud, _, _, _, _, rule, _ in BROKEN}
    missing = {(c, r.name) for c in CLOUDS for r in rules.RULES} - covered
    assert not missing, f"rules without a broken variant: {sorted(missing)}"


def _owner_of(resources: list[rules.StackResource], typ: str, name: str) -> str:
    """Stack rules report the resource that lacks its companion (e.g. the Front Door endpoint)."""
    if typ == "azure-native:cdn:SecurityPolicy":
        return next(r.name for r in resources if r.type == "azure-native:cdn:AFDEndpoint")
    return name


def test_a_bucket_without_its_public_access_block_or_encryption_is_flagged(stacks):
    stack = stacks("aws", "dev")
    resources = [
        r
        for r in as_policy_resources(stack)
        if r.type
        not in (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        )
    ]
    messages = {(rule, msg) for rule, _, msg in check(stack, resources)}
    assert ("no-public-storage", "S3 bucket has no public access block") in messages
    assert ("encryption-at-rest-with-stack-key", "S3 bucket has no default encryption configuration") in messages


@pytest.mark.parametrize(
    ("cloud", "typ", "change", "message"),
    [
        ("aws", "aws:sns/topic:Topic", set_("kmsMasterKeyId", "arn:aws:kms:eu-west-1:999999999999:key/other"),
         "encrypted with arn:aws:kms:eu-west-1:999999999999:key/other, not with this stack's KMS key"),
        ("gcp", "gcp:pubsub/topic:Topic",
         set_("kmsKeyName", "projects/elsewhere/locations/europe-west1/keyRings/theirs/cryptoKeys/k"),
         "not with a key of this stack's key ring"),
    ],
)  # fmt: skip
def test_a_key_from_outside_the_stack_is_flagged(stacks, cloud, typ, change, message):
    stack = stacks(cloud, "dev")
    resources, broken = mutate(stack, typ, change)
    found = check(stack, resources)
    assert [(r, n) for r, n, _ in found] == [("encryption-at-rest-with-stack-key", broken)], found
    assert message in found[0][2]


def test_dev_may_skip_prod_only_rules(stacks):
    """The same broken props pass in dev where the rule is prod-only (backups, CMK storage)."""
    stack = stacks("gcp", "dev")
    assert stack.one("gcp:firestore/database:Database").inputs["pointInTimeRecoveryEnablement"].endswith("DISABLED")
    assert not check(stack)


def test_environment_comes_from_the_tags_or_the_aws_provider(stacks):
    aws = stacks("aws", "prod")
    provider = aws.one("pulumi:providers:aws", "aws").inputs
    table = aws.one("aws:dynamodb/table:Table").inputs
    assert rules.environment_of(table, provider) == "prod"
    assert rules.environment_of(stacks("azure", "prod").one("azure-native:cosmosdb:DatabaseAccount").inputs) == "prod"
    assert rules.environment_of(stacks("gcp", "dev").one("gcp:storage/bucket:Bucket", "bucket-site").inputs) == "dev"


# -- the CrossGuard wrapping ----------------------------------------------------------------


def test_the_pack_reports_the_rule_messages_through_crossguard(stacks):
    """policy/pack.py hands CrossGuard the same messages, with the environment from the provider tags."""
    pulumi_policy = pytest.importorskip("pulumi_policy", reason="the pack's own requirement (policy/requirements.txt)")
    from policy import pack

    policies = {p.name: p for p in pack.policies()}
    assert set(policies) == {r.name for r in rules.RULES} | {f"{r.name}-stack" for r in rules.RULES if r.stack_check}
    stack = stacks("aws", "prod")
    provider = pulumi_policy.PolicyProviderResource(
        "pulumi:providers:aws", stack.one("pulumi:providers:aws", "aws").inputs, "urn:provider", "aws"
    )
    table = dict(stack.one("aws:dynamodb/table:Table").inputs, pointInTimeRecovery={"enabled": False})
    reported: list[str] = []
    args = pulumi_policy.ResourceValidationArgs(
        "aws:dynamodb/table:Table",
        table,
        "urn:table",
        "shop",
        None,
        provider,  # type: ignore[arg-type]
    )
    policies["backups-in-prod"].validate(args, lambda message, urn=None: reported.append(message))
    assert reported == ["prod DynamoDB table must have point-in-time recovery enabled"]

    buckets = [
        pulumi_policy.PolicyResource(
            r.type, {**r.inputs, **r.outputs}, f"urn:{r.name}", r.name, None, None, None, [], {}
        )  # type: ignore[arg-type]
        for r in stack.resources
        if r.type == "aws:s3/bucket:Bucket"
    ]
    flagged: list[tuple[str, str | None]] = []
    policies["no-public-storage-stack"].validate(
        pulumi_policy.StackValidationArgs(buckets), lambda message, urn=None: flagged.append((message, urn))
    )
    assert sorted(flagged) == sorted(("S3 bucket has no public access block", f"urn:{b.name}") for b in buckets)
