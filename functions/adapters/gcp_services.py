"""Services for the GCP functions, from the function's environment (datamodel.ENV_*).

Built once per instance by functions/runtimes/gcp_http.py. The function's own service
account authenticates Firestore, Pub/Sub, Identity Platform lookups and signBlob.
FIRESTORE_EMULATOR_HOST (honoured by google-cloud-firestore) points the store at the
emulator for local runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from functions.shop import datamodel as dm
from functions.shop.services import Services

if TYPE_CHECKING:
    from .fcm_push import FcmPushSender


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"missing environment variable {name}")
    return value


def project() -> str:
    return _env(dm.GcpSettingNames.PROJECT, os.environ.get("GOOGLE_CLOUD_PROJECT"))


def firestore_client():
    from google.cloud import firestore

    return firestore.Client(
        project=project(), database=os.environ.get(dm.GcpSettingNames.FIRESTORE_DATABASE, "(default)")
    )


def push_sender() -> FcmPushSender | None:
    """FCM HTTP v1 in this project, on the functions the stack enabled it for (the
    notifications function, shop:gcp.pushNotifications); None elsewhere."""
    if os.environ.get(dm.GcpSettingNames.FCM_ENABLED, "").lower() != "true":
        return None
    from .fcm_push import FcmPushSender

    return FcmPushSender(project=project())


def build_services() -> Services:
    from .firestore_processed_events import FirestoreProcessedEvents
    from .firestore_store import FirestoreStore
    from .gcp_auth import MetadataCredentials
    from .gcp_identity import IdentityPlatform
    from .gcp_media import GcsSignedUrlMedia, IamSigner
    from .gcp_notifier import GcpNotifier
    from .stripe_payments import from_settings

    credentials = MetadataCredentials()
    topic = _env(dm.ENV_TOPIC, dm.ORDER_EVENTS_TOPIC)
    if not topic.startswith("projects/"):
        topic = f"projects/{project()}/topics/{topic}"
    db = firestore_client()
    return Services(
        store=FirestoreStore(db, root=os.environ.get(dm.ENV_TABLE)),
        notifier=GcpNotifier(
            topic=topic,
            sender=os.environ.get(dm.ENV_SENDER),
            email_api_key=os.environ.get(dm.GcpSettingNames.EMAIL_API_KEY),
            email_api_url=os.environ.get(dm.GcpSettingNames.EMAIL_API_URL),
            smtp_url=os.environ.get(dm.GcpSettingNames.SMTP_URL),
        ),
        identity=IdentityPlatform(
            api_key=os.environ.get(dm.GcpSettingNames.IDENTITY_API_KEY), project=project(), credentials=credentials
        ),
        media=GcsSignedUrlMedia(
            bucket=_env(dm.ENV_BUCKET),
            public_base_url=_env(dm.ENV_MEDIA_BASE_URL),
            signer=IamSigner(credentials),
        ),
        currency=os.environ.get(dm.ENV_CURRENCY, "USD"),
        processed_events=FirestoreProcessedEvents(db, root=os.environ.get(dm.ENV_TABLE)),
        push=push_sender(),
        payments=from_settings(os.environ),
    )
