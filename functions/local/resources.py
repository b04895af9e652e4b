"""One local stack's cloud resources, made in the emulator from the definitions the Pulumi
program deploys (functions/shop/datamodel.py, functions/adapters/dynamodb_schema.py)."""

from __future__ import annotations

import json
from pathlib import Path

from functions.adapters.aws_clients import client
from functions.adapters.cognito_identity import CognitoIdentity
from functions.adapters.dynamodb_schema import create_table_kwargs
from functions.adapters.dynamodb_store import DynamoDBStore
from functions.shop import datamodel as dm
from functions.shop.ports import Category, Product

CATALOG = Path(__file__).with_name("demo_catalog.json")
# Failed deliveries come back quickly, so a local run shows retries and the DLQ in seconds.
_VISIBILITY_TIMEOUT_S = "2"


def create_resources(suffix: str, sender: str) -> dict[str, str]:
    """Make the table, topic, queues, sender, bucket and user pool; return their names:
    {"table", "topic", "queue", "dlq", "bucket", "pool", "client"} (queues by URL, the
    topic by ARN, as the SDK calls name them). `suffix` keeps stacks sharing an emulator apart."""
    table = f"shop-local-{dm.SHOP_TABLE.name}{suffix}"
    client("dynamodb").create_table(**create_table_kwargs(dm.SHOP_TABLE, table))
    topic, queue, dlq = _notification_queues(suffix)
    client("ses").verify_email_identity(EmailAddress=sender)
    bucket = f"shop-local-site{suffix}"
    client("s3").create_bucket(Bucket=bucket)
    pool, app = _user_pool(suffix)
    return {"table": table, "topic": topic, "queue": queue, "dlq": dlq, "bucket": bucket, "pool": pool, "client": app}


def _queue_arn(url: str) -> str:
    attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    arn: str = attributes["QueueArn"]
    return arn


def _notification_queues(suffix: str) -> tuple[str, str, str]:
    """Order events: SNS topic -> SQS queue (raw delivery) -> DLQ after the deploy's receive count."""
    sns, sqs = client("sns"), client("sqs")
    topic: str = sns.create_topic(Name=dm.ORDER_EVENTS_TOPIC + suffix)["TopicArn"]
    dlq: str = sqs.create_queue(QueueName=f"{dm.NOTIFICATIONS_QUEUE}{suffix}-dlq")["QueueUrl"]
    redrive = {"deadLetterTargetArn": _queue_arn(dlq), "maxReceiveCount": str(dm.NOTIFICATION_MAX_RECEIVES)}
    queue: str = sqs.create_queue(
        QueueName=dm.NOTIFICATIONS_QUEUE + suffix,
        Attributes={"VisibilityTimeout": _VISIBILITY_TIMEOUT_S, "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=_queue_arn(queue), Attributes={"RawMessageDelivery": "true"})
    return topic, queue, dlq


def _user_pool(suffix: str) -> tuple[str, str]:
    """(pool id, app client id), configured as providers/aws/auth.py deploys them."""
    idp = client("cognito-idp")
    pool: str = idp.create_user_pool(
        PoolName=f"shop-local{suffix}",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 8}},
        # as deployed: an e-mail change waits for its code
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    )["UserPool"]["Id"]
    # as deployed: authenticator apps optional, required of admins by the API
    idp.set_user_pool_mfa_config(
        UserPoolId=pool, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    app: str = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="storefront",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=pool, GroupName="admin")
    return pool, app


def create_admin(pool: str, app: str, email: str, password: str) -> None:
    """A confirmed user in the pool's `admin` group."""
    CognitoIdentity(pool, app, auto_confirm=True).sign_up(email, password)
    client("cognito-idp").admin_add_user_to_group(UserPoolId=pool, Username=email.lower(), GroupName="admin")


def seed_catalog(table: str) -> str:
    """Write the demo catalog through the store adapter; return its currency."""
    data = json.loads(CATALOG.read_text())
    currency: str = data.get("currency", "USD")
    store = DynamoDBStore(table)
    for c in data["categories"]:
        store.put_category(Category(c["categoryId"], c["name"]))
    for p in data["products"]:
        store.create_product(
            Product(
                product_id=p["productId"],
                name=p["name"],
                description=p["description"],
                category=p["category"],
                price=p["price"],
                currency=currency,
                stock=p["stock"],
                image_url=p.get("imageUrl"),
            )
        )
    return currency
