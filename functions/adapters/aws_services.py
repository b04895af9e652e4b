"""Services for the AWS functions, wired from the environment once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping

from functions.shop import datamodel as dm
from functions.shop.ports import PaymentProcessor
from functions.shop.push import PushSender
from functions.shop.services import Services

_services: Services | None = None


def build_services() -> Services:
    global _services
    if _services is None:
        from .aws_notifier import SnsSesNotifier
        from .cognito_identity import CognitoIdentity
        from .dynamodb_processed_events import DynamoDBProcessedEvents
        from .dynamodb_store import DynamoDBStore
        from .s3_media import S3Media

        env = os.environ
        _services = Services(
            store=DynamoDBStore(env[dm.ENV_TABLE]),
            notifier=SnsSesNotifier(
                env.get(dm.ENV_TOPIC, ""), env.get(dm.ENV_SENDER, ""), env.get("SHOP_SES_CONFIGURATION_SET") or None
            ),
            identity=CognitoIdentity(
                env.get(dm.ENV_USER_POOL, ""),
                env.get(dm.ENV_USER_POOL_CLIENT, ""),
                auto_confirm=env.get("SHOP_LOCAL_AUTO_CONFIRM") == "1",
            ),
            media=S3Media(
                env.get(dm.ENV_BUCKET, ""),
                env.get(dm.ENV_MEDIA_BASE_URL, "/media/"),
                env.get("SHOP_S3_PRESIGN_ENDPOINT") or None,
            ),
            currency=env.get(dm.ENV_CURRENCY, "USD"),
            processed_events=DynamoDBProcessedEvents(env[dm.ENV_TABLE]),
            push=_push_sender(env.get(dm.AwsSettingNames.PUSH_APPLICATION_ARN, "")),
            payments=_payments(env),
        )
    return _services


def _payments(env: Mapping[str, str]) -> PaymentProcessor | None:
    """Stripe when the function has its keys' parameter names (the orders function of a stack
    taking cards); the values are read from Parameter Store on the first payment call."""
    names = [env.get(dm.AwsSettingNames.PAYMENT_PARAMETERS[name], "") for name in dm.PAYMENT_SECRETS]
    if not all(names):
        return None
    from .stripe_payments import StripeProcessor

    def read() -> tuple[str, str]:
        key, signing = (_secure_parameter(name) for name in names)
        return key, signing

    return StripeProcessor.reading(read)


def _secure_parameter(name: str) -> str:
    from .aws_clients import client

    return str(client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


def _push_sender(application_arn: str) -> PushSender | None:
    """SNS mobile push when the stack has a platform application (shop:fcmCredentials set)."""
    if not application_arn:
        return None
    from .sns_push import SnsPushSender

    return SnsPushSender(application_arn)


def reset() -> None:
    global _services
    _services = None
