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
import secrets
import socket
import sys
import threading
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
# GIL hand-over interval while a stack runs (Python's default: 0.005 s); see _Emulator.acquire.
SWITCH_INTERVAL = float(os.environ.get("SHOP_LOCAL_SWITCH_INTERVAL", "0.0005"))


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


class _Emulator:
    """One moto server per process, shared by every LocalStack in it.

    moto keeps its state in process-wide backends, so two servers in one process would
    serve the same data anyway (and a second stack creating the same table fails). The
    test session starts several stacks (browser and end-to-end suites, each session
    scoped), so stacks share the server, name their resources apart, and the last one
    to stop shuts the server down and restores the environment it changed.
    """

    _lock = threading.Lock()
    _server = None
    url = ""
    mode = "process"  # SHOP_LOCAL_EMULATOR: "process" (own core) or "thread" (inside this process)
    _users = 0
    _saved_env: dict[str, str | None] = {}
    _saved_switch = 0.005
    _instances = 0

    @classmethod
    def acquire(cls) -> tuple[str, int]:
        """(endpoint URL, instance number starting at 1)."""
        with cls._lock:
            if cls._server is None:
                port = free_port()
                cls.mode = os.environ.get("SHOP_LOCAL_EMULATOR", "process")
                cls._server = _start_process(port) if cls.mode == "process" else _start_thread(port)
                cls.url = f"http://127.0.0.1:{port}"
                env = {
                    "AWS_ENDPOINT_URL": cls.url,
                    "AWS_ACCESS_KEY_ID": "testing",
                    # The emulator accepts any key, but the gateway checks upload forms signed
                    # with this one: it must not be a value anyone can look up.
                    "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(32),
                    "AWS_DEFAULT_REGION": REGION,
                    "AWS_REGION": REGION,
                }
                cls._saved_env = {k: os.environ.get(k) for k in (*env, *_STACK_ENV)}
                os.environ.update(env)
                _reset_aws_caches()
                # The gateway runs a thread per connection; each SDK call inside an invocation
                # gives up the GIL and then waits for it, by default up to 5 ms per hand-over
                # while another thread computes. Under the load benchmark that wait, not CPU,
                # set the pace (107 vs 212 requests/s at 1,000 shoppers). Restored by release().
                cls._saved_switch = sys.getswitchinterval()
                sys.setswitchinterval(SWITCH_INTERVAL)
            cls._users += 1
            cls._instances += 1
            return cls.url, cls._instances

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._users -= 1
            if cls._users > 0 or cls._server is None:
                return
            cls._server.stop()
            cls._server, cls.url = None, ""
            sys.setswitchinterval(cls._saved_switch)
            for k, v in cls._saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            _reset_aws_caches()


def _start_thread(port: int):
    """moto inside this process (SHOP_LOCAL_EMULATOR=thread): one core for everything."""
    from moto.server import ThreadedMotoServer

    from .emulator import prepare

    prepare()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


class _EmulatorProcess:
    """moto in a child process (the default): the emulator gets a core of its own."""

    def __init__(self, port: int) -> None:
        import subprocess
        import sys
        import tempfile
        import time

        root = Path(__file__).resolve().parents[2]
        # A file, not a pipe: nobody reads the emulator's stderr while it runs, and a full
        # pipe would block it.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "functions.local.emulator", "--port", str(port), "--parent-pid", str(os.getpid())],
            cwd=root, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"the emulator exited: {self.log.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the emulator did not start within 60 s")

    def stop(self) -> None:
        import subprocess

        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _start_process(port: int) -> _EmulatorProcess:
    return _EmulatorProcess(port)


# What start() puts in the environment for the functions (restored when the last stack stops).
_STACK_ENV = (
    dm.ENV_TABLE,
    dm.ENV_TOPIC,
    dm.ENV_BUCKET,
    dm.ENV_MEDIA_BASE_URL,
    dm.ENV_SENDER,
    dm.ENV_USER_POOL,
    dm.ENV_USER_POOL_CLIENT,
    dm.ENV_CURRENCY,
    dm.ENV_CLOUD,
    dm.ENV_PARAMETERS_PATH,
    "SHOP_LOCAL_AUTO_CONFIRM",
    "SHOP_S3_PRESIGN_ENDPOINT",
)


