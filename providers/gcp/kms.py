"""Encryption: a Cloud KMS key ring and the stack key (rotated every 90 days), and the
grants that let exactly the Google service agents that encrypt the shop's data use it:
Cloud Storage (site bucket), Pub/Sub (topics), Secret Manager (secrets), Parameter Manager
(settings), Artifact Registry (function images), Cloud Logging (the log bucket) and Firestore.

Functions never hold the key: on GCP the service agent encrypts and decrypts on the
caller's behalf (CMEK), so function identities get no KMS role at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import specs
from providers.gcp.env import GcpEnv

ROTATION_PERIOD = "7776000s"  # 90 days
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# Service agents created on demand through serviceusage (projects.ServiceIdentity).
AGENT_SERVICES = {
    "pubsub": "pubsub.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "firestore": "firestore.googleapis.com",
    "parametermanager": "parametermanager.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
}


@dataclass
class KmsNative:
    ring: Any
    key: Any
    agent_grants: dict[str, Any] = field(default_factory=dict)  # agent -> CryptoKeyIAMMember
    agent_members: dict[str, pulumi.Output[str]] = field(default_factory=dict)


def create_encryption(env: GcpEnv, args: specs.EncryptionArgs, parent: pulumi.Resource) -> specs.EncryptionResult:
    import pulumi_gcp as gcp

    ring = gcp.kms.KeyRing(
        "keyring", project=env.project, location=env.region, opts=env.opts(parent, "cloudkms.googleapis.com")
    )
    key = gcp.kms.CryptoKey(
        "key-stack",
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=ROTATION_PERIOD if args.rotation else None,
        # Destroyed key versions stay recoverable this long (30 days in prod).
        destroy_scheduled_duration="2592000s" if env.context.is_prod else "86400s",
        labels=env.labels,
        opts=env.opts(parent, "cloudkms.googleapis.com", protect=env.context.is_prod),
    )
    native = KmsNative(ring=ring, key=key)
    for agent, service in AGENT_SERVICES.items():
        identity = gcp.projects.ServiceIdentity(
            f"agent-{agent}", project=env.project, service=service, opts=env.opts(parent, service)
        )
        native.agent_members[agent] = identity.member
    storage_agent = gcp.storage.get_project_service_account_output(project=env.project)
    native.agent_members["storage"] = storage_agent.member
    # Cloud Logging encrypts log buckets as the project's CMEK service account (not a ServiceIdentity).
    logging_settings = gcp.logging.get_project_cmek_settings_output(project=env.project)
    native.agent_members["logging"] = logging_settings.service_account_id.apply(lambda e: f"serviceAccount:{e}")
    for agent, member in native.agent_members.items():
        native.agent_grants[agent] = gcp.kms.CryptoKeyIAMMember(
            f"key-user-{agent}",
            crypto_key_id=key.id,
            role=ENCRYPTER_DECRYPTER,
            member=member,
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return specs.EncryptionResult(key_id=key.id, native=native)


def cmek_opts(env: GcpEnv, encryption: specs.EncryptionResult, agent: str, parent: pulumi.Resource, *apis: str,
              **kwargs: Any) -> pulumi.ResourceOptions:  # fmt: skip
    """Options for a resource encrypted with the stack key: created after its agent may use it."""
    grant = encryption.native.agent_grants[agent]
    return env.opts(parent, *apis, depends_on=[grant, *kwargs.pop("depends_on", [])], **kwargs)
