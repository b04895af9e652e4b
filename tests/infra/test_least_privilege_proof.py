"""Least privilege on AWS, proven both ways by the calls the functions really make.

One deterministic scenario drives every route of the route table, every store path that
reads or writes a different item (checkout's fast, stale, replayed and deleted-product
paths; cancellations that restock a deleted product) and the notifications consumer,
through the real Lambda entrypoints against moto in this process. A botocore hook records
each IAM authorisation every call needs (function, action, resource ARN, partition keys:
functions/local/iam_policy.calls_of). Then, against the policies the Pulumi program
generates for the dev stack:

- every recorded call is allowed by its function's policy (no AccessDenied after deploy);
- every action a policy grants, on every resource and every leading-key pattern, is used by
  at least one recorded call of that function, or is listed in NOT_CALLED_BY_HANDLERS with
  the reason.

The scenario also runs under the local stack's enforcement (the same policies over the
local resources), which the last tests show refuses what a function was not granted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from unittest import mock

import pytest

from functions.local import iam_policy
from functions.local.iam_policy import Call, Where
from functions.shop import datamodel as dm
from functions.shop import routes
from tests.runtime.events import claims, http_event, sqs_record

from .conftest import BuiltStack

REGION = "us-east-1"
SENDER = "shop@example.com"  # the dev stack's senderEmail: ses:FromAddress must match
NAMES = {"table": "proof-shop", "bucket": "proof-site", "topic_name": "proof-order-events", "queue_name": "proof-notes",
         "push_name": "proof-push"}  # fmt: skip
GONE_TOKEN = "fcm-token-gone"  # a device FCM no longer knows: its SNS endpoint is disabled
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main St", "city": "London", "postalCode": "N1 1AA", "country": "GB"}
ADMIN_SUB = "a0a0a0a0-0000-4000-8000-00000000000a"
PARAMETERS = "/proof/"  # the scenario's parameters path
STRIPE_KEYS = {dm.STRIPE_SECRET_KEY: "sk_test_proof", dm.STRIPE_WEBHOOK_SECRET: "whsec_proof"}
PASSWORD = "Customer-pass-1!"

# (statement Sid prefix, action, resource fragment) -> why no handler call uses it.
NOT_CALLED_BY_HANDLERS: dict[tuple[str, str, str], str] = {
    ("OwnLogs", "*", ""): "the Lambda runtime writes the function's logs, not handler code",
    ("XRay", "*", ""): "the X-Ray daemon Lambda runs for active tracing sends the segments",
    ("VpcNetworkInterfaces", "*", ""): "the Lambda service creates and deletes the function's VPC ENIs with its role",
    ("VpcDescribe", "*", ""): "the Lambda service looks up subnets and ENIs when attaching the function to the VPC",
    ("StackKeyVia", "*", ""): "DynamoDB, SNS and SQS use the stack key on the caller's behalf (kms:ViaService)",
    ("QueueConsume", "sqs:GetQueueAttributes", ""): "the event source mapping reads the queue's attributes itself",
    ("EmailSend", "ses:SendEmail", ":configuration-set/"): "SES applies the identity's default configuration set",
    ("MediaWrite", "s3:PutObject", "/media/*"): "the admin's browser uploads with the POST form the function "
    "signs; S3 then authorises the upload as the function's role (tests/e2e/test_uploads.py uses the form)",
}


# ----------------------------------------------------------------------------- recording


@dataclass
class Recorder:
    where: Where
    calls: list[Call] = field(default_factory=list)

    def __call__(self, params: Any, model: Any, **_: Any) -> None:
        from functions.adapters.aws_clients import current_function

        function = current_function()
        if function is not None:
            self.calls.extend(iam_policy.calls_of(function, model, params, self.where))


@dataclass
class Scenario:
    calls: list[Call]
    driven: dict[str, list[int]]  # route key -> statuses
    local_arns: dict[str, str]  # logical name -> the scenario's ARN
    where: Where
    names: dict[str, str]


class Driver:
    """Calls the real API Gateway entrypoint with the events the HTTP API would send."""

    def __init__(self) -> None:
        self.driven: dict[str, list[int]] = {}

    def __call__(self, method: str, path: str, expect: int, *, who: dict | None = None, body: Any = None,
                 query: str = "", headers: dict | None = None) -> Any:  # fmt: skip
        from functions.runtimes import aws_http

        found = routes.match(method, path)
        assert found is not None, f"{method} {path} is no route"
        route, params = found
        event = http_event(
            method, route.path, path, path_params=params or None, query=query,
            body=None if body is None else json.dumps(body), jwt_claims=who, headers=headers,
        )  # fmt: skip
        result = aws_http.handler(event, None)
        self.driven.setdefault(route.route_key, []).append(result["statusCode"])
        assert result["statusCode"] == expect, f"{method} {path}: {result['statusCode']} {result.get('body')}"
        if not result.get("body"):
            return None
        is_json = "json" in (result.get("headers") or {}).get("content-type", "application/json")
        return json.loads(result["body"]) if is_json else result["body"]


def _resources(client) -> dict[str, str]:
    from functions.adapters.dynamodb_schema import create_table_kwargs

    client("dynamodb").create_table(**create_table_kwargs(dm.SHOP_TABLE, NAMES["table"]))
    sns, sqs = client("sns"), client("sqs")
    topic = sns.create_topic(Name=NAMES["topic_name"])["TopicArn"]
    queue = sqs.create_queue(QueueName=NAMES["queue_name"])["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    client("ses").verify_email_identity(EmailAddress=SENDER)
    client("s3").create_bucket(Bucket=NAMES["bucket"])
    idp = client("cognito-idp")
    pool = idp.create_user_pool(PoolName="proof", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"])[
        "UserPool"
    ]["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    app = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="storefront",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=pool, GroupName="admin")
    push = sns.create_platform_application(
        Name=NAMES["push_name"], Platform="GCM", Attributes={"PlatformCredential": "{}"}
    )["PlatformApplicationArn"]
    key = client("kms").create_key(Description="the proof's stack key")["KeyMetadata"]["KeyId"]
    for name, value in STRIPE_KEYS.items():
        client("ssm").put_parameter(Name=f"{PARAMETERS}{name}", Value=value, Type="SecureString", KeyId=key)
    return {
        **{name: f"{PARAMETERS}{name}" for name in dm.PAYMENT_SECRETS},
        "push_application": push,
        "table": NAMES["table"],
        "topic": topic,
        "queue": queue,
        "bucket": NAMES["bucket"],
        "pool": pool,
        "client": app,
    }


def _seed(table: str) -> None:
    from functions.adapters.dynamodb_store import DynamoDBStore
    from functions.shop.ports import Category, Product

    store = DynamoDBStore(table)
    store.put_category(Category("books", "Books"))
    for pid in ("p1", "p2", "p3", "p4", "p5"):
        store.create_product(Product(pid, f"Book {pid}", "A book", "books", 1000, "USD", 50))


def _sub(tokens: dict) -> str:
    import base64

    payload = tokens["accessToken"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


def _admin_signs_in_with_mfa(api: Driver, names: dict[str, str]) -> tuple[dict, dict]:
    """An admin's first sign-in: enrol an authenticator (MFA_SETUP), then answer the code
    challenge; the admin routes then re-check the caller with Cognito on every call."""
    from functions.adapters import totp
    from functions.adapters.aws_clients import acting_as, client

    email, password = "boss@example.com", "Admin-pass-1!"
    api("POST", "/api/auth/signup", 202, body={"email": email, "password": password})
    api("POST", "/api/auth/confirm", 200, body={"email": email, "code": "123456"})
    with acting_as(None):  # the operator's one-off step, not a function's call
        client("cognito-idp").admin_add_user_to_group(UserPoolId=names["pool"], Username=email, GroupName="admin")
    setup = api("POST", "/api/auth/login", 202, body={"email": email, "password": password})
    assert setup["challenge"] == "MFA_SETUP", setup
    session = {"authorization": f"Bearer {setup['session']}"}
    enrolling = claims(_sub({"accessToken": setup["session"]}))
    secret = api("POST", "/api/auth/mfa/setup", 200, who=enrolling, headers=session)
    api("POST", "/api/auth/mfa/verify", 200, who=enrolling, headers=session,
        body={"code": totp.code(secret["secretCode"]), "session": secret["session"]})  # fmt: skip
    challenge = api("POST", "/api/auth/login", 202, body={"email": email, "password": password})
    tokens = api("POST", "/api/auth/mfa", 200,
                 body={"email": email, "session": challenge["session"], "code": totp.code(secret["secretCode"])})  # fmt: skip
    return claims(_sub(tokens), "[admin]"), {"authorization": f"Bearer {tokens['accessToken']}"}


def _with_admin_bearer(api: Driver, admin: dict, bearer: dict) -> Any:
    """The driver, sending the admin's access token with every admin call (the re-check needs it)."""

    def call(*args: Any, **kw: Any) -> Any:
        if kw.get("who") is admin:
            kw["headers"] = {**bearer, **(kw.get("headers") or {})}
        return api(*args, **kw)

    call.driven = api.driven  # type: ignore[attr-defined]
    return call


