"""Mobile push on AWS: the SNS platform application from shop:fcmCredentials, and nothing without it."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, parse_stack_config
from functions.shop import datamodel as dm

from .conftest import DEV_CONFIG, FCM_CREDENTIALS, BuiltStack, build_stack

PUSH_SIDS = ("PushSendEndpoints", "PushSendToEndpoints")
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc's special-value signature key


def _statements(stack: BuiltStack, service: str) -> dict[str, dict]:
    doc = stack.one("aws:iam/rolePolicy:RolePolicy", f"{service}-grants").policy()
    return {st["Sid"]: st for st in doc["Statement"]}


def test_the_platform_application_is_fcm_with_the_configured_key(any_stack: BuiltStack):
    app = any_stack.one("aws:sns/platformApplication:PlatformApplication", "push")
    notifications = any_stack.one("aws:lambda/function:Function", "notifications")
    prefix = notifications.inputs["name"].removesuffix("-notifications")  # the stack's name prefix
    assert app.inputs["platform"] == "GCM", "FCM is SNS platform GCM"
    assert app.inputs["name"] == f"{prefix}-push"
    # the service-account key, as configured, and a secret in the state (Pulumi's secret signature)
    assert app.inputs["platformCredential"] == {
        SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270",
        "value": FCM_CREDENTIALS,
    }
    env = notifications.inputs["environment"]["variables"]
    assert env[dm.AwsSettingNames.PUSH_APPLICATION_ARN] == app.outputs["arn"]


def test_only_the_notifications_role_may_push_and_only_on_its_application(any_stack: BuiltStack):
    arn = any_stack.one("aws:sns/platformApplication:PlatformApplication", "push").outputs["arn"]
    endpoints = arn.replace(":app/GCM/", ":endpoint/GCM/") + "/*"
    st = _statements(any_stack, "notifications")
    assert {k: (v["Action"], v["Resource"]) for k, v in st.items() if k in PUSH_SIDS} == {
        "PushSendEndpoints": (["sns:CreatePlatformEndpoint"], [arn]),
        "PushSendToEndpoints": (["sns:DeleteEndpoint", "sns:Publish"], [endpoints]),
    }
    for service in (s.name for s in dm.SERVICES if s.name != "notifications"):
        granted = {a for v in _statements(any_stack, service).values() for a in v["Action"]}
        assert not granted & {"sns:CreatePlatformEndpoint", "sns:DeleteEndpoint"}, service
        resources = {r for v in _statements(any_stack, service).values() for r in v["Resource"]}
        assert not {r for r in resources if ":endpoint/" in r or ":app/" in r}, service


def test_without_fcm_credentials_there_is_no_platform_application_and_no_push():
    config = {k: v for k, v in DEV_CONFIG.items() if k != "fcmCredentials"}
    stack = build_stack(config, "no-push")
    assert not stack.of_type("aws:sns/platformApplication:PlatformApplication")
    env = stack.one("aws:lambda/function:Function", "notifications").inputs["environment"]["variables"]
    assert dm.AwsSettingNames.PUSH_APPLICATION_ARN not in env, "no push channel: the function sends e-mail only"
    assert not {sid for sid in _statements(stack, "notifications") if sid.startswith("PushSend")}


@pytest.mark.parametrize(
    "bad",
    [
        "AAAA-legacy-server-key",  # FCM's legacy server keys stopped working in 2024
        json.dumps({"type": "authorized_user", "client_id": "x"}),
        json.dumps({"type": "service_account", "project_id": "p", "client_email": "a@b.c"}),  # no private_key
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "client_email": "me@example.com",
                "private_key": "-----BEGIN PRIVATE KEY-----s3cr3t",
            }
        ),  # not a service account's e-mail
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "client_email": "a@p.iam.gserviceaccount.com",
                "private_key": "s3cr3t",
            }
        ),  # not a PEM key
    ],
)
def test_a_wrong_fcm_key_fails_the_preview_naming_the_key_never_the_value(bad: str):
    with pytest.raises(ConfigError) as err:
        parse_stack_config({**DEV_CONFIG, "fcmCredentials": bad})
    message = str(err.value)
    assert "shop:fcmCredentials must be a Firebase service-account key" in message, message
    assert "pulumi config set shop:fcmCredentials --secret < firebase-service-account.json" in message, message
    assert bad not in message and "<secret>" in message, "the secret's value must never be printed"


def test_an_empty_fcm_key_means_no_push():
    assert parse_stack_config({**DEV_CONFIG, "fcmCredentials": ""}).fcm_credentials is None
