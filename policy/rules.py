"""The shop's security rules as plain functions over (resource type, properties).

No Pulumi import here: ``policy/__main__.py`` wraps each rule in a CrossGuard policy, and the
tests run the same functions over the resources the program creates under the mocks. A
resource rule returns the messages a user sees for one resource; a stack rule sees every
resource at once (rules that need two resources, such as "every bucket has a public access
block").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REQUIRED_TAGS = ("project", "stack", "environment", "managed-by", "owner")

AWS_POLICY_CARRIERS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
}
# Azure built-in roles that grant everything on their scope.
AZURE_BROAD_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
GCP_BROAD_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
GCP_ANONYMOUS = {"allUsers", "allAuthenticatedUsers"}
# Reading objects by name (no listing) is what a CDN-fronted site bucket needs, nothing more.
GCP_ANONYMOUS_ALLOWED_ROLES = {"roles/storage.legacyObjectReader"}
GCP_IAM_MEMBER_TYPES = (
    "gcp:projects/iAMMember:IAMMember", "gcp:pubsub/topicIAMMember:TopicIAMMember",
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember", "gcp:secretmanager/secretIamMember:SecretIamMember",
    "gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:serviceaccount/iAMMember:IAMMember",
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding",
)  # fmt: skip
# Azure resource types that take tags (the ones a shop stack creates), and GCP ones that take labels.
AZURE_TAGGED = frozenset(
    "azure-native:" + t
    for t in (
        "apimanagement:ApiManagementService", "applicationinsights:Component", "cdn:AFDEndpoint", "cdn:Profile",
        "network:PrivateEndpoint", "privatedns:PrivateZone", "privatedns:VirtualNetworkLink", "monitor:ScheduledQueryRule",
        "communication:CommunicationService", "communication:Domain", "communication:EmailService",
        "cosmosdb:DatabaseAccount", "cosmosdb:SqlResourceSqlContainer", "cosmosdb:SqlResourceSqlDatabase",
        "frontdoor:Policy", "keyvault:Key", "keyvault:Secret", "keyvault:Vault", "managedidentity:UserAssignedIdentity",
        "monitor:ActionGroup", "monitor:MetricAlert", "network:NatGateway", "network:NetworkSecurityGroup",
        "network:PublicIPAddress", "network:VirtualNetwork", "notificationhubs:Namespace",
        "notificationhubs:NotificationHub", "operationalinsights:Workspace", "resources:ResourceGroup",
        "servicebus:Namespace", "storage:StorageAccount", "web:AppServicePlan", "web:WebApp",
    )
)  # fmt: skip
GCP_LABELLED = {
    **{
        "gcp:" + t: "labels"
        for t in (
            "apigateway/api:Api", "apigateway/apiConfig:ApiConfig", "apigateway/gateway:Gateway",
            "artifactregistry/repository:Repository", "cloudfunctionsv2/function:Function", "compute/address:Address",
            "compute/globalAddress:GlobalAddress", "compute/globalForwardingRule:GlobalForwardingRule",
            "compute/securityPolicy:SecurityPolicy", "kms/cryptoKey:CryptoKey",
            "parametermanager/regionalParameter:RegionalParameter", "pubsub/subscription:Subscription",
            "pubsub/topic:Topic", "secretmanager/secret:Secret", "storage/bucket:Bucket",
        )
    },
    "gcp:monitoring/alertPolicy:AlertPolicy": "userLabels",
    "gcp:monitoring/notificationChannel:NotificationChannel": "userLabels",
}  # fmt: skip


@dataclass(frozen=True)
class Context:
    """What a rule knows besides the resource: the stack's environment (from its tags)."""

    environment: str | None = None
    required_tags: Sequence[str] = REQUIRED_TAGS

    @property
    def prod(self) -> bool:
        return self.environment == "prod"


Props = Mapping[str, Any]
ResourceCheck = Callable[[str, Props, Context], Iterable[str]]


@dataclass(frozen=True)
class StackResource:
    """A resource as a stack rule sees it: `props` are its outputs (inputs included)."""

    type: str
    name: str
    props: Props
    inputs: Props | None = None  # what a resource rule sees at preview; defaults to props