def _ses_is_down(*_: Any, **__: Any) -> None:
    raise RuntimeError("SES is down")


def _register_devices(api: Driver, customer: dict, names: dict[str, str]) -> None:
    """Device registration; a second device whose SNS endpoint FCM has disabled since, so the
    notifications function's push deletes the endpoint and prunes the token."""
    from functions.adapters.aws_clients import acting_as, client

    device = {"token": "fcm-token-phone", "platform": "android"}
    api("POST", "/api/me/devices", 201, who=customer, body=device)
    api("POST", "/api/me/devices", 200, who=customer, body=device)  # refreshed
    api("POST", "/api/me/devices", 201, who=customer, body={"token": "fcm-token-old", "platform": "web"})
    api("DELETE", "/api/me/devices/fcm-token-old", 204, who=customer)
    api("POST", "/api/me/devices", 201, who=customer, body={"token": GONE_TOKEN, "platform": "ios"})
    listed = api("GET", "/api/me/devices", 200, who=customer)["items"]
    assert {d["token"] for d in listed} == {"fcm-token-phone", GONE_TOKEN}, listed
    with acting_as(None):  # what SNS does once FCM reports the token unregistered
        sns = client("sns")
        arn = sns.create_platform_endpoint(
            PlatformApplicationArn=names["push_application"], Token=GONE_TOKEN, CustomUserData=customer["sub"]
        )["EndpointArn"]
        sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})


