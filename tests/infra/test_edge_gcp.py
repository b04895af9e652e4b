"""GCP edge: the *.gateway.dev host refuses what did not come through the load balancer,
Cloud Armor's per-client limits (tighter on sign-in), its logs (CMEK, retention) and the
alert on a spike of denied requests."""

from __future__ import annotations

import pytest

from providers.gcp import cdn, firewall

from .conftest import BuiltStack
from .test_gcp_stack import G, api_document, plain

T_ARMOR = G + "compute/securityPolicy:SecurityPolicy"


@pytest.fixture(scope="session", params=["dev", "prod"])
def gcp(request: pytest.FixtureRequest, gcp_dev: BuiltStack, gcp_prod: BuiltStack) -> BuiltStack:
    return gcp_dev if request.param == "dev" else gcp_prod


def _armor(stack: BuiltStack) -> dict:
    (policy,) = [p for p in stack.of_type(T_ARMOR) if p.inputs.get("type") == "CLOUD_ARMOR"]
    return policy.inputs


# -- the gateway answers only the load balancer -------------------------------------------------


def test_every_gateway_operation_requires_the_load_balancers_key(gcp: BuiltStack):
    doc = api_document(gcp)
    assert doc["securityDefinitions"]["lb_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op["security"], f"{method} {path} answers callers without the key"
            assert all("lb_key" in requirement for requirement in op["security"]), (
                f"{method} {path}: some alternative skips the key (a direct *.gateway.dev call would pass)"
            )


def test_the_key_is_restricted_to_this_api_and_only_the_api_backend_sends_it(gcp: BuiltStack):
    api = gcp.one(G + "apigateway/api:Api")
    managed = api.outputs["managedService"]
    key = gcp.one(G + "projects/apiKey:ApiKey", "lb-key")
    assert key.inputs["restrictions"] == {"apiTargets": [{"service": managed}]}
    enabled = gcp.one(G + "projects/service:Service", "api-managed-service").inputs
    assert enabled["service"] == managed, "keys only work for an API whose managed service is enabled"
    backend = gcp.one(G + "compute/backendService:BackendService", "backend-api").inputs
    headers = plain(backend["customRequestHeaders"])
    assert f"x-api-key: {key.outputs['keyString']}" in headers
    assert [h for h in headers if h.lower().startswith("x-api-key")] == [f"x-api-key: {key.outputs['keyString']}"]


# -- Cloud Armor: sign-in's own limit ---------------------------------------------------------


def test_sign_in_has_a_tighter_per_ip_limit_evaluated_first(gcp: BuiltStack):
    rules = {r["priority"]: r for r in _armor(gcp)["rules"]}
    auth = rules[firewall.AUTH_RATE_LIMIT_PRIORITY]
    general = rules[firewall.RATE_LIMIT_PRIORITY]
    assert auth["match"]["expr"]["expression"] == "request.path.startsWith('/api/auth/')"
    options = auth["rateLimitOptions"]
    assert options["enforceOnKey"] == "IP" and options["exceedAction"] == "deny(429)"
    assert options["rateLimitThreshold"] == {"count": 50, "intervalSec": 300}
    assert options["rateLimitThreshold"]["count"] < general["rateLimitOptions"]["rateLimitThreshold"]["count"]
    assert firewall.AUTH_RATE_LIMIT_PRIORITY < firewall.RATE_LIMIT_PRIORITY


# -- firewall logs and the alert -----------------------------------------------------------------


def test_cloud_armor_decisions_go_to_an_encrypted_log_bucket_kept_for_the_retention(gcp: BuiltStack):
    stack_key = gcp.one(G + "storage/bucket:Bucket", "bucket-site").inputs["encryption"]["defaultKmsKeyName"]
    bucket = gcp.one(G + "logging/projectBucketConfig:ProjectBucketConfig", "armor-log-bucket").inputs
    assert bucket["retentionDays"] == gcp.config.get("logRetentionDays", 30)
    assert bucket["cmekSettings"] == {"kmsKeyName": stack_key}, "firewall logs must be encrypted with the stack key"
    assert bucket["location"] == gcp.config["region"], "a CMEK log bucket must live in its key's region"
    grant = gcp.one(G + "kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "key-user-logging").inputs
    assert grant["cryptoKeyId"] == stack_key and grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"].endswith("@gcp-sa-logging.iam.gserviceaccount.com")
    sink = gcp.one(G + "logging/projectSink:ProjectSink", "armor-log-sink").inputs
    assert sink["destination"].startswith("logging.googleapis.com/projects/")
    assert sink["destination"].endswith("/buckets/" + bucket["bucketId"])
    assert sink["filter"] == firewall.FIREWALL_LOG_FILTER
    assert 'resource.type="http_load_balancer"' in sink["filter"] and "enforcedSecurityPolicy" in sink["filter"]
    api = gcp.one(G + "compute/backendService:BackendService", "backend-api").inputs
    assert api["logConfig"] == {"enable": True, "sampleRate": 1.0}, "Cloud Armor logs ride on the LB's request logs"


def test_a_spike_of_denied_requests_alerts_the_on_call_address(gcp: BuiltStack):
    metric = gcp.one(G + "logging/metric:Metric", "armor-blocked").inputs
    assert metric["filter"] == firewall.BLOCKED_LOG_FILTER and 'outcome="DENY"' in metric["filter"]
    alert = gcp.one(G + "monitoring/alertPolicy:AlertPolicy", "alert-firewall-blocked").inputs
    condition = alert["conditions"][0]["conditionThreshold"]
    assert condition["filter"] == f'metric.type = "logging.googleapis.com/user/{metric["name"]}"'
    assert condition["thresholdValue"] == 100
    channel = gcp.one(G + "monitoring/notificationChannel:NotificationChannel")
    assert alert["notificationChannels"] == [channel.outputs["name"]]


# -- the site bucket: private, read only through the load balancer (and Cloud Armor) -----------


def test_site_bucket_is_private_and_read_by_the_load_balancers_own_account(gcp: BuiltStack):
    bucket = gcp.one(G + "storage/bucket:Bucket", "bucket-site")
    assert bucket.inputs["publicAccessPrevention"] == "enforced", "no allUsers read: the bucket must be private"
    readers = [
        r
        for r in gcp.of_type(G + "storage/bucketIAMMember:BucketIAMMember")
        if r.inputs["bucket"] == bucket.outputs.get("name", bucket.inputs.get("name"))
        and "storage.legacyObjectReader" in r.inputs["role"]
    ]
    reader = gcp.one(G + "serviceaccount/account:Account", "sa-cdn-origin").outputs
    assert [(r.inputs["role"], r.inputs["member"]) for r in readers] == [
        ("roles/storage.legacyObjectReader", reader["member"])
    ], "objects.get only (no listing), for the load balancer's account only"
    hmac = gcp.one(G + "storage/hmacKey:HmacKey", "site-origin-hmac")
    assert hmac.inputs["serviceAccountEmail"] == reader["email"]


def test_the_site_is_served_through_a_signed_origin_with_cloud_armor_and_cdn(gcp: BuiltStack):
    site = gcp.one(G + "compute/backendService:BackendService", "backend-site").inputs
    policy = next(p for p in gcp.of_type(T_ARMOR) if p.inputs.get("type") == "CLOUD_ARMOR")
    assert site["securityPolicy"].endswith("/securityPolicies/" + policy.outputs["name"]), (
        "Cloud Armor must cover the site backend too, not only /api"
    )
    hmac = gcp.one(G + "storage/hmacKey:HmacKey", "site-origin-hmac").outputs
    auth = plain(site["securitySettings"])["awsV4Authentication"]
    assert plain(auth["accessKeyId"]) == hmac["accessId"] and plain(auth["accessKey"]) == hmac["secret"]
    assert auth["originRegion"] == gcp.config["region"]
    bucket = gcp.one(G + "storage/bucket:Bucket", "bucket-site")
    host = cdn.origin_host(bucket.outputs.get("name") or bucket.inputs["name"])
    assert plain(site["customRequestHeaders"]) == [f"Host: {host}"]
    neg = gcp.one(G + "compute/globalNetworkEndpointGroup:GlobalNetworkEndpointGroup", "neg-site")
    assert neg.inputs["networkEndpointType"] == "INTERNET_FQDN_PORT"
    endpoint = gcp.one(G + "compute/globalNetworkEndpoint:GlobalNetworkEndpoint", "neg-site-bucket").inputs
    assert (endpoint["fqdn"], endpoint["port"]) == (host, 443)
    (backend,) = site["backends"]
    assert backend["group"].endswith("/globalNetworkEndpointGroups/" + neg.outputs["name"])
    assert site["enableCdn"] is True and site["cdnPolicy"]["cacheMode"] == "CACHE_ALL_STATIC"
    assert site["logConfig"] == {"enable": True, "sampleRate": 1.0}
    assert not gcp.of_type(G + "compute/backendBucket:BackendBucket"), "a backend bucket needs public reads"


def test_the_root_path_serves_index_html(gcp: BuiltStack):
    matcher = gcp.one(G + "compute/uRLMap:URLMap", "urlmap").inputs["pathMatchers"][0]
    root = [r for r in matcher["pathRules"] if r["paths"] == ["/"]]
    assert len(root) == 1 and root[0]["routeAction"]["urlRewrite"] == {"pathPrefixRewrite": "/index.html"}