StackCheck = Callable[[Sequence[StackResource], Context], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None


# -- helpers ----------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def tags_of(props: Props) -> Mapping[str, str]:
    """Tags or labels as given on the resource (AWS: the provider's default tags)."""
    for key in ("tags", "labels", "userLabels"):
        if props.get(key):
            return _json(props[key])
    default = _json(props.get("defaultTags")) or {}
    return default.get("tags") or {}


def environment_of(props: Props, provider_props: Props | None = None) -> str | None:
    """The `environment` tag of the resource, else of its provider's default tags."""
    return tags_of(props).get("environment") or (tags_of(provider_props).get("environment") if provider_props else None)


def _policy_statements(resource_type: str, props: Props) -> Iterator[dict]:
    key = AWS_POLICY_CARRIERS.get(resource_type)
    doc = _json(props.get(key)) if key else None
    if doc:
        yield from _list(doc.get("Statement"))


# -- encryption at rest -----------------------------------------------------------------------


def check_encryption(typ: str, p: Props, ctx: Context) -> Iterator[str]:
    if typ == "aws:dynamodb/table:Table":
        sse = p.get("serverSideEncryption") or {}
        if not (sse.get("enabled") and sse.get("kmsKeyArn")):
            yield "DynamoDB table must be encrypted with the stack's KMS key (serverSideEncryption.kmsKeyArn)"
    elif typ in ("aws:sns/topic:Topic", "aws:sqs/queue:Queue"):
        if not p.get("kmsMasterKeyId"):
            yield f"{typ.split('/')[0].removeprefix('aws:').upper()} must be encrypted with the stack's KMS key (kmsMasterKeyId)"
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        if not p.get("kmsKeyId"):
            yield "log group must be encrypted with the stack's KMS key (kmsKeyId)"
    elif typ == "aws:ssm/parameter:Parameter":
        if p.get("type") == "SecureString" and not p.get("keyId"):
            yield "SecureString parameter must use the stack's KMS key (keyId), not the AWS-managed key"
    elif typ == "azure-native:storage:StorageAccount":
        enc = p.get("encryption") or {}
        if not enc.get("requireInfrastructureEncryption"):
            yield "storage account must require infrastructure (double) encryption"
        if ctx.prod and enc.get("keySource") != "Microsoft.Keyvault":
            yield "prod storage account must be encrypted with the stack key in Key Vault (encryption.keySource)"
    elif typ == "azure-native:keyvault:Vault":
        if ctx.prod and not (p.get("properties") or {}).get("enablePurgeProtection"):
            yield "prod Key Vault must have purge protection (the stack key must not be deletable)"
    elif typ == "gcp:storage/bucket:Bucket":
        if not (p.get("encryption") or {}).get("defaultKmsKeyName"):
            yield "bucket must be encrypted with the stack's KMS key (encryption.defaultKmsKeyName)"
    elif typ == "gcp:pubsub/topic:Topic":
        if not p.get("kmsKeyName"):
            yield "Pub/Sub topic must be encrypted with the stack's KMS key (kmsKeyName)"
    elif typ == "gcp:firestore/database:Database":
        if not (p.get("cmekConfig") or {}).get("kmsKeyName"):
            yield "Firestore database must be encrypted with the stack's KMS key (cmekConfig.kmsKeyName)"
    elif typ == "gcp:secretmanager/secret:Secret":
        replicas = ((p.get("replication") or {}).get("userManaged") or {}).get("replicas") or []
        if not replicas or not all((r.get("customerManagedEncryption") or {}).get("kmsKeyName") for r in replicas):
            yield "secret must be replicated with the stack's KMS key on every replica"


def check_aws_buckets_encrypted(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str]]:
    yield from _bucket_companions(
        resources,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "S3 bucket has no default encryption configuration",
    )


AWS_KEY_REFERENCES = {
    "aws:dynamodb/table:Table": lambda p: (p.get("serverSideEncryption") or {}).get("kmsKeyArn"),
    "aws:sns/topic:Topic": lambda p: p.get("kmsMasterKeyId"),
    "aws:sqs/queue:Queue": lambda p: p.get("kmsMasterKeyId"),
    "aws:cloudwatch/logGroup:LogGroup": lambda p: p.get("kmsKeyId"),
    "aws:ssm/parameter:Parameter": lambda p: p.get("keyId"),
}
GCP_KEY_REFERENCES = {
    "gcp:storage/bucket:Bucket": lambda p: [(p.get("encryption") or {}).get("defaultKmsKeyName")],
    "gcp:pubsub/topic:Topic": lambda p: [p.get("kmsKeyName")],
    "gcp:firestore/database:Database": lambda p: [(p.get("cmekConfig") or {}).get("kmsKeyName")],
    "gcp:secretmanager/secret:Secret": lambda p: [
        (r.get("customerManagedEncryption") or {}).get("kmsKeyName")
        for r in ((p.get("replication") or {}).get("userManaged") or {}).get("replicas") or []
    ],
}


