"""The GCP program under mocks (dev and prod): every component, real property values."""

from __future__ import annotations

import base64
import importlib
import inspect
import json

import pytest

from components.config import ConfigError, parse_stack_config
from functions.shop import datamodel
from functions.shop.routes import PUBLIC, ROUTES
from providers.gcp import iam as gcp_iam
from providers.gcp.firewall import WAF_RULE_SETS
from providers.gcp.iam import grant_plan
from providers.gcp.settings import GcpSettingsError, parse_gcp_settings

from .conftest import ROOT, BuiltStack
from .gcp_mocks import GCP_DEV, GCP_PROD, LB_IP, LOGGING_CMEK_ACCOUNT, PROJECT_NUMBER

G = "gcp:"
T_FN = G + "cloudfunctionsv2/function:Function"
T_SA = G + "serviceaccount/account:Account"
IAM_TYPES = (
    G + "projects/iAMMember:IAMMember", G + "pubsub/topicIAMMember:TopicIAMMember",
    G + "pubsub/subscriptionIAMMember:SubscriptionIAMMember", G + "secretmanager/secretIamMember:SecretIamMember",
    G + "storage/bucketIAMMember:BucketIAMMember", G + "serviceaccount/iAMMember:IAMMember",
    G + "cloudrunv2/serviceIamMember:ServiceIamMember", G + "kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
)  # fmt: skip


@pytest.fixture(scope="session", params=["dev", "prod"])
def gcp(request: pytest.FixtureRequest, gcp_dev: BuiltStack, gcp_prod: BuiltStack) -> BuiltStack:
    return gcp_dev if request.param == "dev" else gcp_prod


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value in mock inputs


def plain(value):
    """The value of a Pulumi secret as the mocks see it (the provider marks some inputs secret)."""
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def project_of(stack: BuiltStack) -> str:
    return stack.config["gcp"]["project"]


def sa_email(stack: BuiltStack, logical: str) -> str:
    return stack.one(T_SA, logical).outputs["email"]


def function(stack: BuiltStack, service: str):
    return stack.one(T_FN, f"fn-{service}")


def iam_members(stack: BuiltStack) -> list:
    return [r for t in IAM_TYPES for r in stack.of_type(t)]


def api_document(stack: BuiltStack) -> dict:
    config = stack.one(G + "apigateway/apiConfig:ApiConfig").inputs
    return json.loads(base64.b64decode(config["openapiDocuments"][0]["document"]["contents"]))


# -- whole stack ----------------------------------------------------------------------------


def test_every_component_once_with_outputs(gcp: BuiltStack):
    for key in ("siteUrl", "apiUrl", "userPoolId", "userPoolClientId", "tableName", "alarmTopic"):
        assert gcp.outputs.get(key), key
    assert gcp.outputs["userPoolId"] == project_of(gcp), "the Identity Platform pool is the project"
    assert gcp.outputs["apiUrl"].startswith("https://") and gcp.outputs["apiUrl"].endswith(".gateway.dev")


def test_every_gcp_resource_is_parented_to_a_component(gcp: BuiltStack):
    orphans = [(r.type, r.name) for r in gcp.resources
               if r.type.startswith(G) and not (r.parent_type or "").startswith("shop:components:")]  # fmt: skip
    assert not orphans


