"""build_services() wires every Azure adapter from the app settings the infrastructure
sets (datamodel.ENV_*), with managed identity (or the emulator key) for Cosmos DB."""

from __future__ import annotations

import pytest

from functions.adapters import azure_services
from functions.adapters.azure_auth import ManagedIdentityCredential
from functions.adapters.azure_identity import EntraIdentity
from functions.adapters.azure_media import AzureBlobMedia
from functions.adapters.azure_notifier import AzureNotifier
from functions.adapters.cosmos_store import CosmosStore
from functions.shop import datamodel as dm

SETTINGS = {
    dm.AzureSettingNames.COSMOS_ENDPOINT: "https://shop.documents.azure.com:443/",
    dm.AzureSettingNames.COSMOS_DATABASE: "shopdb",
    dm.ENV_TABLE: "shop",
    dm.AzureSettingNames.SERVICEBUS_NAMESPACE: "shop.servicebus.windows.net",
    dm.ENV_TOPIC: "order-events",
    dm.AzureSettingNames.EMAIL_ENDPOINT: "https://shop.communication.azure.com",
    dm.ENV_SENDER: "DoNotReply@shop.example",
    dm.AzureSettingNames.IDENTITY_AUTHORITY: "https://shop.ciamlogin.com/tid",
    dm.AzureSettingNames.IDENTITY_TENANT_DOMAIN: "shop.onmicrosoft.com",
    dm.ENV_USER_POOL_CLIENT: "spa-client",
    dm.AzureSettingNames.STORAGE_ACCOUNT: "shopsite",
    dm.ENV_MEDIA_BASE_URL: "https://cdn.shop",
    dm.ENV_CURRENCY: "EUR",
}


class FakeCosmosClient:
    made = []

    def __init__(self, url, credential):
        FakeCosmosClient.made.append((url, credential))

    def get_database_client(self, name):
        self.db = name
        return self

    def get_container_client(self, name):
        return ("container", self.db, name)


@pytest.fixture
def settings(monkeypatch):
    for k, v in SETTINGS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("azure.cosmos.CosmosClient", FakeCosmosClient)
    FakeCosmosClient.made = []


def test_build_services_from_app_settings(settings):
    s = azure_services.build_services()
    assert not FakeCosmosClient.made, "Cosmos DB is connected on first use, not with the services"
    assert isinstance(s.store, CosmosStore) and s.store._c.resolve() == ("container", "shopdb", "shop")
    url, credential = FakeCosmosClient.made[0]
    assert url == SETTINGS[dm.AzureSettingNames.COSMOS_ENDPOINT] and isinstance(credential, ManagedIdentityCredential)
    assert isinstance(s.notifier, AzureNotifier) and isinstance(s.identity, EntraIdentity)
    assert isinstance(s.media, AzureBlobMedia) and s.currency == "EUR"


def test_the_emulator_key_switches_cosmos_to_key_auth(settings, monkeypatch):
    monkeypatch.setenv(dm.AzureSettingNames.COSMOS_KEY, "emulator-key")
    azure_services.build_services().store._c.resolve()
    assert FakeCosmosClient.made[0][1] == "emulator-key"


def test_a_missing_setting_is_named(settings, monkeypatch):
    monkeypatch.delenv(dm.AzureSettingNames.SERVICEBUS_NAMESPACE)
    with pytest.raises(RuntimeError, match=dm.AzureSettingNames.SERVICEBUS_NAMESPACE):
        azure_services.build_services()


def test_health_answers_while_cosmos_is_unreachable(settings, monkeypatch):
    import azure.functions as func

    from functions.runtimes import azure_http

    class Unreachable:
        def __init__(self, url, credential):
            raise ConnectionError(f"{url} unreachable")  # what CosmosClient's constructor does then

    monkeypatch.setattr("azure.cosmos.CosmosClient", Unreachable)
    req = func.HttpRequest("GET", "/api/health", headers={}, params={}, route_params={"path": "health"}, body=b"")
    resp = azure_http.handle_http(req, services_factory=azure_services.build_services)
    assert resp.status_code == 200, resp.get_body()
    assert b'"status":"ok"' in resp.get_body().replace(b" ", b"")


def test_push_goes_through_the_notification_hub_when_its_key_is_set(settings, monkeypatch):
    from functions.adapters.notification_hubs_push import HubConnection, NotificationHubsPushSender

    assert azure_services.build_services().push is None, "no hub settings: no push sender"
    monkeypatch.setenv(dm.AzureSettingNames.NOTIFICATION_HUB, "shop-nh.servicebus.windows.net/hub-orders")
    assert azure_services.build_services().push is None, "the hub without its key: no push sender"
    monkeypatch.setenv(dm.AzureSettingNames.NOTIFICATION_HUB_KEY, "shop-send:a2V5")
    push = azure_services.build_services().push
    assert isinstance(push, NotificationHubsPushSender)
    assert push._hub == HubConnection("shop-nh.servicebus.windows.net", "hub-orders", "shop-send", "a2V5")