def check_the_stack_key(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str]]:
    """Encrypted with *this stack's* key: AWS by ARN, GCP by a key ring the stack holds."""
    aws_keys = {v for r in resources if r.type == "aws:kms/key:Key" for v in (r.props.get("arn"), r.props.get("keyId"))}
    aws_keys |= {r.props.get("arn") for r in resources if r.type == "aws:kms/alias:Alias"}
    rings = {r.props.get("keyRing") for r in resources if r.type == "gcp:kms/cryptoKey:CryptoKey"}
    for r in resources:
        if r.type in AWS_KEY_REFERENCES and aws_keys:
            key = AWS_KEY_REFERENCES[r.type](r.props)
            if key and key not in aws_keys:
                yield r.name, f"encrypted with {key}, not with this stack's KMS key"
        elif r.type in GCP_KEY_REFERENCES and rings:
            for key in GCP_KEY_REFERENCES[r.type](r.props):
                if key and not any(str(key).startswith(f"{ring}/cryptoKeys/") for ring in rings):
                    yield r.name, f"encrypted with {key}, not with a key of this stack's key ring"


def _stack_encryption(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str]]:
    yield from check_aws_buckets_encrypted(resources, ctx)
    yield from check_the_stack_key(resources, ctx)


def _bucket_companions(resources: Sequence[StackResource], companion: str, message: str) -> Iterator[tuple[str, str]]:
    """Each S3 bucket needs a companion resource of `companion` type pointing at it."""
    covered = {r.props.get("bucket") for r in resources if r.type == companion}
    for b in resources:
        if b.type == "aws:s3/bucket:Bucket" and b.props.get("bucket") not in covered:
            yield b.name, message


# -- no public storage, no anonymous origins --------------------------------------------------


def check_no_public_storage(typ: str, p: Props, ctx: Context) -> Iterator[str]:
    if typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketAclV2:BucketAclV2"):
        acl = p.get("acl")
        if acl and acl != "private":
            yield f"S3 ACL '{acl}' makes data public: serve it through CloudFront with origin access control"
        if typ == "aws:s3/bucket:Bucket" and p.get("website"):
            yield "S3 website hosting is public: serve the site through CloudFront with origin access control"
    elif typ == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        off = [
            k
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
            if not p.get(k)
        ]
        if off:
            yield f"public access block must set {', '.join(off)} to true"
    elif typ == "aws:s3/bucketPolicy:BucketPolicy":
        for st in _policy_statements(typ, p):
            if st.get("Effect") == "Allow" and st.get("Principal") in ("*", {"AWS": "*"}):
                yield f"bucket policy statement {st.get('Sid', '')!r} allows anyone (Principal '*')"
    elif typ == "aws:cloudfront/distribution:Distribution":
        for origin in _list(p.get("origins")):
            if ".s3." in str(origin.get("domainName", "")) and not origin.get("originAccessControlId"):
                yield f"CloudFront origin {origin.get('originId')!r} reads S3 anonymously: set originAccessControlId"
    elif typ == "azure-native:storage:StorageAccount":
        if p.get("allowBlobPublicAccess") is not False:
            yield "storage account must set allowBlobPublicAccess: false"
    elif typ == "azure-native:storage:BlobContainer":
        if p.get("publicAccess") not in (None, "None"):
            yield f"blob container allows anonymous access ({p.get('publicAccess')})"
    elif typ == "gcp:storage/bucket:Bucket":
        if not p.get("uniformBucketLevelAccess"):
            yield "bucket must use uniform bucket-level access (no per-object ACLs)"
        if not p.get("website") and p.get("publicAccessPrevention") != "enforced":
            yield "a bucket that is not the site must enforce public access prevention"
    elif typ in GCP_IAM_MEMBER_TYPES:
        members = _list(p.get("member")) + _list(p.get("members"))
        if GCP_ANONYMOUS & set(members) and p.get("role") not in GCP_ANONYMOUS_ALLOWED_ROLES:
            yield f"anonymous members may only read objects by name, not hold {p.get('role')}"


def check_aws_public_access_blocks(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str]]:
    yield from _bucket_companions(
        resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "S3 bucket has no public access block"
    )


# -- IAM --------------------------------------------------------------------------------------