def test_resource_counts(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    n = len(datamodel.SERVICES)
    http = sum(1 for s in datamodel.SERVICES if s.trigger == "http")
    for stack in (gcp_dev, gcp_prod):
        c = stack.counts()
        assert c[T_FN] == n
        assert c[T_SA] == n + 5, (
            "one account per function + build, push, scheduler, gateway and the CDN's origin reader"
        )
        assert c[G + "monitoring/alertPolicy:AlertPolicy"] == n + 8  # + refused sign-ins
        assert c[G + "firestore/index:Index"] == len(datamodel.FIRESTORE_INDEXES)
        assert c[G + "cloudrunv2/serviceIamMember:ServiceIamMember"] == http + 2, (
            "gateway per HTTP fn + push + scheduler"
        )
    assert gcp_dev.counts()[G + "compute/address:Address"] == 0
    assert gcp_prod.counts()[G + "compute/address:Address"] == 3, "perAz: one NAT address per zone"
    assert gcp_prod.counts()[G + "dns/recordSet:RecordSet"] == 1
    assert gcp_dev.counts()[G + "dns/recordSet:RecordSet"] == 0


def _accepts_labels(typ: str) -> str | None:
    """The label argument the pulumi_gcp class of `typ` takes, if any."""
    module, cls = typ.removeprefix(G).split(":")[0].split("/")[0], typ.split(":")[-1]
    init = inspect.signature(getattr(importlib.import_module(f"pulumi_gcp.{module}"), cls)._internal_init)
    return next((p for p in ("labels", "user_labels") if p in init.parameters), None)


def test_everything_labelable_is_labelled(gcp_prod: BuiltStack):
    missing = []
    for r in gcp_prod.resources:
        if not r.type.startswith(G):
            continue
        param = _accepts_labels(r.type)
        if param is None:
            continue
        key = "labels" if param == "labels" else "userLabels"
        labels = r.inputs.get(key) or {}
        if r.type == G + "monitoring/notificationChannel:NotificationChannel":
            labels = r.inputs.get("userLabels") or {}
        if labels.get("managed-by") != "pulumi" or labels.get("costcenter") != "shop-42":
            missing.append((r.type, r.name))
    assert not missing, f"resources without the stack labels: {missing}"
    fn = function(gcp_prod, "catalog").inputs["labels"]
    assert fn["owner"] == "platform-team" and fn["environment"] == "prod" and fn["service"] == "catalog"


# -- encryption -----------------------------------------------------------------------------


def test_stack_key_rotates_and_only_service_agents_hold_it(gcp: BuiltStack):
    key = gcp.one(G + "kms/cryptoKey:CryptoKey").inputs
    assert key["rotationPeriod"] == "7776000s" and key["purpose"] == "ENCRYPT_DECRYPT"
    grants = gcp.of_type(G + "kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    members = {r.inputs["member"] for r in grants}
    assert {r.inputs["role"] for r in grants} == {"roles/cloudkms.cryptoKeyEncrypterDecrypter"}
    agents = ("gs-project-accounts", "gcp-sa-pubsub", "gcp-sa-secretmanager", "gcp-sa-firestore", "gcp-sa-pm",
              "gcp-sa-artifactregistry")  # fmt: skip
    assert members == {
        f"serviceAccount:service-{PROJECT_NUMBER}@{agent}.iam.gserviceaccount.com" for agent in agents
    } | {f"serviceAccount:{LOGGING_CMEK_ACCOUNT}"}


def test_data_is_encrypted_with_the_stack_key(gcp: BuiltStack):
    key_id = gcp.one(G + "kms/cryptoKey:CryptoKey").outputs.get("id") or next(
        r for r in gcp.resources if r.type == G + "kms/cryptoKey:CryptoKey"
    )
    key_ids = {r.inputs["kmsKeyName"] for r in gcp.of_type(G + "pubsub/topic:Topic")}
    assert len(key_ids) == 1 and "/cryptoKeys/" in next(iter(key_ids)), key_id
    for bucket in gcp.of_type(G + "storage/bucket:Bucket"):
        assert bucket.inputs["encryption"]["defaultKmsKeyName"] in key_ids, bucket.name
        assert bucket.inputs["uniformBucketLevelAccess"] is True, bucket.name
    for secret in gcp.of_type(G + "secretmanager/secret:Secret"):
        replicas = secret.inputs["replication"]["userManaged"]["replicas"]
        assert [r["customerManagedEncryption"]["kmsKeyName"] for r in replicas] == list(key_ids), secret.name
        assert [r["location"] for r in replicas] == [gcp.config["region"]]
    db = gcp.one(G + "firestore/database:Database").inputs
    assert db["cmekConfig"]["kmsKeyName"] in key_ids


# -- network --------------------------------------------------------------------------------


def test_functions_egress_through_the_connector_and_cloud_nat(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    for stack in (gcp_dev, gcp_prod):
        vpc = stack.one(G + "compute/network:Network").inputs
        assert vpc["autoCreateSubnetworks"] is False
        subnets = {r.name: r.inputs for r in stack.of_type(G + "compute/subnetwork:Subnetwork")}
        assert subnets["subnet-connector"]["ipCidrRange"].endswith("/28")
        assert all(s["privateIpGoogleAccess"] and s["logConfig"] for s in subnets.values())
        connector = stack.one(G + "vpcaccess/connector:Connector").inputs
        assert connector["minInstances"] >= 2
        fw = stack.one(G + "compute/firewall:Firewall").inputs
        assert fw["direction"] == "INGRESS" and fw["denies"] == [{"protocol": "all"}]
        assert fw["sourceRanges"] == ["0.0.0.0/0"]
        for fn in stack.of_type(T_FN):
            svc = fn.inputs["serviceConfig"]
            assert svc["vpcConnector"].endswith(
                "/connectors/" + stack.one(G + "vpcaccess/connector:Connector").outputs["name"]
            )
            assert svc["vpcConnectorEgressSettings"] == "ALL_TRAFFIC", fn.name
    assert gcp_dev.one(G + "compute/routerNat:RouterNat").inputs["natIpAllocateOption"] == "AUTO_ONLY"
    nat = gcp_prod.one(G + "compute/routerNat:RouterNat").inputs
    assert nat["natIpAllocateOption"] == "MANUAL_ONLY" and len(nat["natIps"]) == 3


# -- database -------------------------------------------------------------------------------


def test_firestore_native_with_the_shared_indexes_and_ttl(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    for stack in (gcp_dev, gcp_prod):
        db = stack.one(G + "firestore/database:Database").inputs
        assert db["type"] == "FIRESTORE_NATIVE" and db["locationId"] == stack.config["region"]
        indexes = sorted(
            (r.inputs["collection"], tuple((f["fieldPath"], f["order"]) for f in r.inputs["fields"]))
            for r in stack.of_type(G + "firestore/index:Index")
        )
        expected = sorted(
            (i.collection_group, tuple((f.field, f.order) for f in i.fields)) for i in datamodel.FIRESTORE_INDEXES
        )
        assert indexes == expected
        assert all(r.inputs["database"] == db["name"] for r in stack.of_type(G + "firestore/index:Index"))
        ttls = [r.inputs for r in stack.of_type(G + "firestore/field:Field")]
        assert sorted((t["collection"], t["field"]) for t in ttls) == sorted(datamodel.FIRESTORE_TTL_FIELDS)
        assert all("ttlConfig" in t and t["database"] == db["name"] for t in ttls), ttls
    prod = gcp_prod.one(G + "firestore/database:Database").inputs
    assert prod["deleteProtectionState"] == "DELETE_PROTECTION_ENABLED"
    assert prod["pointInTimeRecoveryEnablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    dev = gcp_dev.one(G + "firestore/database:Database").inputs
    assert dev["deleteProtectionState"] == "DELETE_PROTECTION_DISABLED"


# -- storage --------------------------------------------------------------------------------


def test_no_anonymous_reads_and_both_buckets_are_private(gcp: BuiltStack):
    public = [r for r in iam_members(gcp) if r.inputs.get("member") in ("allUsers", "allAuthenticatedUsers")]
    assert public == [], "the site bucket is read by the load balancer's own account (test_edge_gcp.py)"
    site = gcp.one(G + "storage/bucket:Bucket", "bucket-site").inputs
    assert site["publicAccessPrevention"] == "enforced"
    source = gcp.one(G + "storage/bucket:Bucket", "bucket-source").inputs
    assert source["publicAccessPrevention"] == "enforced"
    site = gcp.one(G + "storage/bucket:Bucket", "bucket-site").inputs
    assert site["cors"][0]["methods"] == ["POST"], "image uploads are signed POST policies"
    objects = {r.inputs["name"]: r.inputs for r in gcp.of_type(G + "storage/bucketObject:BucketObject")}
    config = json.loads(plain(objects["config.json"]["content"]))
    assert config["cloud"] == "gcp" and config["apiBase"] == "/api" and config["userPoolId"] == project_of(gcp)
    assert objects["config.json"]["cacheControl"] == "no-cache"
    assert objects["index.html"]["contentType"].startswith("text/html")


# -- functions ------------------------------------------------------------------------------


def test_functions_gen2_python_with_own_identity_and_the_runtime_environment(gcp: BuiltStack):
    env_names = {v for k, v in vars(datamodel).items() if k.startswith("ENV_") and isinstance(v, str)}
    db_name = gcp.one(G + "firestore/database:Database").inputs["name"]
    for spec in datamodel.SERVICES:
        fn = function(gcp, spec.name).inputs
        build, svc = fn["buildConfig"], fn["serviceConfig"]
        assert build["runtime"] == "python312"
        entry = {"http": "shop_api", "queue": "on_order_event", "schedule": "expire_orders"}[spec.trigger]
        assert build["entryPoint"] == entry, spec.name
        assert build["serviceAccount"].endswith(sa_email(gcp, "sa-build")), "builds run as the build account"
        assert svc["serviceAccountEmail"] == sa_email(gcp, f"sa-{spec.name}")
        assert svc["ingressSettings"] == ("ALLOW_ALL" if spec.trigger == "http" else "ALLOW_INTERNAL_ONLY")
        env = svc["environmentVariables"]
        assert env_names <= set(env), f"{spec.name} lacks {sorted(env_names - set(env))}"
        assert env[datamodel.ENV_CLOUD] == "gcp" and env[datamodel.GcpSettingNames.FIRESTORE_DATABASE] == db_name
        assert env[datamodel.GcpSettingNames.PROJECT] == project_of(gcp)
        assert env[datamodel.TokenEnv.GATEWAY_VALIDATED_JWT] == "true"
        assert env[datamodel.TokenEnv.JWT_ISSUER] == f"https://securetoken.google.com/{project_of(gcp)}"
        secrets = {s["key"] for s in svc.get("secretEnvironmentVariables") or []}
        wants_identity = any(g.resource == datamodel.IDENTITY for g in spec.grants)
        assert (datamodel.GcpSettingNames.IDENTITY_API_KEY in secrets) == wants_identity, spec.name
        wants_mail = any(g.resource == datamodel.EMAIL for g in spec.grants)
        assert (
            bool(secrets & {datamodel.GcpSettingNames.EMAIL_API_KEY, datamodel.GcpSettingNames.SMTP_URL}) == wants_mail
        ), spec.name
        api_key = gcp.one(G + "projects/apiKey:ApiKey", "identity-api-key").outputs["keyString"]
        assert api_key not in json.dumps(env), "secrets reach functions as Secret Manager mounts, never plain env"


def test_source_archive_has_the_gcp_entry_at_the_root(gcp_dev: BuiltStack):
    source = gcp_dev.one(G + "storage/bucketObject:BucketObject", "source").inputs
    assets = set(source["source"].assets)
    assert {"main.py", "requirements.txt"} <= assets
    assert "functions/shop/routes.py" in assets and "functions/runtimes/gcp_http.py" in assets
    assert not any(a.startswith(("functions/local/", "functions/tests/")) for a in assets)
    assert source["name"].startswith("source-") and source["name"].endswith(".zip")


def _push(stack: BuiltStack) -> bool:
    return bool(stack.config["gcp"].get("pushNotifications"))


# grant_plan target -> the IAM member resource type that grants it
TARGET_TYPES = {
    "database": G + "projects/iAMMember:IAMMember",
    "identity-pool": G + "projects/iAMMember:IAMMember",
    "identity-revoke": G + "projects/iAMMember:IAMMember",
    "push-channel": G + "projects/iAMMember:IAMMember",
    "topic": G + "pubsub/topicIAMMember:TopicIAMMember",
    "email-secret": G + "secretmanager/secretIamMember:SecretIamMember",
    "identity-secret": G + "secretmanager/secretIamMember:SecretIamMember",
    "stripe-secret-key": G + "secretmanager/secretIamMember:SecretIamMember",
    "stripe-webhook-secret": G + "secretmanager/secretIamMember:SecretIamMember",
    "media": G + "storage/bucketIAMMember:BucketIAMMember",
    "self": G + "serviceaccount/iAMMember:IAMMember",
}


def _expected_roles(stack: BuiltStack, spec) -> set[tuple[str, str]]:
    """(member type, role) pairs the function's account must have, custom roles by name."""
    custom = {
        r.inputs["permissions"][0]: r.outputs["name"] for r in stack.of_type(G + "projects/iAMCustomRole:IAMCustomRole")
    }
    expected = set()
    for role, target in grant_plan(spec, _push(stack)):
        if target == "push-invoker":  # granted to the push subscription's account, not this one
            continue
        if target in gcp_iam.PAYMENT_TARGETS.values() and not stack.config.get("stripeSecretKey"):
            continue  # a stack that takes no cards has no Stripe secrets
        if role == gcp_iam.FCM_SENDER:
            role = custom["cloudmessaging.messages.create"]
        if role == gcp_iam.AUTH_REVOKER:
            role = custom["firebaseauth.users.update"]
        expected.add((TARGET_TYPES[target], role))
    return expected


def test_each_function_account_gets_exactly_its_grants_on_exactly_the_granted_resource(gcp: BuiltStack):
    project = project_of(gcp)
    db_name = gcp.one(G + "firestore/database:Database").inputs["name"]
    topic = gcp.one(G + "pubsub/topic:Topic", "topic-order-events").outputs["name"]
    site = gcp.one(G + "storage/bucket:Bucket", "bucket-site").outputs["name"]
    secrets = {r.name: r.inputs["secretId"] for r in gcp.of_type(G + "secretmanager/secret:Secret")}
    for spec in datamodel.SERVICES:
        member = f"serviceAccount:{sa_email(gcp, f'sa-{spec.name}')}"
        given = [r for r in iam_members(gcp) if r.inputs.get("member") == member]
        assert {(r.type, r.inputs["role"]) for r in given} == _expected_roles(gcp, spec), spec.name
        for r in given:
            role = r.inputs["role"]
            assert not any(w in role for w in ("owner", "editor", "admin")), (spec.name, role)
            if role.startswith("roles/datastore."):
                expr = r.inputs["condition"]["expression"]
                assert f'"projects/{project}/databases/{db_name}"' in expr, (
                    "Firestore grants are scoped to this database"
                )
            elif r.type.endswith("TopicIAMMember"):
                assert r.inputs["topic"] == topic
            elif r.type.endswith("SecretIamMember"):
                assert r.inputs["secretId"] in secrets.values()
            elif r.type.endswith("BucketIAMMember"):
                assert r.inputs["bucket"] == site and r.inputs["role"] == "roles/storage.objectCreator"
                assert f"buckets/{site}/objects/{datamodel.MEDIA_PREFIX}" in r.inputs["condition"]["expression"]
            elif r.type.endswith("serviceaccount/iAMMember:IAMMember"):
                assert r.inputs["serviceAccountId"] == gcp.one(T_SA, f"sa-{spec.name}").outputs["name"], (
                    "signBlob as itself"
                )
    readers = {s.name for s in datamodel.SERVICES if (gcp_iam.DATASTORE_VIEWER, "database") in grant_plan(s)}
    assert readers == {"catalog"}, "the catalog only reads"
    consumer = grant_plan(datamodel.SERVICES_BY_NAME["notifications"])
    assert (gcp_iam.DATASTORE_USER, "database") in consumer, "the consumer writes its dedupe records"


def test_only_the_gateway_invokes_http_functions_and_only_pubsub_push_the_consumer(gcp: BuiltStack):
    invokers = gcp.of_type(G + "cloudrunv2/serviceIamMember:ServiceIamMember")
    gateway = f"serviceAccount:{sa_email(gcp, 'sa-gateway')}"
    push = f"serviceAccount:{sa_email(gcp, 'sa-push')}"
    scheduler = f"serviceAccount:{sa_email(gcp, 'sa-expiry-scheduler')}"
    expected = {"http": {gateway}, "queue": {push}, "schedule": {scheduler}}
    by_fn: dict[str, set[str]] = {}
    names = {r.outputs["name"]: r.name.removeprefix("fn-") for r in gcp.of_type(T_FN)}
    for r in invokers:
        assert r.inputs["role"] == "roles/run.invoker"
        by_fn.setdefault(names[r.inputs["name"]], set()).add(r.inputs["member"])
    for spec in datamodel.SERVICES:
        assert by_fn[spec.name] == expected[spec.trigger], spec.name


def test_cloud_scheduler_calls_the_expiry_function_with_the_oidc_token_of_its_only_invoker(gcp: BuiltStack):
    [job] = gcp.of_type(G + "cloudscheduler/job:Job")
    expiry = function(gcp, "expiry")
    assert job.inputs["schedule"] == f"*/{datamodel.EXPIRY_SCHEDULE_MINUTES} * * * *", job.inputs["schedule"]
    target = job.inputs["httpTarget"]
    assert target["uri"] == expiry.outputs["url"] and target["httpMethod"] == "POST", target
    oidc = target["oidcToken"]
    assert oidc == {"serviceAccountEmail": sa_email(gcp, "sa-expiry-scheduler"), "audience": expiry.outputs["url"]}
    assert expiry.inputs["serviceConfig"]["ingressSettings"] == "ALLOW_INTERNAL_ONLY", "reachable from outside"


def test_notifications_push_subscription_retries_then_dead_letters(gcp: BuiltStack):
    sub = gcp.one(G + "pubsub/subscription:Subscription", "sub-notifications").inputs
    dlq = gcp.one(G + "pubsub/topic:Topic", "topic-dead-letter")
    consumer = function(gcp, "notifications")
    assert sub["deadLetterPolicy"]["maxDeliveryAttempts"] == datamodel.NOTIFICATION_MAX_RECEIVES
    assert sub["deadLetterPolicy"]["deadLetterTopic"].endswith("/topics/" + dlq.outputs["name"])
    assert sub["pushConfig"]["pushEndpoint"] == consumer.outputs["url"]
    assert sub["pushConfig"]["oidcToken"]["serviceAccountEmail"] == sa_email(gcp, "sa-push")
    assert sub["retryPolicy"]["minimumBackoff"] == "10s"
    agent = f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
    dlq_pub = gcp.one(G + "pubsub/topicIAMMember:TopicIAMMember", "dlq-publisher-pubsub-agent").inputs
    assert (dlq_pub["member"], dlq_pub["role"], dlq_pub["topic"]) == (
        agent,
        "roles/pubsub.publisher",
        dlq.outputs["name"],
    )
    ack = gcp.one(G + "pubsub/subscriptionIAMMember:SubscriptionIAMMember").inputs
    assert (ack["member"], ack["role"]) == (agent, "roles/pubsub.subscriber")
    kept = gcp.one(G + "pubsub/subscription:Subscription", "sub-dead-letter").inputs
    assert kept["messageRetentionDuration"] == "604800s"


def test_logs_are_kept_for_the_configured_retention(gcp: BuiltStack):
    bucket = gcp.one(G + "logging/projectBucketConfig:ProjectBucketConfig", "log-bucket").inputs
    assert bucket["retentionDays"] == gcp.config.get("logRetentionDays", 30)
    sink = gcp.one(G + "logging/projectSink:ProjectSink", "log-sink").inputs
    for fn in gcp.of_type(T_FN):
        assert f'"{fn.outputs["name"]}"' in sink["filter"]
    assert "apigateway.googleapis.com/Gateway" in sink["filter"]


# -- API ------------------------------------------------------------------------------------


def test_api_gateway_document_from_the_route_table(gcp: BuiltStack):
    doc = api_document(gcp)
    assert doc["swagger"] == "2.0"
    urls = {r.name.removeprefix("fn-"): r.outputs["url"] for r in gcp.of_type(T_FN)}
    jwt = doc["securityDefinitions"]["jwt"]
    assert jwt["x-google-issuer"] == f"https://securetoken.google.com/{project_of(gcp)}"
    assert jwt["x-google-audiences"] == project_of(gcp)
    for route in ROUTES:
        op = doc["paths"][route.path][route.method.lower()]
        assert op["operationId"] == route.operation_id
        assert op["x-google-backend"]["address"] == urls[route.service], route.route_key
        assert op["x-google-backend"]["path_translation"] == "APPEND_PATH_TO_ADDRESS"
        jwt_required = any("jwt" in requirement for requirement in op["security"])
        assert jwt_required == (route.auth != PUBLIC), route.route_key
    config = gcp.one(G + "apigateway/apiConfig:ApiConfig").inputs
    assert config["gatewayConfig"]["backendConfig"]["googleServiceAccount"] == sa_email(gcp, "sa-gateway")


def test_gateway_region_is_one_api_gateway_runs_in(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    assert gcp_dev.one(G + "apigateway/gateway:Gateway").inputs["region"] == "europe-west1"
    # prod's functions are in europe-west3, where API Gateway does not run
    assert gcp_prod.one(G + "apigateway/gateway:Gateway").inputs["region"] == "europe-west1"
    assert gcp_prod.one(T_FN, "fn-catalog").inputs["location"] == "europe-west3"
    neg = gcp_prod.one(G + "compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup").inputs
    assert neg["region"] == "europe-west1" and neg["serverlessDeployment"]["platform"] == "apigateway.googleapis.com"


# -- CDN ------------------------------------------------------------------------------------


def test_load_balancer_routes_api_through_cloud_armor_and_caches_the_site(gcp: BuiltStack):
    url_map = gcp.one(G + "compute/uRLMap:URLMap", "urlmap").inputs
    bucket_backend = gcp.one(G + "compute/backendService:BackendService", "backend-site")
    api_backend = gcp.one(G + "compute/backendService:BackendService", "backend-api")
    matcher = url_map["pathMatchers"][0]
    assert url_map["defaultService"] == matcher["defaultService"]
    assert matcher["defaultService"].endswith("/backendServices/" + bucket_backend.outputs["name"])
    assert matcher["pathRules"][0] == {"paths": ["/api/*", "/api"], "service": matcher["pathRules"][0]["service"]}
    assert matcher["pathRules"][0]["service"].endswith("/backendServices/" + api_backend.outputs["name"])
    assert bucket_backend.inputs["enableCdn"] is True and api_backend.inputs["enableCdn"] is False
    policy = gcp.one(G + "compute/securityPolicy:SecurityPolicy")
    assert api_backend.inputs["securityPolicy"].endswith("/securityPolicies/" + policy.outputs["name"])
    headers = " ".join(bucket_backend.inputs["customResponseHeaders"])
    assert "Strict-Transport-Security" in headers and "frame-ancestors 'none'" in headers
    assert "connect-src 'self' https://storage.googleapis.com" in headers, "signed uploads go to Cloud Storage"


def test_cloud_armor_rate_limit_and_owasp_rules(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    for stack in (gcp_dev, gcp_prod):
        policy = stack.one(G + "compute/securityPolicy:SecurityPolicy").inputs
        rules = policy["rules"]
        throttle = [r for r in rules if r["action"] == "throttle" and "config" in r["match"]]  # + sign-in's own
        assert len(throttle) == 1
        threshold = throttle[0]["rateLimitOptions"]["rateLimitThreshold"]
        assert threshold == {"count": stack.config.get("wafRateLimit", 2000), "intervalSec": 300}
        assert throttle[0]["rateLimitOptions"]["exceedAction"] == "deny(429)"
        owasp = [r for r in rules if "expr" in r["match"] and r["action"] != "throttle"]
        waf = {r["match"]["expr"]["expression"].split("'")[1] for r in owasp}
        assert waf == set(WAF_RULE_SETS)
        assert all(r["action"] == "deny(403)" for r in owasp)
        assert max(rules, key=lambda r: r["priority"])["action"] == "allow"
        assert policy["advancedOptionsConfig"]["jsonParsing"] == "STANDARD"
    prod = gcp_prod.one(G + "compute/securityPolicy:SecurityPolicy").inputs
    dev = gcp_dev.one(G + "compute/securityPolicy:SecurityPolicy").inputs
    assert prod["adaptiveProtectionConfig"]["layer7DdosDefenseConfig"]["enable"] is True
    assert dev["adaptiveProtectionConfig"]["layer7DdosDefenseConfig"]["enable"] is False


def test_https_only_with_tls12_and_a_managed_certificate(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    for stack in (gcp_dev, gcp_prod):
        assert stack.one(G + "compute/sSLPolicy:SSLPolicy").inputs["minTlsVersion"] == "TLS_1_2"
        rules = {r.name: r.inputs for r in stack.of_type(G + "compute/globalForwardingRule:GlobalForwardingRule")}
        assert {r["portRange"] for r in rules.values()} == {"443", "80"}
        redirect = stack.one(G + "compute/uRLMap:URLMap", "urlmap-redirect").inputs
        assert redirect["defaultUrlRedirect"]["httpsRedirect"] is True
        assert rules["http-redirect"]["target"].endswith(
            "/targetHttpProxies/" + stack.one(G + "compute/targetHttpProxy:TargetHttpProxy").outputs["name"]
        )
    assert gcp_prod.one(G + "compute/managedSslCertificate:ManagedSslCertificate").inputs["managed"]["domains"] == [
        "shop.example.com"
    ]
    assert gcp_prod.outputs["siteUrl"] == "https://shop.example.com"
    record = gcp_prod.one(G + "dns/recordSet:RecordSet").inputs
    assert (record["name"], record["type"], record["rrdatas"]) == ("shop.example.com.", "A", [LB_IP])
    dev_host = f"{LB_IP.replace('.', '-')}.sslip.io"
    assert gcp_dev.one(G + "compute/managedSslCertificate:ManagedSslCertificate").inputs["managed"]["domains"] == [
        dev_host
    ]
    assert gcp_dev.outputs["siteUrl"] == f"https://{dev_host}"


# -- configuration / monitoring -------------------------------------------------------------


def test_settings_in_parameter_manager_and_secrets_in_secret_manager(gcp: BuiltStack):
    params = {r.inputs["parameterId"] for r in gcp.of_type(G + "parametermanager/regionalParameter:RegionalParameter")}
    stack = gcp.stack
    assert f"shop-{stack}-tableName" in params and f"shop-{stack}-apiUrl" in params
    secrets = {r.inputs["secretId"] for r in gcp.of_type(G + "secretmanager/secret:Secret")}
    assert f"shop-{stack}-alertEmail" in secrets and f"shop-{stack}-identityApiKey" in secrets
    assert not any(p.endswith("alertEmail") for p in params), "secrets never land in Parameter Manager"
    versions = {r.name: r.inputs for r in gcp.of_type(G + "secretmanager/secretVersion:SecretVersion")}
    alert = versions["secret-alertEmail-v"]["secretData"]
    assert SECRET_SIG in alert and plain(alert) == gcp.config["alertEmail"], "secret values stay Pulumi secrets"


def test_alerts_go_to_the_alert_email(gcp: BuiltStack):
    channel = gcp.one(G + "monitoring/notificationChannel:NotificationChannel")
    assert channel.inputs["type"] == "email" and channel.inputs["labels"]["email_address"] == gcp.config["alertEmail"]
    policies = gcp.of_type(G + "monitoring/alertPolicy:AlertPolicy")
    assert all(p.inputs["notificationChannels"] == [channel.outputs["name"]] for p in policies)
    filters = " ".join(c["conditionThreshold"]["filter"] for p in policies for c in p.inputs["conditions"])
    dlq = gcp.one(G + "pubsub/subscription:Subscription", "sub-dead-letter").outputs["name"]
    assert f'subscription_id = "{dlq}"' in filters
    for fn in gcp.of_type(T_FN):
        assert f'service_name = "{fn.outputs["name"]}"' in filters, fn.name
    assert "apigateway.googleapis.com/proxy/request_latencies" in filters
    assert 'response_code = "RESOURCE_EXHAUSTED"' in filters


# -- configuration validation ---------------------------------------------------------------


def test_gcp_settings_errors_name_the_key_and_the_fix():
    with pytest.raises(GcpSettingsError) as err:
        parse_gcp_settings({"project": "X", "apiGatewayRegion": "mars-north1", "connectorCidr": "10.0.0.0/24", "x": 1})
    text = str(err.value)
    assert "shop:gcp.project must be a project id" in text
    assert "shop:gcp.apiGatewayRegion must be a region API Gateway runs in" in text
    assert "shop:gcp.connectorCidr must be a private IPv4 /28" in text
    assert "shop:gcp.x is not a known setting" in text
    assert "`pulumi config set --path shop:gcp.project shop-dev-123456`" in text
    with pytest.raises(GcpSettingsError, match=r"shop:gcp\.project is required"):
        parse_gcp_settings({})


def test_prod_on_gcp_needs_a_domain_for_its_certificate():
    # shop:smtpUrl is a secret the GCP provider reads itself (providers/gcp/notifications.py)
    values = {k: v for k, v in GCP_PROD.items() if k not in ("domainName", "smtpUrl")}
    with pytest.raises(ConfigError, match="shop:domainName is required for a prod stack on gcp"):
        parse_stack_config(values)
    assert parse_stack_config(GCP_DEV).cloud == "gcp"


def test_gcp_implements_every_provider_method_with_the_same_signature():
    from providers.base import CloudProvider
    from providers.gcp.provider import Provider

    assert not Provider.__abstractmethods__
    for name in (*CloudProvider.__abstractmethods__, "foundation", "stack_outputs"):
        base = inspect.signature(getattr(CloudProvider, name))
        impl = inspect.signature(getattr(Provider, name))
        assert list(base.parameters) == list(impl.parameters), f"Provider.{name} takes {impl}, the interface {base}"


def test_a_step_before_the_one_it_needs_is_a_clear_error():
    from providers.gcp.provider import Built

    with pytest.raises(RuntimeError, match=r"^functions\(\) needs database\(\) first$"):
        Built().database_for("functions")
    with pytest.raises(RuntimeError, match=r"^monitoring\(\) needs cdn\(\) first$"):
        Built().cdn_for("monitoring")


def test_a_non_gcp_region_is_refused_before_any_resource():
    from components.specs import DeploymentContext
    from providers.gcp.env import GcpEnv

    context = DeploymentContext("shop", "dev", "gcp", "eu-west-1", "dev", {}, {"project": "shop-dev-123456"})
    with pytest.raises(GcpSettingsError, match="shop:region 'eu-west-1' is not a GCP region"):
        GcpEnv.create(context)


def test_example_gcp_stack_file_is_valid():
    import yaml

    raw = yaml.safe_load((ROOT / "Pulumi.gcp-dev.yaml").read_text())["config"]
    values = {k.removeprefix("shop:"): v for k, v in raw.items() if k.startswith("shop:")}
    config = parse_stack_config(values)
    assert config.cloud == "gcp"
    settings = parse_gcp_settings(config.gcp.model_dump(by_alias=True))
    assert settings.project == raw["gcp:project"] and raw["gcp:region"] == config.region


def test_sign_out_revocation_is_a_custom_role_with_one_permission_for_accounts_only(gcp: BuiltStack):
    role = gcp.one(G + "projects/iAMCustomRole:IAMCustomRole", "role-auth-revoker")
    assert role.inputs["permissions"] == ["firebaseauth.users.update"]
    holders = {r.inputs["member"] for r in gcp.of_type(G + "projects/iAMMember:IAMMember")
               if r.inputs["role"] == role.outputs["name"]}  # fmt: skip
    assert holders == {f"serviceAccount:{sa_email(gcp, 'sa-accounts')}"}


def test_push_notifications_use_a_custom_role_with_one_permission(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    assert not [
        r for r in gcp_dev.of_type(G + "projects/iAMCustomRole:IAMCustomRole") if r.name == "role-fcm-sender"
    ], "push is off by default"
    role = gcp_prod.one(G + "projects/iAMCustomRole:IAMCustomRole", "role-fcm-sender")
    assert role.inputs["permissions"] == ["cloudmessaging.messages.create"]
    holders = {r.inputs["member"] for r in gcp_prod.of_type(G + "projects/iAMMember:IAMMember")
               if r.inputs["role"] == role.outputs["name"]}  # fmt: skip
    assert holders == {f"serviceAccount:{sa_email(gcp_prod, 'sa-notifications')}"}
    for spec in datamodel.SERVICES:
        env = function(gcp_prod, spec.name).inputs["serviceConfig"]["environmentVariables"]
        assert (env.get(datamodel.GcpSettingNames.FCM_ENABLED) == "true") == (spec.name == "notifications"), spec.name
        assert (
            datamodel.GcpSettingNames.FCM_ENABLED
            not in function(gcp_dev, spec.name).inputs["serviceConfig"]["environmentVariables"]
        )


def test_push_makes_the_project_a_firebase_project_with_fcm_enabled(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    firebase = gcp_prod.one(G + "firebase/project:Project", "firebase").inputs
    assert firebase["project"] == GCP_PROD["gcp"]["project"], "FCM sends only for a Firebase project"
    apis = {r.inputs["service"] for r in gcp_prod.of_type(G + "projects/service:Service")}
    assert {"firebase.googleapis.com", "fcm.googleapis.com"} <= apis, apis
    assert not gcp_dev.of_type(G + "firebase/project:Project"), "push is off by default: no Firebase project"
    dev_apis = {r.inputs["service"] for r in gcp_dev.of_type(G + "projects/service:Service")}
    assert not {"firebase.googleapis.com", "fcm.googleapis.com"} & dev_apis, dev_apis


def test_identity_platform_offers_totp_and_limits_authorized_domains(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    dev = gcp_dev.one(G + "identityplatform/config:Config").inputs
    prod = gcp_prod.one(G + "identityplatform/config:Config").inputs
    for cfg in (dev, prod):
        assert cfg["mfa"] == {
            "state": "ENABLED",  # optional: MANDATORY would lock every customer out of password sign-in
            "providerConfigs": [{"state": "ENABLED", "totpProviderConfig": {"adjacentIntervals": 1}}],
        }
    project = GCP_PROD["gcp"]["project"]
    assert prod["authorizedDomains"] == [f"{project}.firebaseapp.com", f"{project}.web.app", "shop.example.com"]
    dev_project = GCP_DEV["gcp"]["project"]
    assert dev["authorizedDomains"] == [f"{dev_project}.firebaseapp.com", f"{dev_project}.web.app", "localhost"]


def test_mail_relay_credential_comes_from_secret_config(gcp_dev: BuiltStack, gcp_prod: BuiltStack):
    from providers.gcp.configuration import PLACEHOLDER

    prod = gcp_prod.one(G + "secretmanager/secretVersion:SecretVersion", "secret-smtpUrl-v")
    from pulumi.runtime import rpc

    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": GCP_PROD["smtpUrl"]}
    assert prod.inputs["secretData"] == secret, "prod stores the configured relay URL, as a Pulumi secret"
    dev = gcp_dev.one(G + "secretmanager/secretVersion:SecretVersion", "secret-emailApiKey-v")
    assert dev.inputs["secretData"]["value"] == PLACEHOLDER, "dev without shop:sendgridApiKey keeps the placeholder"


@pytest.mark.parametrize(
    ("provider", "config", "is_prod", "message"),
    [
        ("sendgrid", {"sendgridApiKey": "not-a-key"}, False,
         "shop:sendgridApiKey is not a SendGrid API key (SG.<id>.<secret>): set `pulumi config set --secret shop:sendgridApiKey SG."),
        ("sendgrid", {}, True, "shop:sendgridApiKey is required in prod (shop:gcp.emailProvider sendgrid)"),
        ("smtp", {"smtpUrl": "http://relay"}, False, "shop:smtpUrl must be smtp+starttls://"),
    ],
)  # fmt: skip
def test_mail_relay_credential_is_checked_before_anything_is_created(provider, config, is_prod, message):
    import pulumi

    from providers.gcp.notifications import mail_credential
    from providers.gcp.settings import GcpSettingsError

    pulumi.runtime.set_all_config({f"shop:{k}": v for k, v in config.items()}, [])
    with pytest.raises(GcpSettingsError) as err:
        mail_credential(provider, is_prod)
    assert message in str(err.value)
    assert "not-a-key" not in str(err.value) and "http://relay" not in str(err.value), "the secret is never echoed"


def test_a_well_formed_sendgrid_key_is_accepted_as_a_secret():
    import pulumi

    from providers.gcp.notifications import mail_credential

    key = "SG." + "a" * 22 + "." + "b" * 43
    pulumi.runtime.set_all_config({"shop:sendgridApiKey": key}, [])
    assert mail_credential("sendgrid", is_prod=True) is not None


def test_function_images_logs_and_parameters_are_encrypted_with_the_stack_key(gcp: BuiltStack):
    key = gcp.one(G + "kms/cryptoKey:CryptoKey")
    key_id = f"{key.inputs['keyRing']}/cryptoKeys/{key.outputs['name']}"  # the CryptoKey's id
    repo = gcp.one(G + "artifactregistry/repository:Repository").inputs
    assert repo["kmsKeyName"] == key_id
    bucket = gcp.one(G + "logging/projectBucketConfig:ProjectBucketConfig", "log-bucket").inputs
    assert bucket["cmekSettings"] == {"kmsKeyName": key_id}
    assert bucket["location"] == gcp.config["region"], "a CMEK log bucket lives in its key's region"
    params = gcp.of_type(G + "parametermanager/regionalParameter:RegionalParameter")
    assert params and {p.inputs["kmsKey"] for p in params} == {key_id}


def test_the_connector_subnet_is_the_only_subnet_and_the_only_one_nat_serves(gcp: BuiltStack):
    subnets = gcp.of_type(G + "compute/subnetwork:Subnetwork")
    assert [s.name for s in subnets] == ["subnet-connector"], "no subnet without a workload"
    assert subnets[0].inputs["ipCidrRange"] == "10.8.0.0/28"
    nat = gcp.one(G + "compute/routerNat:RouterNat").inputs
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert [s["sourceIpRangesToNats"] for s in nat["subnetworks"]] == [["ALL_IP_RANGES"]]


@pytest.mark.parametrize(
    ("location", "kms_location"), [("eur3", "europe"), ("nam5", "us"), ("europe-west4", "europe-west4")]
)
def test_firestore_elsewhere_than_the_stack_key_gets_its_own_key_there(location: str, kms_location: str):
    from .gcp_mocks import build_gcp_stack

    stack = build_gcp_stack({**GCP_DEV, "gcp": {**GCP_DEV["gcp"], "firestoreLocation": location}}, "dev")
    ring = stack.one(G + "kms/keyRing:KeyRing", "keyring-firestore")
    key = stack.one(G + "kms/cryptoKey:CryptoKey", "key-firestore")
    assert ring.inputs["location"] == kms_location
    assert key.inputs["rotationPeriod"] == "7776000s" and key.inputs["purpose"] == "ENCRYPT_DECRYPT"
    db = stack.one(G + "firestore/database:Database").inputs
    assert db["locationId"] == location
    assert db["cmekConfig"] == {"kmsKeyName": f"{key.inputs['keyRing']}/cryptoKeys/{key.outputs['name']}"}
    (grant,) = [
        g for g in stack.of_type(G + "kms/cryptoKeyIAMMember:CryptoKeyIAMMember") if g.name == "key-firestore-user"
    ]
    assert grant.inputs["member"] == f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-firestore.iam.gserviceaccount.com"
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def test_firestore_in_the_stack_region_uses_the_stack_key_only(gcp_dev: BuiltStack):
    assert [r.name for r in gcp_dev.of_type(G + "kms/keyRing:KeyRing")] == ["keyring"]