def _pushed(names: dict[str, str], user: str) -> None:
    """Every order event went to the live device; the disabled one was deleted and pruned."""
    from functions.adapters.aws_clients import acting_as, client
    from functions.adapters.dynamodb_store import DynamoDBStore

    with acting_as(None):
        endpoints = client("sns").list_endpoints_by_platform_application(
            PlatformApplicationArn=names["push_application"]
        )["Endpoints"]
        devices = DynamoDBStore(names["table"]).list_devices(user)
    assert [e["Attributes"]["Token"] for e in endpoints] == ["fcm-token-phone"], endpoints
    assert [d.token for d in devices] == ["fcm-token-phone"], "the refused token was not pruned"


def _recorded_stripe(intent: dict) -> Any:
    """stripe.StripeClient answering every request with `intent` (what Stripe returns on creating it)."""
    import stripe

    class Recorded(stripe.HTTPClient):
        name = "recorded"

        def request(self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None) -> Any:
            assert (method, url) == ("post", "https://api.stripe.com/v1/payment_intents"), (method, url)
            return json.dumps(intent), 200, {"request-id": "req_proof"}

        def close(self) -> None:
            pass

    real = stripe.StripeClient
    return mock.patch.object(stripe, "StripeClient", lambda key, **kw: real(key, **{**kw, "http_client": Recorded()}))


