"""SNS mobile push (functions/adapters/sns_push.py) against moto: what SNS received."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from functions.adapters.sns_push import SnsPushSender
from functions.shop.push import Device, PushOutcome

REGION = "eu-west-1"
DATA = {"type": "OrderStatusChanged", "orderId": "o1", "status": "SHIPPED", "userId": "u1"}


@pytest.fixture
def sns(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("sns", region_name=REGION)
        calls: list[tuple[str, dict]] = []
        client.meta.events.register(
            "provide-client-params.sns.*", lambda params, model, **_: calls.append((model.name, dict(params)))
        )
        app = client.create_platform_application(
            Name="shop-push", Platform="GCM", Attributes={"PlatformCredential": "{}"}
        )["PlatformApplicationArn"]
        yield client, app, calls


def backend():
    return sns_backends[DEFAULT_ACCOUNT_ID][REGION]


def devices(*tokens: str) -> list[Device]:
    return [Device(t, "android", "2026-01-01T00:00:00.000Z") for t in tokens]


def test_each_device_gets_one_endpoint_and_an_fcm_v1_message(sns):
    client, app, calls = sns
    outcome = SnsPushSender(app, client).push(
        devices("tok-a", "tok-b"), "Your order o1 has shipped", "Order o1: shipped", DATA
    )
    assert (outcome.delivered, outcome.invalid_tokens) == (2, ())
    endpoints = {e.token: e for e in backend().platform_endpoints.values()}
    assert set(endpoints) == {"tok-a", "tok-b"} and all(e.custom_user_data == "u1" for e in endpoints.values())
    (message,) = endpoints["tok-a"].messages.values()
    sent = json.loads(message)
    assert sent["default"] == "Order o1: shipped"
    assert json.loads(sent["GCM"]) == {
        "fcmV1Message": {
            "message": {
                "notification": {"title": "Your order o1 has shipped", "body": "Order o1: shipped"},
                "data": DATA,
            }
        }
    }
    assert [name for name, _ in calls] == [
        "CreatePlatformApplication",
        "CreatePlatformEndpoint",
        "Publish",
        "CreatePlatformEndpoint",
        "Publish",
    ]
    publish = calls[2][1]
    assert publish["MessageStructure"] == "json" and publish["TargetArn"] == endpoints["tok-a"].arn
    assert calls[1][1] == {"PlatformApplicationArn": app, "Token": "tok-a", "CustomUserData": "u1"}


def test_the_same_token_reuses_its_endpoint(sns):
    client, app, _ = sns
    sender = SnsPushSender(app, client)
    sender.push(devices("tok-a"), "t", "b", DATA)
    sender.push(devices("tok-a"), "t", "b", DATA)
    (endpoint,) = backend().platform_endpoints.values()
    assert len(endpoint.messages) == 2, "one endpoint per token, both messages on it"


def test_a_disabled_endpoint_is_an_invalid_token_and_is_deleted(sns):
    client, app, calls = sns
    arn = client.create_platform_endpoint(PlatformApplicationArn=app, Token="gone", CustomUserData="u1")["EndpointArn"]
    client.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    calls.clear()
    outcome = SnsPushSender(app, client).push(devices("gone", "alive"), "t", "b", DATA)
    assert (outcome.delivered, outcome.invalid_tokens) == (1, ("gone",))
    assert [name for name, _ in calls] == [
        "CreatePlatformEndpoint",  # SNS: exists with other attributes (disabled), named in the error
        "Publish",  # EndpointDisabled
        "DeleteEndpoint",
        "CreatePlatformEndpoint",
        "Publish",
    ]
    assert calls[2] == ("DeleteEndpoint", {"EndpointArn": arn})
    assert {e.token for e in backend().platform_endpoints.values()} == {"alive"}


def test_an_endpoint_left_by_another_customer_is_reused(sns):
    client, app, calls = sns
    old = client.create_platform_endpoint(PlatformApplicationArn=app, Token="shared", CustomUserData="u0")
    calls.clear()
    outcome = SnsPushSender(app, client).push(devices("shared"), "t", "b", DATA)
    assert outcome == PushOutcome(delivered=1)
    assert [name for name, _ in calls] == ["CreatePlatformEndpoint", "Publish"]
    assert calls[1][1]["TargetArn"] == old["EndpointArn"], "SNS named the existing endpoint: publish to it"
    (endpoint,) = backend().platform_endpoints.values()
    assert len(endpoint.messages) == 1


def test_a_token_sns_refuses_is_invalid(sns):
    client, app, _ = sns
    from unittest import mock

    from botocore.exceptions import ClientError

    refused = ClientError(
        {"Error": {"Code": "InvalidParameter", "Message": "Invalid parameter: Token"}}, "CreatePlatformEndpoint"
    )
    with mock.patch.object(client, "create_platform_endpoint", side_effect=refused):
        outcome = SnsPushSender(app, client).push(devices("bad"), "t", "b", DATA)
    assert (outcome.delivered, outcome.invalid_tokens) == (0, ("bad",))


def test_sns_not_answering_is_raised(sns):
    client, app, _ = sns
    from unittest import mock

    from botocore.exceptions import ClientError

    down = ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "Publish")
    with mock.patch.object(client, "publish", side_effect=down), pytest.raises(ClientError):
        SnsPushSender(app, client).push(devices("tok"), "t", "b", DATA)
