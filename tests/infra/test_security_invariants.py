"""Security invariants checked over *every* resource of the dev and prod stacks.

Resource "*" is allowed only where AWS offers no resource-level permission
(``providers.aws.iam.WILDCARD_RESOURCE_ACTIONS``: X-Ray writes and the EC2 Describe
calls Lambda makes for VPC attachment) and in KMS key policies, where "*" means "this key".
"""

from __future__ import annotations

import json

import pytest

from functions.shop import datamodel
from providers.aws import iam

from .conftest import BuiltStack

POLICY_CARRIERS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
}


def _policies(stack: BuiltStack):
    for r in stack.resources:
        key = POLICY_CARRIERS.get(r.type)
        if key and r.inputs.get(key):
            yield r, json.loads(r.inputs[key])


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_no_allow_statement_grants_wildcard_actions(any_stack: BuiltStack):
    for resource, doc in _policies(any_stack):
        for st in doc["Statement"]:
            if st["Effect"] != "Allow":
                continue  # a Deny with s3:* only takes rights away
            for action in _as_list(st["Action"]):
                assert action != "*" and not action.endswith(":*") and "*" not in action, (
                    f"{resource.type} {resource.name}: statement {st.get('Sid')} allows wildcard action {action}"
                )


def test_wildcard_resources_only_where_aws_requires_them(any_stack: BuiltStack):
    for resource, doc in _policies(any_stack):
        for st in doc["Statement"]:
            if st["Effect"] != "Allow" or "*" not in _as_list(st.get("Resource", [])):
                continue
            if resource.type == "aws:kms/key:Key":
                continue  # key policy: "*" is the key itself
            extra = set(_as_list(st["Action"])) - iam.WILDCARD_RESOURCE_ACTIONS
            assert not extra, f"{resource.type} {resource.name}: {sorted(extra)} allowed on Resource '*'"