def check_no_wildcard_actions(typ: str, p: Props, ctx: Context) -> Iterator[str]:
    for st in _policy_statements(typ, p):
        if st.get("Effect") != "Allow":
            continue  # a Deny with s3:* only takes rights away
        for action in _list(st.get("Action")):
            if "*" in action:
                yield f"statement {st.get('Sid', '')!r} allows wildcard action {action!r}: list the exact actions"
    if typ == "azure-native:authorization:RoleDefinition":
        for perm in _list(p.get("permissions")):
            for action in _list(perm.get("actions")) + _list(perm.get("dataActions")):
                if "*" in action:
                    yield f"custom role allows wildcard action {action!r}: list the exact actions"
    elif typ == "azure-native:authorization:RoleAssignment":
        role = str(p.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
        if role in AZURE_BROAD_ROLES:
            yield f"role assignment grants {AZURE_BROAD_ROLES[role]}: grant a narrow role on one resource"
    elif typ == "gcp:projects/iAMCustomRole:IAMCustomRole":
        for perm in _list(p.get("permissions")):
            if "*" in perm:
                yield f"custom role grants wildcard permission {perm!r}"
    elif typ in GCP_IAM_MEMBER_TYPES and p.get("role") in GCP_BROAD_ROLES:
        yield f"basic role {p.get('role')} grants a whole project: grant a predefined or custom role"


# -- TLS --------------------------------------------------------------------------------------


def check_tls(typ: str, p: Props, ctx: Context) -> Iterator[str]:
    if typ == "aws:cloudfront/distribution:Distribution":
        behaviours = [p.get("defaultCacheBehavior") or {}, *_list(p.get("orderedCacheBehaviors"))]
        if any(b.get("viewerProtocolPolicy") not in ("https-only", "redirect-to-https") for b in behaviours):
            yield "every cache behaviour must redirect to or require HTTPS"
        for origin in _list(p.get("origins")):
            custom = origin.get("customOriginConfig")
            if custom and custom.get("originProtocolPolicy") != "https-only":
                yield f"origin {origin.get('originId')!r} must be reached over HTTPS only"
        cert = p.get("viewerCertificate") or {}
        if ctx.prod and not str(cert.get("minimumProtocolVersion", "")).startswith(("TLSv1.2", "TLSv1.3")):
            yield "prod distribution must serve its own certificate with minimumProtocolVersion TLSv1.2_2021 or later"
    elif typ == "azure-native:storage:StorageAccount":
        if p.get("minimumTlsVersion") not in ("TLS1_2", "TLS1_3") or p.get("enableHttpsTrafficOnly") is False:
            yield "storage account must accept HTTPS only with TLS 1.2 or later"
    elif typ == "azure-native:cosmosdb:DatabaseAccount":
        if p.get("minimalTlsVersion") not in ("Tls12", "Tls13"):
            yield "Cosmos DB account must set minimalTlsVersion Tls12"
    elif typ == "azure-native:servicebus:Namespace":
        if p.get("minimumTlsVersion") not in ("1.2", "1.3"):
            yield "Service Bus namespace must set minimumTlsVersion 1.2"
    elif typ == "azure-native:web:WebApp":
        if not p.get("httpsOnly") or (p.get("siteConfig") or {}).get("minTlsVersion") not in ("1.2", "1.3"):
            yield "function app must be HTTPS only with siteConfig.minTlsVersion 1.2"
    elif typ == "gcp:compute/sSLPolicy:SSLPolicy":
        if p.get("minTlsVersion") not in ("TLS_1_2", "TLS_1_3"):
            yield "SSL policy must set minTlsVersion TLS_1_2"
    elif typ == "gcp:compute/targetHttpsProxy:TargetHttpsProxy" and not p.get("sslPolicy"):
        yield "HTTPS proxy must use an SSL policy with TLS 1.2 or later (the default allows TLS 1.0)"


# -- firewall on the CDN ----------------------------------------------------------------------


def check_cdn_firewall(typ: str, p: Props, ctx: Context) -> Iterator[str]:
    if typ == "aws:cloudfront/distribution:Distribution" and not p.get("webAclId"):
        yield "CloudFront distribution must have a WAF web ACL attached (webAclId)"
    elif typ == "aws:apigatewayv2/api:Api" and ctx.prod and p.get("disableExecuteApiEndpoint") is not True:
        # An HTTP API takes no WAF: its own URL would let callers around CloudFront onto the stage throttle.
        yield "prod HTTP API must disable its execute-api endpoint (disableExecuteApiEndpoint: true)"
    elif typ == "aws:apigatewayv2/domainName:DomainName" and ctx.prod:
        if not (p.get("mutualTlsAuthentication") or {}).get("truststoreUri"):
            yield "prod API domain must require CloudFront's client certificate (mutualTlsAuthentication)"
    elif typ == "gcp:compute/backendService:BackendService" and not p.get("securityPolicy"):
        yield "load balancer backend must have a Cloud Armor security policy attached (securityPolicy)"


def check_front_door_waf(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str]]:
    endpoints = [r for r in resources if r.type == "azure-native:cdn:AFDEndpoint"]
    waf = [
        r
        for r in resources
        if r.type == "azure-native:cdn:SecurityPolicy"
        and (r.props.get("parameters") or {}).get("type") == "WebApplicationFirewall"
        and ((r.props.get("parameters") or {}).get("wafPolicy") or {}).get("id")
    ]
    if endpoints and not waf:
        for e in endpoints:
            yield e.name, "Front Door endpoint has no WAF security policy (cdn:SecurityPolicy with a wafPolicy)"