def _pays_with_stripe(api: Driver, customer: dict, order: dict) -> None:
    import stripe

    intent = {"id": "pi_proof", "object": "payment_intent", "amount": order["total"], "currency": "usd",
              "status": "requires_payment_method", "client_secret": "pi_proof_secret_1", "last_payment_error": None,
              "metadata": {"orderId": order["orderId"], "userId": customer["sub"]}}  # fmt: skip
    with _recorded_stripe(intent):
        started = api("POST", f"/api/orders/{order['orderId']}/payment", 200, who=customer, body={})
    assert started["clientSecret"] == "pi_proof_secret_1" and started["orderStatus"] == "PLACED", started
    event = {"id": "evt_proof", "object": "event", "type": "payment_intent.succeeded",
             "data": {"object": {**intent, "status": "succeeded"}}}  # fmt: skip
    signature = stripe.WebhookSignature.generate_signature_header(
        json.dumps(event), STRIPE_KEYS[dm.STRIPE_WEBHOOK_SECRET]
    )
    paid = api("POST", "/api/payments/webhook", 200, body=event, headers={"stripe-signature": signature})
    replay = api("POST", "/api/payments/webhook", 200, body=event, headers={"stripe-signature": signature})
    assert (paid, replay) == ({"status": "paid"}, {"status": "already-paid"}), (paid, replay)
    assert api("GET", f"/api/orders/{order['orderId']}", 200, who=customer)["status"] == "PAID"


