"""Services for the Azure functions, from the Function App's settings (datamodel.ENV_*).

Built once per worker process by functions/runtimes/azure_http.py. Every client is
created here but connects lazily; all authenticate with the app's managed identity
(Cosmos DB data-plane RBAC, Service Bus Data Sender, ACS, Storage Blob Delegator).
SHOP_COSMOS_KEY (emulator/local runs only) switches Cosmos to key auth.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from functions.shop import datamodel as dm
from functions.shop.services import Services

if TYPE_CHECKING:
    from .notification_hubs_push import NotificationHubsPushSender


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"missing app setting {name}")
    return value


class LazyContainer:
    """The Cosmos container, made on first use: CosmosClient reads the account's metadata
    in its constructor, so building it with the services would make every route (health
    too) fail while Cosmos DB is unreachable."""

    def __init__(self, credential) -> None:
        self._credential, self._container = credential, None

    def resolve(self):
        if self._container is None:
            self._container = cosmos_container(self._credential)
        return self._container

    def __getattr__(self, name: str):
        return getattr(self.resolve(), name)


def cosmos_container(credential):
    from azure.cosmos import CosmosClient

    key = os.environ.get(dm.AzureSettingNames.COSMOS_KEY)
    client = CosmosClient(_env(dm.AzureSettingNames.COSMOS_ENDPOINT), credential=key or credential)
    return client.get_database_client(_env(dm.AzureSettingNames.COSMOS_DATABASE, "shop")).get_container_client(
        _env(dm.ENV_TABLE, dm.COSMOS_CONTAINER.name)
    )


def push_sender() -> NotificationHubsPushSender | None:
    """Notification Hubs direct send, on the apps given the hub and its Send key (the
    notifications function); None elsewhere."""
    from .notification_hubs_push import HubConnection, NotificationHubsPushSender

    hub_ref = os.environ.get(dm.AzureSettingNames.NOTIFICATION_HUB)
    key_ref = os.environ.get(dm.AzureSettingNames.NOTIFICATION_HUB_KEY)
    if not (hub_ref and key_ref):
        return None
    return NotificationHubsPushSender(HubConnection.from_settings(hub_ref, key_ref))


def build_services() -> Services:
    from .azure_auth import ManagedIdentityCredential
    from .azure_identity import EntraIdentity
    from .azure_media import AzureBlobMedia
    from .azure_notifier import AzureNotifier
    from .cosmos_processed_events import CosmosProcessedEvents
    from .cosmos_store import CosmosStore
    from .stripe_payments import from_settings

    credential = ManagedIdentityCredential()
    container = LazyContainer(credential)  # one client for the store and the consumer's records
    return Services(
        store=CosmosStore(container),
        notifier=AzureNotifier(
            namespace=_env(dm.AzureSettingNames.SERVICEBUS_NAMESPACE),
            topic=_env(dm.ENV_TOPIC, dm.ORDER_EVENTS_TOPIC),
            credential=credential,
            email_endpoint=os.environ.get(dm.AzureSettingNames.EMAIL_ENDPOINT),
            sender=os.environ.get(dm.ENV_SENDER),
        ),
        identity=EntraIdentity(
            authority=_env(dm.AzureSettingNames.IDENTITY_AUTHORITY),
            tenant_domain=_env(dm.AzureSettingNames.IDENTITY_TENANT_DOMAIN),
            client_id=_env(dm.ENV_USER_POOL_CLIENT),
            scope=os.environ.get(dm.AzureSettingNames.IDENTITY_SCOPE, ""),
            backend_client_id=os.environ.get(dm.AzureSettingNames.IDENTITY_BACKEND_CLIENT_ID),
            backend_client_secret=os.environ.get(dm.AzureSettingNames.IDENTITY_CLIENT_SECRET),
        ),
        media=AzureBlobMedia(
            account=_env(dm.AzureSettingNames.STORAGE_ACCOUNT),
            container=_env(dm.ENV_BUCKET, "$web"),
            public_base_url=_env(dm.ENV_MEDIA_BASE_URL),
            credential=credential,
        ),
        currency=os.environ.get(dm.ENV_CURRENCY, "USD"),
        processed_events=CosmosProcessedEvents(container),
        push=push_sender(),
        payments=from_settings(os.environ),
    )
