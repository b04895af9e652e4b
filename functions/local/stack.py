"""The whole shop on one machine, composed: the shared emulator (moto: DynamoDB, Cognito,
SNS, SQS, SES, S3), this stack's resources in it, the functions' IAM policies, the local
gateway in front of the real AWS entrypoint, and the notification worker.

    with LocalStack(port=0) as shop:      # port 0: any free port
        requests.get(shop.base_url + "/api/products")

This module is the composition root: it imports the parts, and none of them imports it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable
from typing import Any

from functions.adapters import aws_clients, aws_services
from functions.adapters.memory import MemoryPushSender
from functions.adapters.payments_simulated import SimulatedProcessor
from functions.shop import datamodel as dm
from functions.shop.payments import apply_event
from functions.shop.services import Services

from . import iam_policy, notifications, resources
from .authorizer import TokenVerifier
from .gateway import GatewayConfig, GatewayServer, make_server
from .loopback import free_port
from .notifications import NotificationWorker
from .s3_post import Credentials
from .shared_emulator import EMULATOR, REGION
from .storefront import local_site
from .stripe_mode import StripeSettings

log = logging.getLogger("shop.local")

DEFAULT_ADMIN_EMAIL = "admin@shop.local"
DEFAULT_ADMIN_PASSWORD = "Admin-pass-123!"
SENDER = "orders@shop.local"
# Every SDK client the functions use, made while AWS_ENDPOINT_URL names this emulator.
_SERVICES_USED = ("dynamodb", "cognito-idp", "sns", "sqs", "ses", "s3")


def _simulated_payments(services: Services) -> SimulatedProcessor:
    """make dev's payment processor: Stripe's test mode imitated in process; its signed
    events go through the same webhook handling as Stripe's would."""
    return SimulatedProcessor(deliver=lambda payload, signature: apply_event(services, payload, signature))


def _upload_credentials() -> Credentials:
    """The key the functions sign upload forms with (the emulator's credentials)."""
    return Credentials(
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", REGION),
    )


class LocalStack:
    """The shop on 127.0.0.1: start() returns once the API answers; stop() undoes it all.

    Several stacks may run in one process (they share the emulator: shared_emulator.py).
    Each stack's gateway and notification worker use that stack's own adapters, so two
    stacks never see each other's table, pool, queue or outbox.

    `stripe`: take cards through Stripe (test mode) instead of the simulated processor.
    """

    def __init__(
        self,
        port: int = 8000,
        *,
        seed: bool = True,
        admin_email: str | None = None,
        admin_password: str | None = None,
        stripe: StripeSettings | None = None,
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
        self.currency = "USD"
        self.stripe = stripe
        self.issuer = ""
        self.names: dict[str, str] = {}
        self.services: Services | None = None  # wired to this stack's resources by start()
        self.push_sender = MemoryPushSender()
        self._undo: list[Callable[[], None]] = []  # what stop() runs, last first
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        try:
            instance = EMULATOR.acquire()
            self._undo.append(EMULATOR.release)
            self.moto_url = EMULATOR.url
            # the first stack keeps the plain names `make dev` prints; later ones get a suffix
            suffix = "" if instance == 1 else f"-{instance}"
            self.sender = SENDER if instance == 1 else SENDER.replace("@", f"+{instance}@")
            self._create_resources(suffix)
            self._enforce_iam()
            self.services = self._wire_functions()
            self._serve(self.services)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stop.set()
        while self._undo:
            self._undo.pop()()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the parts
    def _create_resources(self, suffix: str) -> None:
        self.names = resources.create_resources(suffix, self.sender)
        self.issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{self.names['pool']}"
        resources.create_admin(self.names["pool"], self.names["client"], self.admin_email, self.admin_password)
        if self.seed:
            self.currency = resources.seed_catalog(self.names["table"])

    def _enforce_iam(self) -> None:
        """Each function's calls are checked against its own generated IAM policy."""
        where = iam_policy.Where(REGION, iam_policy.LOCAL_ACCOUNT, {self.names["table"]: dm.SHOP_TABLE})
        iam_policy.enforce(id(self), self.names, self.sender, where)
        self._undo.append(lambda: iam_policy.release(id(self)))

    def _function_env(self) -> dict[str, str]:
        """The variables every deployed function gets (providers/aws), for this stack."""
        return {
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

    def _wire_functions(self) -> Services:
        """The functions' adapters for this stack. The environment describes the most
        recently started stack, so build_services() wires this one; each stack keeps its own."""
        EMULATOR.setenv(self._function_env())
        aws_services.reset()
        services = aws_services.build_services()
        services.payments = self.stripe.processor() if self.stripe else _simulated_payments(services)
        # No FCM locally: pushes are recorded (LocalStack.pushes), as e-mails land in the outbox.
        services.push = self.push_sender
        # Cached clients keep pointing at this emulator whatever the process does later.
        for service in _SERVICES_USED:
            aws_clients.client(service)
        return services

    def _serve(self, services: Services) -> None:
        jwks = f"{self.moto_url}/{self.names['pool']}/.well-known/jwks.json"
        server = make_server(
            GatewayConfig(
                port=self.port,
                pool=self.names["pool"],
                client_id=self.names["client"],
                bucket=self.names["bucket"],
                verifier=TokenVerifier(jwks, self.issuer, self.names["client"]),
                services=services,
                outbox_key=self.outbox_key,
                outbox=self.outbox,
                upload_credentials=_upload_credentials(),
                site=local_site(),
                stripe_publishable_key=self.stripe.publishable_key if self.stripe else None,
            )
        )
        self._undo.append(lambda: self._close(server))
        worker = NotificationWorker(self.names["queue"], REGION, iam_policy.LOCAL_ACCOUNT, services, self._stop)
        self._spawn(server.serve_forever, "gateway")
        self._spawn(worker.run, notifications.THREAD)

    def _close(self, server: GatewayServer) -> None:
        server.shutdown()
        server.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def pushes(self) -> list[dict[str, object]]:
        """The pushes this stack sent: [{token, platform, title, body, data}]."""
        return self.push_sender.recorded()

    def outbox(self) -> list[dict[str, Any]]:
        """The e-mails this stack sent: [{to, subject, text}] (another stack sharing the
        emulator sent the others)."""
        sent = EMULATOR.sent_emails()
        return [{k: m[k] for k in ("to", "subject", "text")} for m in sent if m["source"] == self.sender]