def _drive(api: Driver, names: dict[str, str]) -> None:
    from functions.adapters.aws_services import build_services

    # accounts: sign-up, confirmation, sign-in (server side), refresh, profile
    email = "ada@example.com"
    api("POST", "/api/auth/signup", 202, body={"email": email, "password": PASSWORD})
    api("POST", "/api/auth/confirm", 200, body={"email": email, "code": "123456"})
    from functions.adapters.aws_clients import acting_as, client

    with acting_as(None):  # what Cognito records once the e-mailed code proves the address (moto does not)
        client("cognito-idp").admin_update_user_attributes(
            UserPoolId=names["pool"], Username=email, UserAttributes=[{"Name": "email_verified", "Value": "true"}]
        )
    tokens = api("POST", "/api/auth/login", 200, body={"email": email, "password": PASSWORD})
    api("POST", "/api/auth/refresh", 200, body={"refreshToken": tokens["refreshToken"]})
    bearer = {"authorization": f"Bearer {tokens['accessToken']}"}
    user = api("GET", "/api/me", 200, who=claims(_sub(tokens)), headers=bearer)["userId"]
    customer = claims(user)  # access-token claims carry no e-mail: /api/me and the notifier look it up
    admin, admin_bearer = _admin_signs_in_with_mfa(api, names)
    api = _with_admin_bearer(api, admin, admin_bearer)
    _register_devices(api, customer, names)

    # catalog
    api("GET", "/api/health", 200)
    api("GET", "/api/openapi.json", 200)
    api("GET", "/api/categories", 200)
    api("GET", "/api/products", 200)
    api("GET", "/api/products", 200, query="category=books")
    api("GET", "/api/products", 200, query="q=book")
    for browse in ("sort=price&minPrice=100", "sort=-price&category=books", "sort=newest&inStock=true",
                   "sort=newest&category=books"):  # fmt: skip
        api("GET", "/api/products", 200, query=browse)
    api("GET", "/api/products/p1", 200)
    api("GET", "/api/sitemap.xml", 200, headers={"x-shop-site-host": "shop.example.com"})

    # admin: catalog (a new category joins the list), image upload
    product = {"name": "Chess set", "category": "games", "price": 2500, "currency": "USD", "stock": 10}
    api("POST", "/api/admin/products", 201, who=admin, body={**product, "productId": "chess"})
    api("PUT", "/api/admin/products/chess", 200, who=admin, body={**product, "description": "Wooden"})
    api("PUT", "/api/admin/products/chess/stock", 200, who=admin, body={"stock": 12})
    api("POST", "/api/admin/products/chess/image", 200, who=admin, body={"contentType": "image/png"})

    # cart
    api("PUT", "/api/cart/items/p1", 200, who=customer, body={"quantity": 2})
    api("PUT", "/api/cart/items/p2", 200, who=customer, body={"quantity": 1})
    api("GET", "/api/cart", 200, who=customer)
    api("DELETE", "/api/cart/items/p2", 200, who=customer)
    guest = [
        {"productId": "p1", "quantity": 1},
        {"productId": "p3", "quantity": 1},
        {"productId": "nope", "quantity": 1},
    ]
    api("POST", "/api/cart/merge", 200, who=customer, body={"items": guest})
    api("DELETE", "/api/cart", 200, who=customer)

    # orders: the fast path (cart snapshots verified in the transaction), then its replay
    def checkout(key: str, expect: int = 201) -> dict:
        return api("POST", "/api/orders", expect, who=customer, body={"shippingAddress": ADDRESS},
                   headers={"idempotency-key": key})  # fmt: skip

    api("PUT", "/api/cart/items/p1", 200, who=customer, body={"quantity": 1})
    first = checkout("k-1")
    checkout("k-1", 200)  # the cart is empty now: the replay finds the order by its key
    # the catalog moved since the cart was filled: the transaction fails, the read-then-write path orders
    api("PUT", "/api/cart/items/p2", 200, who=customer, body={"quantity": 1})
    api("PUT", "/api/admin/products/p2", 200, who=admin,
        body={"name": "Book p2", "category": "books", "price": 1200, "currency": "USD"})  # fmt: skip
    checkout("k-2")
    # a product deleted since: ordered without it, and its line dropped from the cart
    api("PUT", "/api/cart/items/p3", 200, who=customer, body={"quantity": 1})
    api("PUT", "/api/cart/items/chess", 200, who=customer, body={"quantity": 1})
    api("DELETE", "/api/admin/products/chess", 200, who=admin)
    checkout("k-3")
    api("GET", "/api/orders", 200, who=customer)
    api("GET", f"/api/orders/{first['orderId']}", 200, who=customer)
    api("POST", f"/api/orders/{first['orderId']}/cancel", 200, who=customer)
    # cancellations that return stock to a product deleted since the order
    for key, pid in (("k-4", "p4"), ("k-5", "p5")):
        api("PUT", f"/api/cart/items/{pid}", 200, who=customer, body={"quantity": 1})
        api("PUT", "/api/cart/items/p1", 200, who=customer, body={"quantity": 1})
        order = checkout(key)
        api("DELETE", f"/api/admin/products/{pid}", 200, who=admin)
        if pid == "p4":
            api("POST", f"/api/orders/{order['orderId']}/cancel", 200, who=customer)
        else:
            api("PUT", f"/api/admin/orders/{order['orderId']}/status", 200, who=admin, body={"status": "CANCELLED"})

    # paying with Stripe (recorded HTTP responses): the orders function reads Stripe's keys from
    # Parameter Store on its first payment call; the webhook, signed with Stripe's own signing,
    # marks the order PAID once, and its replay finds it paid
    api("PUT", "/api/cart/items/p1", 200, who=customer, body={"quantity": 1})
    _pays_with_stripe(api, customer, checkout("k-pay"))

    # admin: orders by status, a status change
    api("GET", "/api/admin/orders", 200, who=admin, query="status=PLACED")
    placed = api("GET", "/api/admin/orders", 200, who=admin, query="status=PLACED")["items"][0]
    api("PUT", f"/api/admin/orders/{placed['orderId']}/status", 200, who=admin, body={"status": "PAID"})

    # expiry: the schedule's run, with an expiry short enough that the unpaid orders above are
    # past it; one of them is paid between the listing and its cancel (the lost compare-and-set
    # reads the order and its products back)
    from functions.adapters.aws_clients import acting_as
    from functions.runtimes import aws_expiry
    from functions.shop.expiry import EXPIRY_HOURS_SETTING

    api("PUT", "/api/cart/items/p1", 200, who=customer, body={"quantity": 1})
    checkout("k-unpaid")  # one more unpaid order, so the run both cancels and finds one paid
    store = build_services().store
    listed = store.list_orders_by_status

    def listed_then_one_paid(status: str, *, limit: int, cursor: str | None) -> Any:
        page = listed(status, limit=limit, cursor=cursor)
        if page.items:
            with acting_as("admin"):
                store.transition_order(page.items[-1], "PAID", restock=False)
        return page

    with (
        mock.patch.dict(os.environ, {EXPIRY_HOURS_SETTING: "0.000001"}),
        mock.patch.object(store, "list_orders_by_status", listed_then_one_paid),
    ):
        ran = aws_expiry.handler({"source": "aws.scheduler"}, None)
    assert ran["cancelled"] >= 1 and ran["leftAlone"] == 1, f"the expiry run left its grants unproven: {ran}"

    # notifications: what the SQS event source mapping does with the function's role
    from functions.adapters.aws_clients import acting_as, client
    from functions.runtimes import aws_notifications

    sqs, handled, delivered = client("sqs"), 0, ""
    while True:
        with acting_as("notifications"):
            messages = sqs.receive_message(QueueUrl=names["queue"], MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        records = [sqs_record(m["Body"], m["MessageId"]) for m in messages]
        delivered = delivered or records[0]["body"]
        assert aws_notifications.handler({"Records": records}, None) == {"batchItemFailures": []}
        for m in messages:
            with acting_as("notifications"):
                sqs.delete_message(QueueUrl=names["queue"], ReceiptHandle=m["ReceiptHandle"])
        handled += len(messages)
    assert handled >= 6, f"only {handled} order events reached the notifications function"
    _pushed(names, user)
    # at-least-once delivery: a second copy of a delivered event finds it done (read)...
    copy = sqs_record(delivered, "a-second-copy-of-a-delivered-event")
    assert aws_notifications.handler({"Records": [copy]}, None) == {"batchItemFailures": []}
    # ...and a send that fails gives its claim back for the redelivery (delete)
    from functions.adapters.aws_notifier import SnsSesNotifier

    unsent = json.loads(delivered)
    unsent["status"] = "SHIPPED"  # another event of the same order: not processed yet
    real_send, SnsSesNotifier.send_email = SnsSesNotifier.send_email, _ses_is_down
    try:
        failed = aws_notifications.handler({"Records": [sqs_record(json.dumps(unsent), "m-ses-down")]}, None)
    finally:
        SnsSesNotifier.send_email = real_send
    assert failed == {"batchItemFailures": [{"itemIdentifier": "m-ses-down"}]}, failed
    assert build_services().identity.lookup_email(user) == email
    api("POST", "/api/auth/signout", 200, who=customer, headers=bearer)


@pytest.fixture(scope="module")
def scenario() -> Iterator[Scenario]:
    from moto import mock_aws

    from functions.adapters import aws_clients, aws_services

    saved_env = dict(os.environ)
    # A local stack of another suite may be enforcing its own resources: set it aside whole
    # (its hook and its policies), so this scenario's enforcement is its own.
    saved_hooks, saved_policies = list(aws_clients._hooks), dict(iam_policy._enforcer.policies)
    aws_clients._hooks.clear()
    iam_policy._enforcer.policies.clear()
    for k in ("AWS_ENDPOINT_URL", "SHOP_LOCAL_AUTO_CONFIRM", "SHOP_S3_PRESIGN_ENDPOINT", "SHOP_SES_CONFIGURATION_SET"):
        os.environ.pop(k, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION,
                      AWS_REGION=REGION)  # fmt: skip
    aws_clients.reset()
    aws_services.reset()
    where = Where(REGION, iam_policy.LOCAL_ACCOUNT, {NAMES["table"]: dm.SHOP_TABLE})
    recorder = Recorder(where)
    try:
        with mock_aws():
            names = _resources(aws_clients.client)
            _seed(names["table"])
            os.environ.update({
                dm.ENV_TABLE: names["table"], dm.ENV_TOPIC: names["topic"], dm.ENV_BUCKET: names["bucket"],
                dm.ENV_MEDIA_BASE_URL: "https://shop.example.com/media/", dm.ENV_SENDER: SENDER,
                dm.ENV_USER_POOL: names["pool"], dm.ENV_USER_POOL_CLIENT: names["client"], dm.ENV_CURRENCY: "USD",
                dm.AwsSettingNames.PUSH_APPLICATION_ARN: names["push_application"],
                **{dm.AwsSettingNames.PAYMENT_PARAMETERS[n]: names[n] for n in dm.PAYMENT_SECRETS},
            })  # fmt: skip
            aws_clients.add_hook(iam_policy.HOOK_EVENT, recorder)
            iam_policy.enforce(id(recorder), names, SENDER, where)  # the local stack's check, on the same calls
            api = Driver()
            try:
                _drive(api, names)
            finally:
                iam_policy.release(id(recorder))
                aws_clients.remove_hook(iam_policy.HOOK_EVENT, recorder)
            local_arns = {
                "table": where.arn("dynamodb", f"table/{names['table']}"),
                "topic": names["topic"],
                "queue": where.arn("sqs", NAMES["queue_name"]),
                "pool": where.arn("cognito-idp", f"userpool/{names['pool']}"),
                "identity": where.arn("ses", f"identity/{SENDER}"),
                "bucket": f"arn:aws:s3:::{names['bucket']}",
                "push": names["push_application"],
                "push_endpoints": names["push_application"].replace(":app/", ":endpoint/"),
                "key": where.key_arn,
                "ssm": f"ssm.{REGION}.amazonaws.com",
                **{n: iam_policy.parameter_arn(names[n], where) for n in dm.PAYMENT_SECRETS},
            }
            yield Scenario(recorder.calls, api.driven, local_arns, where, names)
    finally:
        aws_clients.reset()
        aws_services.reset()
        aws_clients._hooks[:] = saved_hooks
        iam_policy._enforcer.policies.update(saved_policies)
        os.environ.clear()
        os.environ.update(saved_env)


# ----------------------------------------------------------------------------- the stack's side


def _deployed_arns(stack: BuiltStack) -> dict[str, str]:
    push = stack.one("aws:sns/platformApplication:PlatformApplication").outputs["arn"]
    return {
        "table": stack.one("aws:dynamodb/table:Table").outputs["arn"],
        "topic": stack.one("aws:sns/topic:Topic", dm.ORDER_EVENTS_TOPIC).outputs["arn"],
        "queue": stack.one("aws:sqs/queue:Queue", dm.NOTIFICATIONS_QUEUE).outputs["arn"],
        "pool": stack.one("aws:cognito/userPool:UserPool").outputs["arn"],
        "identity": stack.one("aws:sesv2/emailIdentity:EmailIdentity").outputs["arn"],
        "bucket": stack.one("aws:s3/bucket:Bucket", "site").outputs["arn"],
        "push": push,
        "push_endpoints": push.replace(":app/", ":endpoint/"),
        "key": stack.one("aws:kms/key:Key", "stack-key").outputs["arn"],
        "ssm": f"ssm.{stack.config['region']}.amazonaws.com",  # kms:ViaService
        **{n: stack.one("aws:ssm/parameter:Parameter", n).outputs["arn"] for n in dm.PAYMENT_SECRETS},
    }


def _as_deployed(calls: list[Call], local: dict[str, str], deployed: dict[str, str]) -> list[Call]:
    """The same calls, on the deployed stack's resources (the scenario's names and region differ),
    condition keys naming them included (kms:ViaService, kms:EncryptionContext:PARAMETER_ARN)."""

    def arn(resource: str) -> str:
        for name, prefix in local.items():
            if resource == prefix or resource.startswith(prefix + "/"):
                return deployed[name] + resource[len(prefix) :]
        return resource

    return [
        replace(c, resource=arn(c.resource), context=tuple((key, arn(value)) for key, value in c.context))
        for c in calls
    ]


def _policy(stack: BuiltStack, service: str) -> dict:
    return stack.one("aws:iam/rolePolicy:RolePolicy", f"{service}-grants").policy()


def _list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def _explained(sid: str, action: str, resource: str) -> str | None:
    for (sid_prefix, act, fragment), why in NOT_CALLED_BY_HANDLERS.items():
        if sid.startswith(sid_prefix) and act in ("*", action) and fragment in resource:
            return why
    return None


def _grants_of(policy: dict) -> Iterator[tuple[dict, str, str, str | None]]:
    """(statement, action, resource, leading-key pattern or None) for everything a policy grants."""
    for st in policy["Statement"]:
        patterns = (st.get("Condition") or {}).get("ForAllValues:StringLike", {}).get(iam_policy.LEADING_KEYS_KEY)
        for action in _list(st["Action"]):
            for resource in _list(st["Resource"]):
                for pattern in patterns or [None]:
                    yield st, action, resource, pattern


# ----------------------------------------------------------------------------- the proof


def test_the_scenario_drives_every_route_of_the_api(scenario: Scenario):
    missing = sorted(r.route_key for r in routes.ROUTES if r.route_key not in scenario.driven)
    assert not missing, f"routes the least-privilege scenario never calls: {missing}"
    assert {c.function for c in scenario.calls} == {s.name for s in dm.SERVICES}, "every function made IAM calls"


@pytest.mark.parametrize("service", [s.name for s in dm.SERVICES])
def test_every_call_a_function_makes_is_allowed_by_its_deployed_policy(dev: BuiltStack, scenario: Scenario,
                                                                       service: str):  # fmt: skip
    policy = _policy(dev, service)
    calls = _as_deployed([c for c in scenario.calls if c.function == service], scenario.local_arns, _deployed_arns(dev))
    denied = sorted({(c.action, c.resource, c.leading_keys) for c in calls if not iam_policy.allowed(policy, c)})
    assert not denied, f"{service}: calls its role would refuse with AccessDenied after deploy: {denied[:5]}"


@pytest.mark.parametrize("service", [s.name for s in dm.SERVICES])
def test_every_grant_is_used_by_a_recorded_call_or_explained(dev: BuiltStack, scenario: Scenario, service: str):
    policy = _policy(dev, service)
    calls = _as_deployed([c for c in scenario.calls if c.function == service], scenario.local_arns, _deployed_arns(dev))
    unused, stale = [], []
    for st, action, resource, pattern in _grants_of(policy):
        used = any(
            c.action == action
            and iam_policy.statement_allows({**st, "Action": action, "Resource": resource}, c)
            and (pattern is None or any(iam_policy.like(pattern, k) for k in c.leading_keys))
            for c in calls
        )
        why = _explained(st["Sid"], action, resource)
        if not used and why is None:
            unused.append((st["Sid"], action, resource, pattern))
        if used and why is not None:
            stale.append((st["Sid"], action, resource))
    assert not unused, f"{service}: granted but never called (remove it, or say why): {unused}"
    assert not stale, f"{service}: explained as not called by handlers, but recorded: {stale}"


def test_the_local_stack_refuses_what_a_function_was_not_granted(scenario: Scenario):
    """Under the scenario's emulator and resources, with the local stack's check on."""
    from botocore.exceptions import ClientError

    from functions.adapters import aws_clients
    from functions.adapters.dynamodb_store import DynamoDBStore

    names = scenario.names
    iam_policy.enforce(id(scenario), names, SENDER, scenario.where)
    try:
        store = DynamoDBStore(names["table"])
        with aws_clients.acting_as("cart"):
            assert store.get_cart("u-1") == []  # granted: the customer items
        idp = aws_clients.client("cognito-idp")
        refused = {
            "catalog reads a cart": ("catalog", lambda: store.get_cart("u-1")),
            "catalog reads an order": ("catalog", lambda: store.get_order("u-1", "o-1")),
            "catalog writes a product": ("catalog", lambda: store.set_stock("p1", 1)),
            "cart queries an index": ("cart", lambda: store.find_order("o-1")),
            "orders writes the catalog": ("orders", lambda: store.create_product(_product())),
            "notifications reads the table": ("notifications", lambda: store.get_product("p1")),
            "notifications lists users": ("notifications", lambda: idp.list_users(UserPoolId=names["pool"])),
        }
        for what, (function, call) in refused.items():
            with aws_clients.acting_as(function), pytest.raises(ClientError) as denied:
                call()
            assert denied.value.response["Error"]["Code"] == "AccessDeniedException", what
            assert f"'{function}' function's role does not allow" in str(denied.value), what
    finally:
        iam_policy.release(id(scenario))


def _product():
    from functions.shop.ports import Product

    return Product("p9", "Book", "", "books", 100, "USD", 1)