# -- backups ----------------------------------------------------------------------------------


def check_backups(typ: str, p: Props, ctx: Context) -> Iterator[str]:
    if not ctx.prod:
        return
    if typ == "aws:dynamodb/table:Table" and not (p.get("pointInTimeRecovery") or {}).get("enabled"):
        yield "prod DynamoDB table must have point-in-time recovery enabled"
    elif typ == "azure-native:cosmosdb:DatabaseAccount" and (p.get("backupPolicy") or {}).get("type") != "Continuous":
        yield "prod Cosmos DB account must use continuous backup (point-in-time restore)"
    elif typ == "gcp:firestore/database:Database":
        if p.get("pointInTimeRecoveryEnablement") != "POINT_IN_TIME_RECOVERY_ENABLED":
            yield "prod Firestore database must have point-in-time recovery enabled"
        if p.get("deleteProtectionState") != "DELETE_PROTECTION_ENABLED":
            yield "prod Firestore database must have delete protection enabled"


# -- tags and labels --------------------------------------------------------------------------


def check_tags(typ: str, p: Props, ctx: Context) -> Iterator[str]:
    if typ == "pulumi:providers:aws":
        have = tags_of(p)
        what = "AWS provider default tags"
    elif typ in AZURE_TAGGED:
        have = _json(p.get("tags")) or {}
        what = "tags"
    elif typ in GCP_LABELLED:
        have = _json(p.get(GCP_LABELLED[typ])) or {}
        what = GCP_LABELLED[typ]
    else:
        return
    missing = [k for k in ctx.required_tags if not have.get(k)]
    if missing:
        yield f"{what} lack {', '.join(missing)}"


RULES: tuple[Rule, ...] = (
    Rule(
        "encryption-at-rest-with-stack-key",
        "Data stores, queues, topics, logs and secrets are encrypted with the stack's customer-managed key.",
        check_encryption,
        _stack_encryption,
    ),
    Rule(
        "no-public-storage",
        "No public buckets, ACLs or anonymous CDN origins; anonymous reads only of site objects by name.",
        check_no_public_storage,
        check_aws_public_access_blocks,
    ),
    Rule(
        "no-wildcard-iam",
        "No IAM statement or role allows wildcard actions; no owner/editor/contributor grants.",
        check_no_wildcard_actions,
    ),
    Rule("tls-1-2", "HTTPS only with TLS 1.2 or later (prod CDN certificates included).", check_tls),
    Rule(
        "firewall-on-cdn",
        "The CDN / load balancer has a web application firewall attached; in prod the API answers only the CDN "
        "(AWS: execute-api endpoint off, mutual TLS on the API's domain).",
        check_cdn_firewall,
        check_front_door_waf,
    ),
    Rule("backups-in-prod", "Prod databases have point-in-time recovery.", check_backups),
    Rule("required-tags", "Taggable resources carry the stack's tags or labels.", check_tags),
)


def violations(
    resources: Sequence[StackResource], environment: str | None, rules: Sequence[Rule] = RULES
) -> list[tuple[str, str, str]]:
    """(rule, resource name, message) for every violation in a whole stack: what the tests check."""
    ctx = Context(environment)
    found: list[tuple[str, str, str]] = []
    for rule in rules:
        if rule.resource_check:
            for r in resources:
                props = r.props if r.inputs is None else r.inputs
                found += [(rule.name, r.name, m) for m in rule.resource_check(r.type, props, ctx)]
        if rule.stack_check:
            found += [(rule.name, name, m) for name, m in rule.stack_check(resources, ctx)]
    return found
