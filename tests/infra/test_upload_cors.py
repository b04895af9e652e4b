"""CORS on the bucket admins upload product images to, on every cloud: only the upload
method the signed form uses, only from the shop's own origin when it is known."""

from __future__ import annotations

from .conftest import BuiltStack

AWS_CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
GCP_BUCKET = "gcp:storage/bucket:Bucket"
AZURE_BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
SHOP = "https://shop.example.com"


def _aws_rules(stack: BuiltStack) -> list[dict]:
    (cors,) = stack.of_type(AWS_CORS)
    return cors.inputs["corsRules"]


def test_aws_site_bucket_takes_signed_posts_from_the_shops_origin_only(prod: BuiltStack, dev: BuiltStack):
    (rule,) = _aws_rules(prod)
    assert rule["allowedMethods"] == ["POST"], "uploads are signed POST forms: no PUT, GET or DELETE cross-origin"
    assert rule["allowedOrigins"] == [SHOP], "prod names its domain: only the shop may upload from a browser"
    assert not rule.get("allowedHeaders"), "a multipart form needs no request header allowed"
    (dev_rule,) = _aws_rules(dev)
    assert dev_rule["allowedMethods"] == ["POST"]


def test_gcp_site_bucket_takes_signed_posts_from_the_shops_origin_only(gcp_prod: BuiltStack):
    (rule,) = gcp_prod.one(GCP_BUCKET, "bucket-site").inputs["cors"]
    assert rule["methods"] == ["POST"], "uploads are V4 POST policies: no PUT cross-origin"
    assert rule["origins"] == [SHOP]


def test_azure_uploads_come_through_the_shops_origin_so_no_account_admits_cross_origin_puts(
    az_dev: BuiltStack, az_prod: BuiltStack
):
    """Azure's SAS PUTs go to the shop's own origin (Front Door's uploads route, behind the WAF:
    tests/infra/test_edge_azure_uploads.py), so neither storage account has CORS at all."""
    for stack in (az_dev, az_prod):
        services = {r.name: r for r in stack.of_type(AZURE_BLOB_SERVICE)}
        assert set(services) == {"site-blob-service", "uploads-blob-service"}
        for name, service in services.items():
            assert "cors" not in service.inputs, f"{name}: browsers never call a storage host cross-origin"
