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


def test_azure_uploads_account_takes_sas_puts_from_the_shops_origin_only(az_prod: BuiltStack):
    services = {r.name: r for r in az_prod.of_type(AZURE_BLOB_SERVICE)}
    assert "cors" not in services["site-blob-service"].inputs, "browsers upload to the uploads account, never the site"
    (rule,) = services["uploads-blob-service"].inputs["cors"]["corsRules"]
    assert rule["allowedMethods"] == ["PUT"], "a SAS upload is one PUT of one blob"
    assert rule["allowedOrigins"] == [SHOP]
    assert "x-ms-blob-content-type" in rule["allowedHeaders"], "the storefront sets the stored type with it"
