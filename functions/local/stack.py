"""The whole shop on one machine: moto server (DynamoDB, Cognito, SNS, SQS, SES, S3) plus a
local gateway that behaves like API Gateway in front of the real AWS entrypoint.

    with LocalStack(port=0) as shop:      # port 0: any free port
        requests.get(shop.base_url + "/api/products")

Resources come from the same definitions the Pulumi program uses (functions/shop/datamodel.py).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from pathlib import Path

from functions.shop import datamodel as dm

log = logging.getLogger("shop.local")

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
CATALOG = Path(__file__).with_name("demo_catalog.json")
REGION = "us-east-1"
DEFAULT_ADMIN_EMAIL = "admin@shop.local"
DEFAULT_ADMIN_PASSWORD = "Admin-pass-123!"
SENDER = "orders@shop.local"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_write_lock = threading.RLock()


def serialize_emulator_writes() -> None:
    """Give moto's DynamoDB the isolation the real service has.

    DynamoDB applies each conditional write and each transaction atomically; moto checks
    conditions and then writes without a lock, so two threads can both pass `stock >= 1`.
    One lock around its write operations restores the real semantics locally.
    """
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("transact_write_items", "update_item", "put_item", "delete_item", "batch_write_item"):
        original = getattr(DynamoDBBackend, name, None)
        if original is None or getattr(original, "_shop_serialized", False):
            continue

        def locked(self, *args, __original=original, **kwargs):
            with _write_lock:
                return __original(self, *args, **kwargs)

        locked._shop_serialized = True
        setattr(DynamoDBBackend, name, locked)


class LocalStack:
    def __init__(self, port: int = 8000, *, seed: bool = True, admin_email: str | None = None,
                 admin_password: str | None = None) -> None:
        self.port = port or free_port()
        self.seed = seed
        self.admin_email = admin_email or os.environ.get("SHOP_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL)
        self.admin_password = admin_password or os.environ.get("SHOP_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._moto = None
        self._server = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.names: dict[str, str] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

        serialize_emulator_writes()
        moto_port = free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self._moto.start()
        self.moto_url = f"http://127.0.0.1:{moto_port}"
        os.environ.update({
            "AWS_ENDPOINT_URL": self.moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        })
        from functions.adapters import aws_clients, aws_services

        aws_clients.reset()
        aws_services.reset()
        self._create_resources()
        os.environ.update({
            dm.ENV_TABLE: self.names["table"], dm.ENV_TOPIC: self.names["topic"], dm.ENV_BUCKET: self.names["bucket"],
            dm.ENV_MEDIA_BASE_URL: self.base_url + "/media/", dm.ENV_SENDER: SENDER,
            dm.ENV_USER_POOL: self.names["pool"], dm.ENV_USER_POOL_CLIENT: self.names["client"],
            dm.ENV_CURRENCY: self.currency, dm.ENV_CLOUD: "local", dm.ENV_PARAMETERS_PATH: "/shop/local/",
            "SHOP_LOCAL_AUTO_CONFIRM": "1", "SHOP_S3_PRESIGN_ENDPOINT": self.base_url + "/local/s3",
        })
        aws_services.reset()
        from .gateway import make_server

        self._server = make_server(self)
        self._spawn(self._server.serve_forever, "gateway")
        self._spawn(self._notification_worker, "notifications")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for t in self._threads:
            t.join(timeout=5)
        if self._moto is not None:
            self._moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    # ------------------------------------------------------------------ resources
    def _create_resources(self) -> None:
        from functions.adapters.aws_clients import client
        from functions.adapters.dynamodb_schema import create_table_kwargs

        table = f"shop-local-{dm.SHOP_TABLE.name}"
        client("dynamodb").create_table(**create_table_kwargs(dm.SHOP_TABLE, table))
        sns, sqs = client("sns"), client("sqs")
        topic = sns.create_topic(Name=dm.ORDER_EVENTS_TOPIC)["TopicArn"]
        dlq = sqs.create_queue(QueueName=dm.NOTIFICATIONS_QUEUE + "-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(QueueName=dm.NOTIFICATIONS_QUEUE, Attributes={
            "VisibilityTimeout": "2",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": str(dm.NOTIFICATION_MAX_RECEIVES)})})["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": "true"})
        client("ses").verify_email_identity(EmailAddress=SENDER)
        client("s3").create_bucket(Bucket="shop-local-site")
        idp = client("cognito-idp")
        pool = idp.create_user_pool(
            PoolName="shop-local", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": {"MinimumLength": 8}})["UserPool"]["Id"]
        app = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="storefront", GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
        idp.create_group(UserPoolId=pool, GroupName="admin")
        self.names = {"table": table, "topic": topic, "queue": queue, "dlq": dlq, "bucket": "shop-local-site",
                      "pool": pool, "client": app}
        self.issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool}"
        self.currency = "USD"
        from functions.adapters.cognito_identity import CognitoIdentity

        identity = CognitoIdentity(pool, app, auto_confirm=True)
        identity.sign_up(self.admin_email, self.admin_password)
        idp.admin_add_user_to_group(UserPoolId=pool, Username=self.admin_email.lower(), GroupName="admin")
        if self.seed:
            self._seed(table)

    def _seed(self, table: str) -> None:
        from functions.adapters.dynamodb_store import DynamoDBStore
        from functions.shop.ports import Category, Product

        data = json.loads(CATALOG.read_text())
        self.currency = data.get("currency", "USD")
        store = DynamoDBStore(table)
        for c in data["categories"]:
            store.put_category(Category(c["categoryId"], c["name"]))
        for p in data["products"]:
            store.create_product(Product(
                product_id=p["productId"], name=p["name"], description=p["description"], category=p["category"],
                price=p["price"], currency=self.currency, stock=p["stock"], image_url=p.get("imageUrl")))

    # ------------------------------------------------------------------ notifications
    def _notification_worker(self) -> None:
        """SQS -> the real notifications entrypoint, as Lambda's event source mapping would."""
        from functions.adapters.aws_clients import client
        from functions.runtimes import aws_notifications

        sqs = client("sqs")
        while not self._stop.is_set():
            try:
                msgs = sqs.receive_message(QueueUrl=self.names["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           AttributeNames=["All"]).get("Messages", [])
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("notification poll failed")
                time.sleep(0.5)
                continue
            if not msgs:
                continue
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": m.get("Attributes", {}), "eventSource": "aws:sqs"} for m in msgs]
            failed = {f["itemIdentifier"] for f in aws_notifications.handler({"Records": records})["batchItemFailures"]}
            for m in msgs:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=self.names["queue"], ReceiptHandle=m["ReceiptHandle"])

    def outbox(self) -> list[dict]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        out = []
        for m in list(backend.sent_messages):
            for to in m.destinations.get("ToAddresses", []):
                out.append({"to": to, "subject": m.subject, "text": m.body})
        return out
