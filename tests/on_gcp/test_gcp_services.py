"""build_services() wires every GCP adapter from the function's environment (datamodel.ENV_*)."""

from __future__ import annotations

import pytest

from functions.adapters import gcp_services
from functions.adapters.firestore_store import FirestoreStore
from functions.adapters.gcp_identity import IdentityPlatform
from functions.adapters.gcp_media import GcsSignedUrlMedia
from functions.adapters.gcp_notifier import GcpNotifier
from functions.shop import datamodel as dm
from tests.fakes.firestore import FakeFirestoreClient

ENV = {
    dm.GcpSettingNames.PROJECT: "proj",
    dm.ENV_TABLE: "shop",
    dm.ENV_TOPIC: "order-events",
    dm.GcpSettingNames.IDENTITY_API_KEY: "KEY",
    dm.ENV_BUCKET: "shop-site",
    dm.ENV_MEDIA_BASE_URL: "https://cdn.shop",
    dm.ENV_SENDER: "shop@example.com",
    dm.GcpSettingNames.EMAIL_API_KEY: "SG.x",
}


@pytest.fixture
def env(monkeypatch):
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(gcp_services, "firestore_client", lambda: FakeFirestoreClient(dm.FIRESTORE_INDEXES))


def test_build_services_from_the_environment(env):
    s = gcp_services.build_services()
    assert isinstance(s.store, FirestoreStore) and isinstance(s.notifier, GcpNotifier)
    assert s.notifier._topic == "projects/proj/topics/order-events", "a bare topic name gets the project path"
    assert isinstance(s.identity, IdentityPlatform) and isinstance(s.media, GcsSignedUrlMedia)


def test_the_real_firestore_client_honours_the_database_setting(monkeypatch):
    monkeypatch.setenv(dm.GcpSettingNames.PROJECT, "proj")
    monkeypatch.setenv(dm.GcpSettingNames.FIRESTORE_DATABASE, "shop-db")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "localhost:8080")  # no credentials needed, no connection made
    client = gcp_services.firestore_client()
    assert (client.project, client._database) == ("proj", "shop-db")


def test_a_missing_variable_is_named(env, monkeypatch):
    monkeypatch.delenv(dm.ENV_BUCKET)
    with pytest.raises(RuntimeError, match=dm.ENV_BUCKET):
        gcp_services.build_services()


def test_functions_without_the_identity_grant_start_and_name_the_key_if_they_use_it(env, monkeypatch):
    # Only accounts and notifications mount the API key's secret (least privilege): the
    # others must still start, and a misrouted identity call must say what is missing.
    monkeypatch.delenv(dm.GcpSettingNames.IDENTITY_API_KEY)
    services = gcp_services.build_services()
    with pytest.raises(RuntimeError, match=dm.GcpSettingNames.IDENTITY_API_KEY):
        services.identity.log_in("a@example.com", "pw-123456789")


def test_push_goes_through_fcm_only_where_the_stack_enabled_it(env, monkeypatch):
    from functions.adapters.fcm_push import FcmPushSender

    assert gcp_services.build_services().push is None, "no SHOP_FCM_ENABLED: no push sender"
    monkeypatch.setenv(dm.GcpSettingNames.FCM_ENABLED, "true")
    push = gcp_services.build_services().push
    assert isinstance(push, FcmPushSender)
    assert push._url == "https://fcm.googleapis.com/v1/projects/proj/messages:send"
