"""Each cloud's build_services gives the orders function Stripe when the stack takes cards, and
nothing (the payment routes answer 503) otherwise. On AWS the keys are read from Parameter
Store on the first payment call only, once per container; cold starts of every other route
never touch SSM."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from functions.adapters import aws_clients, aws_services, azure_services, gcp_services
from functions.adapters.stripe_payments import StripeProcessor
from functions.shop import datamodel as dm
from tests.fakes.firestore import FakeFirestoreClient
from tests.on_azure.test_azure_services import SETTINGS as AZURE_SETTINGS
from tests.on_azure.test_azure_services import FakeCosmosClient
from tests.on_gcp.test_gcp_services import ENV as GCP_ENV

KEYS = {dm.STRIPE_SECRET_KEY: "sk_test_runtime", dm.STRIPE_WEBHOOK_SECRET: "whsec_runtime"}
VALUES = {dm.PaymentSettingNames.BY_SECRET[name]: value for name, value in KEYS.items()}


def _credentials(processor: Any) -> tuple[str, str]:
    assert isinstance(processor, StripeProcessor), processor
    return processor._read()


@pytest.mark.parametrize("takes_cards", [True, False], ids=["stripe", "no-cards"])
def test_azure_orders_gets_stripe_from_its_key_vault_references(monkeypatch, takes_cards: bool):
    for k, v in {**AZURE_SETTINGS, **(VALUES if takes_cards else {})}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("azure.cosmos.CosmosClient", FakeCosmosClient)
    payments = azure_services.build_services().payments
    if takes_cards:
        assert _credentials(payments) == tuple(KEYS.values())
    else:
        assert payments is None, "no Stripe settings: the payment routes answer 503"


@pytest.mark.parametrize("takes_cards", [True, False], ids=["stripe", "no-cards"])
def test_gcp_orders_gets_stripe_from_its_secret_manager_mounts(monkeypatch, takes_cards: bool):
    for k, v in {**GCP_ENV, **(VALUES if takes_cards else {})}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(gcp_services, "firestore_client", lambda: FakeFirestoreClient(dm.FIRESTORE_INDEXES))
    payments = gcp_services.build_services().payments
    if takes_cards:
        assert _credentials(payments) == tuple(KEYS.values())
    else:
        assert payments is None


def test_one_stripe_secret_without_the_other_is_no_processor(monkeypatch):
    from functions.adapters.stripe_payments import from_settings

    assert from_settings({dm.PaymentSettingNames.SECRET_KEY: "sk_test_runtime"}) is None


# -- AWS ----------------------------------------------------------------------------------------


@pytest.fixture
def ssm() -> Iterator[list[str]]:
    """Moto with Stripe's keys as SecureString parameters; yields the parameter names each
    GetParameter asked for."""
    from moto import mock_aws

    asked: list[str] = []

    def record(params: Any, model: Any, **_: Any) -> None:
        if model.name == "GetParameter":
            asked.append(params["Name"])

    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           dm.ENV_TABLE: "shop", **{dm.AwsSettingNames.PAYMENT_PARAMETERS[n]: f"/shop/test/{n}" for n in KEYS}}  # fmt: skip
    with mock.patch.dict(os.environ, env), mock_aws():
        aws_clients.reset()
        aws_services.reset()
        key = aws_clients.client("kms").create_key()["KeyMetadata"]["KeyId"]
        for name, value in KEYS.items():
            aws_clients.client("ssm").put_parameter(
                Name=f"/shop/test/{name}", Value=value, Type="SecureString", KeyId=key
            )
        aws_clients.add_hook("before-parameter-build.ssm", record)
        try:
            yield asked
        finally:
            aws_clients.remove_hook("before-parameter-build.ssm", record)
            aws_clients.reset()
            aws_services.reset()


def test_aws_reads_the_keys_on_the_first_payment_call_once_per_container(ssm: list[str]):
    payments = aws_services.build_services().payments
    assert isinstance(payments, StripeProcessor)
    assert ssm == [], "building the services (every route's cold start) reads no parameter"
    assert _credentials(payments) == tuple(KEYS.values())
    assert _credentials(payments) == tuple(KEYS.values())
    assert sorted(ssm) == sorted(f"/shop/test/{n}" for n in KEYS), "each parameter read once, decrypted"


def test_aws_stripe_client_uses_the_secret_key_from_parameter_store(ssm: list[str]):
    import stripe

    made: list[str] = []
    payments = aws_services.build_services().payments
    assert isinstance(payments, StripeProcessor)
    with mock.patch.object(stripe, "StripeClient", lambda key, **_: made.append(key) or object()):
        payments.client  # noqa: B018 - the first payment call makes the client
    assert made == [KEYS[dm.STRIPE_SECRET_KEY]]


def test_aws_functions_without_the_parameter_names_take_no_cards(monkeypatch):
    for name in dm.AwsSettingNames.PAYMENT_PARAMETERS.values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(dm.ENV_TABLE, "shop")
    aws_services.reset()
    try:
        assert aws_services.build_services().payments is None
    finally:
        aws_services.reset()
