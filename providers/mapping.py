"""Which cloud resources implement each component, per cloud: the source of the README's
cloud-mapping table (``python -m providers.mapping`` rewrites it) and a test checks that
every resource type named here is really created under its component on that cloud
(tests/infra/test_parity.py). Cloud-neutral: strings only, no provider SDK import.
"""

from __future__ import annotations

import sys
from pathlib import Path

CLOUDS = ("aws", "azure", "gcp")
CLOUD_TITLES = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}

# component kind (providers.base method) -> its title and, per cloud, (what a reader calls
# it, the Pulumi type token that must exist under that component).
MAPPING: dict[str, tuple[str, dict[str, tuple[tuple[str, str], ...]]]] = {
    "encryption": ("Encryption at rest", {
        "aws": (("KMS key (rotation)", "aws:kms/key:Key"),),
        "azure": (("Key Vault (RBAC, purge protection in prod) + key", "azure-native:keyvault:Key"),),
        "gcp": (("Cloud KMS key ring + key (90-day rotation)", "gcp:kms/cryptoKey:CryptoKey"),
                ("service-agent key grants", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")),
    }),
    "network": ("Network", {
        "aws": (("VPC", "aws:ec2/vpc:Vpc"), ("public/private subnets per AZ", "aws:ec2/subnet:Subnet"),
                ("NAT gateways", "aws:ec2/natGateway:NatGateway"), ("flow logs", "aws:ec2/flowLog:FlowLog")),
        "azure": (("VNet", "azure-native:network:VirtualNetwork"), ("delegated subnets", "azure-native:network:Subnet"),
                  ("NAT gateway", "azure-native:network:NatGateway")),
        "gcp": (("VPC", "gcp:compute/network:Network"), ("subnets", "gcp:compute/subnetwork:Subnetwork"),
                ("Serverless VPC Access connector", "gcp:vpcaccess/connector:Connector"),
                ("Cloud Router + Cloud NAT", "gcp:compute/routerNat:RouterNat")),
    }),
    "database": ("NoSQL database", {
        "aws": (("DynamoDB single table (on-demand, PITR)", "aws:dynamodb/table:Table"),),
        "azure": (("Cosmos DB for NoSQL (serverless)", "azure-native:cosmosdb:DatabaseAccount"),
                  ("container", "azure-native:cosmosdb:SqlResourceSqlContainer")),
        "gcp": (("Firestore (native mode)", "gcp:firestore/database:Database"),
                ("composite indexes", "gcp:firestore/index:Index"), ("TTL policy", "gcp:firestore/field:Field")),
    }),
    "notifications": ("Notifications", {
        "aws": (("SNS topic", "aws:sns/topic:Topic"), ("SQS queue + DLQ", "aws:sqs/queue:Queue"),
                ("SES identity", "aws:sesv2/emailIdentity:EmailIdentity")),
        "azure": (("Service Bus topic", "azure-native:servicebus:Topic"),
                  ("subscription (dead-lettering)", "azure-native:servicebus:Subscription"),
                  ("Communication Services Email", "azure-native:communication:EmailService"),
                  ("Notification Hubs", "azure-native:notificationhubs:NotificationHub")),
        "gcp": (("Pub/Sub topic + dead-letter topic", "gcp:pubsub/topic:Topic"),
                ("mail relay secret", "gcp:secretmanager/secret:Secret")),
    }),
    "auth": ("Authentication", {
        "aws": (("Cognito user pool", "aws:cognito/userPool:UserPool"),
                ("app client", "aws:cognito/userPoolClient:UserPoolClient"),
                ("admin group", "aws:cognito/userGroup:UserGroup")),
        # ARM cannot create an External ID tenant: the stack creates the apps inside one (shop:azure).
        "azure": (("Entra External ID app registrations", "azuread:index/application:Application"),
                  ("app role assignments (admins, Graph consent)", "azuread:index/appRoleAssignment:AppRoleAssignment")),
        "gcp": (("Identity Platform", "gcp:identityplatform/config:Config"),
                ("restricted API key", "gcp:projects/apiKey:ApiKey")),
    }),
    "static_site": ("Static hosting", {
        "aws": (("S3 bucket (private)", "aws:s3/bucket:Bucket"), ("site files", "aws:s3/bucketObjectv2:BucketObjectv2")),
        "azure": (("Storage account static website", "azure-native:storage:StorageAccountStaticWebsite"),
                  ("site files", "azure-native:storage:Blob")),
        "gcp": (("Cloud Storage bucket (private)", "gcp:storage/bucket:Bucket"),
                ("site files", "gcp:storage/bucketObject:BucketObject")),
    }),
    "functions": ("Functions", {
        "aws": (("Lambda (arm64, Python 3.12)", "aws:lambda/function:Function"),
                ("dependency layer", "aws:lambda/layerVersion:LayerVersion"), ("IAM role per function", "aws:iam/role:Role"),
                ("SQS trigger", "aws:lambda/eventSourceMapping:EventSourceMapping")),
        "azure": (("Function App (Flex Consumption)", "azure-native:web:WebApp"),
                  ("managed identity per function", "azure-native:managedidentity:UserAssignedIdentity"),
                  ("scoped role assignments", "azure-native:authorization:RoleAssignment"),
                  ("Application Insights", "azure-native:applicationinsights:Component")),
        "gcp": (("Cloud Functions 2nd gen (Python 3.12)", "gcp:cloudfunctionsv2/function:Function"),
                ("service account per function", "gcp:serviceaccount/account:Account"),
                ("push subscription (dead letters)", "gcp:pubsub/subscription:Subscription"),
                ("log bucket + sink", "gcp:logging/projectSink:ProjectSink")),
    }),
    "api": ("API gateway", {
        "aws": (("API Gateway HTTP API", "aws:apigatewayv2/api:Api"), ("JWT authorizer", "aws:apigatewayv2/authorizer:Authorizer"),
                ("one route per route-table entry", "aws:apigatewayv2/route:Route")),
        "azure": (("API Management (Consumption)", "azure-native:apimanagement:ApiManagementService"),
                  ("one operation per route", "azure-native:apimanagement:ApiOperation"),
                  ("validate-jwt policies", "azure-native:apimanagement:ApiOperationPolicy")),
        "gcp": (("API Gateway", "gcp:apigateway/gateway:Gateway"),
                ("config from the generated OpenAPI 2.0", "gcp:apigateway/apiConfig:ApiConfig")),
    }),
    "cdn": ("CDN + WAF", {
        "aws": (("CloudFront", "aws:cloudfront/distribution:Distribution"), ("WAFv2 web ACL", "aws:wafv2/webAcl:WebAcl")),
        "azure": (("Front Door Standard/Premium", "azure-native:cdn:Profile"), ("WAF policy", "azure-native:frontdoor:Policy")),
        "gcp": (("global external ALB", "gcp:compute/uRLMap:URLMap"),
                ("Cloud CDN on the private bucket (HMAC-signed origin)", "gcp:compute/globalNetworkEndpointGroup:GlobalNetworkEndpointGroup"),
                ("Cloud Armor", "gcp:compute/securityPolicy:SecurityPolicy"),
                ("managed certificate", "gcp:compute/managedSslCertificate:ManagedSslCertificate")),
    }),
    "configuration": ("Settings and secrets", {
        "aws": (("SSM Parameter Store (SecureString with KMS)", "aws:ssm/parameter:Parameter"),),
        "azure": (("Key Vault secrets", "azure-native:keyvault:Secret"),),
        "gcp": (("Parameter Manager", "gcp:parametermanager/regionalParameter:RegionalParameter"),
                ("Secret Manager (CMEK)", "gcp:secretmanager/secret:Secret")),
    }),
    "monitoring": ("Monitoring", {
        "aws": (("CloudWatch alarms", "aws:cloudwatch/metricAlarm:MetricAlarm"),
                ("dashboard", "aws:cloudwatch/dashboard:Dashboard"), ("alarm topic", "aws:sns/topic:Topic")),
        "azure": (("metric alerts", "azure-native:monitor:MetricAlert"), ("action group", "azure-native:monitor:ActionGroup")),
        "gcp": (("Cloud Monitoring alert policies", "gcp:monitoring/alertPolicy:AlertPolicy"),
                ("dashboard", "gcp:monitoring/dashboard:Dashboard"),
                ("e-mail channel", "gcp:monitoring/notificationChannel:NotificationChannel")),
    }),
}  # fmt: skip

# Component kinds a cloud implements without creating resources, and why.
NO_RESOURCES: dict[tuple[str, str], str] = {}

BEGIN, END = "<!-- cloud-mapping:begin (python -m providers.mapping) -->", "<!-- cloud-mapping:end -->"


def component_class(kind: str) -> str:
    """``static_site`` -> ``StaticSite``: the ``shop:components:<Class>`` that owns the resources."""
    return "".join(part.title() for part in kind.split("_"))


def render_table() -> str:
    lines = [
        "| Component | " + " | ".join(CLOUD_TITLES[c] for c in CLOUDS) + " |",
        "|---" * (len(CLOUDS) + 1) + "|",
    ]
    for kind, (title, clouds) in MAPPING.items():
        cells = []
        for cloud in CLOUDS:
            entries = clouds[cloud]
            cells.append(", ".join(label for label, _ in entries) if entries else NO_RESOURCES[(cloud, kind)])
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rewrite_readme(readme: Path) -> bool:
    text = readme.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    updated = text[:start] + "\n" + render_table() + "\n" + text[end:]
    if updated != text:
        readme.write_text(updated)
    return updated != text


if __name__ == "__main__":
    path = Path(__file__).resolve().parents[1] / "README.md"
    print(f"{path}: {'updated' if rewrite_readme(path) else 'already up to date'}", file=sys.stdout)