def test_no_public_bucket(any_stack: BuiltStack):
    buckets = any_stack.of_type("aws:s3/bucket:Bucket")
    blocks = {b.name: b.inputs for b in any_stack.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")}
    for bucket in buckets:
        assert bucket.name in blocks, f"bucket {bucket.name} has no public access block"
        flags = blocks[bucket.name]
        assert all(
            flags[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
        assert not bucket.inputs.get("acl") and not bucket.inputs.get("website")
    for obj in any_stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2"):
        assert not obj.inputs.get("acl"), f"object {obj.name} sets an ACL"
    for _, doc in ((r, d) for r, d in _policies(any_stack) if r.type == "aws:s3/bucketPolicy:BucketPolicy"):
        for st in doc["Statement"]:
            if st["Effect"] == "Allow":
                assert st["Principal"] != "*" and st["Principal"] != {"AWS": "*"}, st


def _key_for(any_stack: BuiltStack, resource) -> str:
    """The stack key, or for what lives in us-east-1 (CloudFront's firewall logs and their
    alarm topic) the stack's us-east-1 key: KMS keys are regional."""
    name = "waf-logs" if resource.provider and "aws-us-east-1" in resource.provider else "stack-key"
    return any_stack.one("aws:kms/key:Key", name).outputs["arn"]


def test_everything_is_encrypted_at_rest(any_stack: BuiltStack):
    key_arn = any_stack.one("aws:kms/key:Key", "stack-key").outputs["arn"]
    sse = {
        r.name
        for r in any_stack.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
    }
    assert sse == {b.name for b in any_stack.of_type("aws:s3/bucket:Bucket")}, "a bucket lacks default encryption"
    for t in any_stack.of_type("aws:dynamodb/table:Table"):
        assert t.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key_arn}
    for topic in any_stack.of_type("aws:sns/topic:Topic"):
        assert topic.inputs.get("kmsMasterKeyId") == _key_for(any_stack, topic), f"topic {topic.name} not encrypted"
    for queue in any_stack.of_type("aws:sqs/queue:Queue"):
        assert queue.inputs.get("kmsMasterKeyId") == key_arn, f"queue {queue.name} not encrypted with the stack key"
    for group in any_stack.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs.get("kmsKeyId") == _key_for(any_stack, group), f"log group {group.name} not encrypted"
    for p in any_stack.of_type("aws:ssm/parameter:Parameter"):
        if p.name in {"alertEmail"}:
            assert p.inputs["type"] == "SecureString" and p.inputs["keyId"] == key_arn


def test_tls_is_enforced(any_stack: BuiltStack):
    def denies_plain_http(doc: dict) -> bool:
        return any(
            st["Effect"] == "Deny" and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for st in doc["Statement"]
        )

    for resource, doc in _policies(any_stack):
        if resource.type in (
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:sqs/queuePolicy:QueuePolicy",
            "aws:sns/topicPolicy:TopicPolicy",
        ):
            assert denies_plain_http(doc), f"{resource.type} {resource.name} does not deny plain HTTP"
    policied = {r.name for r in any_stack.of_type("aws:s3/bucketPolicy:BucketPolicy")}
    assert policied == {b.name for b in any_stack.of_type("aws:s3/bucket:Bucket")}, "a bucket has no TLS-only policy"
    d = any_stack.one("aws:cloudfront/distribution:Distribution").inputs
    behaviours = [d["defaultCacheBehavior"], *d["orderedCacheBehaviors"]]
    assert all(b["viewerProtocolPolicy"] in ("https-only", "redirect-to-https") for b in behaviours)
    for origin in d["origins"]:
        if "customOriginConfig" in origin:
            assert origin["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    assert (
        any_stack.one("aws:sesv2/configurationSet:ConfigurationSet").inputs["deliveryOptions"]["tlsPolicy"] == "REQUIRE"
    )


def test_every_function_has_its_log_group_with_retention(any_stack: BuiltStack):
    groups = {g.inputs.get("name"): g for g in any_stack.of_type("aws:cloudwatch/logGroup:LogGroup")}
    retention = any_stack.config.get("logRetentionDays", 30)
    for fn in any_stack.of_type("aws:lambda/function:Function"):
        name = fn.outputs["name"]
        group = groups.get(f"/aws/lambda/{name}")
        assert group is not None, f"function {name} has no /aws/lambda/{name} log group"
        assert group.inputs["retentionInDays"] == retention
        assert fn.inputs["loggingConfig"]["logGroup"] == f"/aws/lambda/{name}"
    for group in groups.values():
        assert group.inputs.get("retentionInDays"), f"log group {group.name} keeps logs forever"


def _role_policy(stack: BuiltStack, service: str) -> dict:
    return stack.one("aws:iam/rolePolicy:RolePolicy", f"{service}-grants").policy()


@pytest.mark.parametrize("service", [s.name for s in datamodel.SERVICES])
def test_each_function_role_allows_exactly_its_grants(any_stack: BuiltStack, service: str):
    spec = datamodel.SERVICES_BY_NAME[service]
    doc = _role_policy(any_stack, service)
    granted = {a for st in doc["Statement"] for a in _as_list(st["Action"])}
    runtime = {a for st in iam.runtime_statements(iam.RuntimeArns("lg", "r", "1")) for a in st["Action"]}
    expected = set(runtime)
    for grant in spec.grants:
        for action in grant.actions:
            if grant.resource == datamodel.TABLE:
                expected.add(iam.TABLE_ACTIONS[action])
            elif grant.resource == datamodel.PAYMENTS and not any_stack.config.get("stripeSecretKey"):
                continue  # a stack that takes no cards has no Stripe parameters to read
            else:
                expected |= set(iam.ACTIONS[(grant.resource, action)])
    kms = {a for st in doc["Statement"] if st["Sid"].startswith("StackKeyVia") for a in st["Action"]}
    assert granted - kms == expected - {"kms:Decrypt"}, f"{service}: role differs from its grants"

    # Exact resources per grant (every table statement: tests/infra/test_least_privilege.py).
    db = any_stack.one("aws:dynamodb/table:Table").outputs["arn"]
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    resources = {sid: set(_as_list(st["Resource"])) for sid, st in by_sid.items()}
    for sid, st in by_sid.items():
        if sid.startswith("Table"):
            assert resources[sid] <= {db, *(f"{db}/index/{i.name}" for i in datamodel.SHOP_TABLE.indexes)}, sid
            assert set(st["Condition"]) == {"ForAllValues:StringLike"}, sid
    if "TopicPublish" in by_sid:
        assert resources["TopicPublish"] == {
            any_stack.one("aws:sns/topic:Topic", datamodel.ORDER_EVENTS_TOPIC).outputs["arn"]
        }
    if "QueueConsume" in by_sid:
        assert resources["QueueConsume"] == {
            any_stack.one("aws:sqs/queue:Queue", datamodel.NOTIFICATIONS_QUEUE).outputs["arn"]
        }
    if "MediaWrite" in by_sid:
        bucket = any_stack.one("aws:s3/bucket:Bucket", "site").outputs["arn"]
        assert resources["MediaWrite"] == {f"{bucket}/media/*"}
    if "EmailSend" in by_sid:
        assert by_sid["EmailSend"]["Condition"] == {"StringEquals": {"ses:FromAddress": "shop@example.com"}}
    if "IdentityRead" in by_sid:
        assert resources["IdentityRead"] == {any_stack.one("aws:cognito/userPool:UserPool").outputs["arn"]}
    fn_name = any_stack.one("aws:lambda/function:Function", service).outputs["name"]
    assert resources["OwnLogs"] == {
        f"{any_stack.one('aws:cloudwatch/logGroup:LogGroup', f'{service}-logs').outputs['arn']}:*"
    }
    assert fn_name.endswith(service)
    for st in doc["Statement"]:
        if st["Sid"].startswith("StackKeyVia"):
            assert "kms:ViaService" in st["Condition"]["StringEquals"], st


def test_least_privilege_spot_checks(dev: BuiltStack):
    """Independent of the mapping table: what a few roles must never be able to do."""

    def actions(service: str) -> set[str]:
        return {a for st in _role_policy(dev, service)["Statement"] for a in _as_list(st["Action"])}

    assert not {
        a
        for a in actions("catalog")
        if a.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete", "sns:", "s3:"))
    }
    assert not {a for a in actions("cart") if a.startswith(("sns:", "ses:", "s3:", "cognito-idp:"))}
    assert not {a for a in actions("notifications") if a.startswith("s3:")}
    # The consumer's dedupe records (get/put/delete of EVENT# items) and the customers' push
    # devices (query and prune DEVICES# items), nothing else in the table.
    table = [st for st in _role_policy(dev, "notifications")["Statement"] if st["Sid"].startswith("Table")]
    assert [(st["Sid"], sorted(_as_list(st["Action"]))) for st in table] == [
        ("TableProcessedEvents", ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]),
        ("TableDevices", ["dynamodb:DeleteItem", "dynamodb:Query"]),
    ], table
    assert table[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["EVENT#*"]
    assert table[1]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["DEVICES#*"]
    assert {a for a in actions("accounts") if a.startswith(("dynamodb:", "cognito-idp:"))} == {
        "cognito-idp:AdminInitiateAuth",
        "cognito-idp:AdminRespondToAuthChallenge",
    }
    # the admin re-check, and one customer's verified e-mail for an order whose token had none
    assert {a for a in actions("admin") if a.startswith("cognito-idp:")} == {
        "cognito-idp:AdminListGroupsForUser",
        "cognito-idp:AdminGetUser",
    }
    assert "s3:PutObject" in actions("admin") and "s3:PutObject" not in actions("orders")


def test_every_role_is_assumable_only_by_its_service(any_stack: BuiltStack):
    for role in any_stack.of_type("aws:iam/role:Role"):
        (st,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert st["Action"] == "sts:AssumeRole"
        # EventBridge Scheduler only for the schedule's own role (it may invoke one function)
        scheduler = ("scheduler.amazonaws.com",) if role.name.endswith("-scheduler-role") else ()
        assert st["Principal"]["Service"] in ("lambda.amazonaws.com", "vpc-flow-logs.amazonaws.com", *scheduler), (
            role.name
        )