def _reset_aws_caches() -> None:
    from functions.adapters import aws_clients, aws_services

    aws_clients.reset()
    aws_services.reset()


class LocalStack:
    """The shop on 127.0.0.1: start() returns once the API answers; stop() undoes it all.

    Several stacks may run in one process (they share the moto server; see _Emulator).
    Each stack's gateway and notification worker use that stack's own adapters, so two
    stacks never see each other's table, pool, queue or outbox.
    """

    def __init__(
        self, port: int = 8000, *, seed: bool = True, admin_email: str | None = None, admin_password: str | None = None
    ) -> None:
        self.port = port or free_port()
        self.seed = seed
        self.admin_email = admin_email or os.environ.get("SHOP_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL)
        self.admin_password = admin_password or os.environ.get("SHOP_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)
        self.base_url = f"http://127.0.0.1:{self.port}"
        # GET /local/outbox shows every customer's mail: only with this run's key (or an admin token)
        self.outbox_key = secrets.token_urlsafe(24)
        self.moto_url = ""
        self.sender = SENDER
        self.services = None  # functions.shop.services.Services wired to this stack's resources
        self._acquired = False
        self._enforcing = False
        self._server = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.names: dict[str, str] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        self.moto_url, instance = _Emulator.acquire()
        self._acquired = True
        try:
            # the first stack keeps the plain names `make dev` prints; later ones get a suffix
            self._suffix = "" if instance == 1 else f"-{instance}"
            self.sender = SENDER if instance == 1 else SENDER.replace("@", f"+{instance}@")
            self._create_resources()
            # Each function's calls are checked against its own generated IAM policy.
            from .iam_policy import LOCAL_ACCOUNT, Where, enforce

            enforce(
                id(self), self.names, self.sender, Where(REGION, LOCAL_ACCOUNT, {self.names["table"]: dm.SHOP_TABLE})
            )
            self._enforcing = True
            # The same variables every deployed function gets (providers/aws), describing
            # the most recently started stack: build_services() then wires this stack.
            os.environ.update(
                {
                    dm.ENV_TABLE: self.names["table"],
                    dm.ENV_TOPIC: self.names["topic"],
                    dm.ENV_BUCKET: self.names["bucket"],
                    dm.ENV_MEDIA_BASE_URL: self.base_url + "/media/",
                    dm.ENV_SENDER: self.sender,
                    dm.ENV_USER_POOL: self.names["pool"],
                    dm.ENV_USER_POOL_CLIENT: self.names["client"],
                    dm.ENV_CURRENCY: self.currency,
                    dm.ENV_CLOUD: "local",
                    dm.ENV_PARAMETERS_PATH: "/shop/local/",
                    "SHOP_LOCAL_AUTO_CONFIRM": "1",
                    # uploads go through this gateway (same origin, as on the CDN), not to the emulator's port
                    "SHOP_S3_PRESIGN_ENDPOINT": self.base_url + "/local/s3",
                }
            )
            from functions.adapters import aws_services

            aws_services.reset()
            self.services = aws_services.build_services()
            self.services.payments = _simulated_payments(self.services)
            # Every SDK client the functions use, now, while AWS_ENDPOINT_URL names this
            # emulator: cached clients keep pointing at it whatever the process does later.
            from functions.adapters import aws_clients

            for service in ("dynamodb", "cognito-idp", "sns", "sqs", "ses", "s3"):
                aws_clients.client(service)
            from .gateway import make_server

            self._server = make_server(self)
            self._spawn(self._server.serve_forever, "gateway")
            self._spawn(self._notification_worker, "notifications")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()
        if self._enforcing:
            from .iam_policy import release

            self._enforcing = False
            release(id(self))
        if self._acquired:
            self._acquired = False
            _Emulator.release()

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

        sfx = self._suffix
        table = f"shop-local-{dm.SHOP_TABLE.name}{sfx}"
        client("dynamodb").create_table(**create_table_kwargs(dm.SHOP_TABLE, table))
        sns, sqs = client("sns"), client("sqs")
        topic = sns.create_topic(Name=dm.ORDER_EVENTS_TOPIC + sfx)["TopicArn"]
        dlq = sqs.create_queue(QueueName=f"{dm.NOTIFICATIONS_QUEUE}{sfx}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(
            QueueName=dm.NOTIFICATIONS_QUEUE + sfx,
            Attributes={
                "VisibilityTimeout": "2",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(dm.NOTIFICATION_MAX_RECEIVES)}
                ),
            },
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        client("ses").verify_email_identity(EmailAddress=self.sender)
        bucket = f"shop-local-site{sfx}"
        client("s3").create_bucket(Bucket=bucket)
        idp = client("cognito-idp")
        pool = idp.create_user_pool(
            PoolName=f"shop-local{sfx}",
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": {"MinimumLength": 8}},
            # as deployed (providers/aws/auth.py): an e-mail change waits for its code
            UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
        )["UserPool"]["Id"]
        # as deployed: authenticator apps optional, required of admins by the API
        idp.set_user_pool_mfa_config(
            UserPoolId=pool, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
        )
        app = idp.create_user_pool_client(
            UserPoolId=pool,
            ClientName="storefront",
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        idp.create_group(UserPoolId=pool, GroupName="admin")
        self.names = {
            "table": table,
            "topic": topic,
            "queue": queue,
            "dlq": dlq,
            "bucket": bucket,
            "pool": pool,
            "client": app,
        }
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
            store.create_product(
                Product(
                    product_id=p["productId"],
                    name=p["name"],
                    description=p["description"],
                    category=p["category"],
                    price=p["price"],
                    currency=self.currency,
                    stock=p["stock"],
                    image_url=p.get("imageUrl"),
                )
            )

    # ------------------------------------------------------------------ notifications
    def _notification_worker(self) -> None:
        """SQS -> the real notifications entrypoint, as Lambda's event source mapping would."""
        from functions.adapters.aws_clients import acting_as, client

        sqs = client("sqs")
        function = next(s.name for s in dm.SERVICES if s.trigger == "queue")
        while not self._stop.is_set():
            try:
                with acting_as(function):  # Lambda's event source mapping polls with the function's role
                    msgs = sqs.receive_message(
                        QueueUrl=self.names["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
                    ).get("Messages", [])
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("notification poll failed")
                self._stop.wait(0.5)
                continue
            if not msgs:
                continue
            failed = self._invoke_notifications(msgs)
            for m in msgs:
                if m["MessageId"] not in failed:  # failures stay: redelivered, then dead-lettered
                    with acting_as(function):
                        sqs.delete_message(QueueUrl=self.names["queue"], ReceiptHandle=m["ReceiptHandle"])

    def _invoke_notifications(self, msgs: list[dict]) -> set[str]:
        """Call the Lambda handler with the event Lambda's SQS event source mapping would send;
        return the ids it reported as failed (ReportBatchItemFailures)."""
        from functions.runtimes import aws_notifications

        queue_arn = f"arn:aws:sqs:{REGION}:123456789012:{self.names['queue'].rsplit('/', 1)[-1]}"
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in msgs
        ]
        try:
            result = aws_notifications.handler({"Records": records}, None, services=self.services)
        except Exception:  # a crashed invocation fails the whole batch, as on Lambda
            log.exception("notifications handler crashed; the batch will be redelivered")
            return {m["MessageId"] for m in msgs}
        return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}

    def outbox(self) -> list[dict]:
        if _Emulator.mode == "process":
            import urllib.request

            from .emulator import SENT_PATH

            with urllib.request.urlopen(f"{self.moto_url}{SENT_PATH}", timeout=10) as resp:
                sent = json.load(resp)
        else:
            from .emulator import sent_emails

            sent = sent_emails()
        # another stack sharing the emulator sent the others
        return [{k: m[k] for k in ("to", "subject", "text")} for m in sent if m["source"] == self.sender]


def _simulated_payments(services):
    """make dev's payment processor: Stripe's test mode imitated in process; its signed
    events go through the same webhook handling as Stripe's would."""
    from functions.adapters.payments_simulated import SimulatedProcessor
    from functions.shop.payments import apply_event

    return SimulatedProcessor(deliver=lambda payload, signature: apply_event(services, payload, signature))
