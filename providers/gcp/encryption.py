"""Encryption: a Cloud KMS key ring and the stack key (rotated every 90 days), and the
grants that let exactly the Google service agents that encrypt the shop's data use it:
Cloud Storage (site bucket), Pub/Sub (topics), Secret Manager (secrets), Parameter Manager
(settings), Artifact Registry (function images), Cloud Logging (the log bucket) and Firestore.

Functions never hold the key: on GCP the service agent encrypts and decrypts on the
caller's behalf (CMEK), so function identities get no KMS role at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from components import specs
from providers.gcp.env import GcpEnv

ROTATION_PERIOD = "7776000s"  # 90 days
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
CLOUDKMS = "cloudkms.googleapis.com"
Agent = Literal["pubsub", "secretmanager", "firestore", "parametermanager", "artifactregistry", "storage", "logging"]
# Service agents created on demand through serviceusage (projects.ServiceIdentity).
AGENT_SERVICES: Mapping[Agent, str] = {
    "pubsub": "pubsub.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "firestore": "firestore.googleapis.com",
    "parametermanager": "parametermanager.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
}


@dataclass(frozen=True)
class GcpEncryption:
    key_id: pulumi.Output[str]  # the stack key, or the one shop:existingKeyId names
    agent_members: Mapping[Agent, pulumi.Output[str]]  # "serviceAccount:<agent e-mail>"
    agent_grants: Mapping[Agent, gcp.kms.CryptoKeyIAMMember]  # each agent's use of the key

    @property
    def result(self) -> specs.EncryptionResult:
        return specs.EncryptionResult(key_id=self.key_id)


def stack_key(env: GcpEnv, parent: pulumi.Resource, name: str, ring: gcp.kms.KeyRing, *,
              rotation: bool = True) -> gcp.kms.CryptoKey:  # fmt: skip
    return gcp.kms.CryptoKey(
        name,
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=ROTATION_PERIOD if rotation else None,
        # Destroyed key versions stay recoverable this long (30 days in prod).
        destroy_scheduled_duration="2592000s" if env.context.is_prod else "86400s",
        opts=env.opts(parent, CLOUDKMS, protect=env.context.is_prod),
    )


def _agent_members(env: GcpEnv, parent: pulumi.Resource) -> dict[Agent, pulumi.Output[str]]:
    members: dict[Agent, pulumi.Output[str]] = {}
    for agent, service in AGENT_SERVICES.items():
        identity = gcp.projects.ServiceIdentity(
            f"agent-{agent}", project=env.project, service=service, opts=env.opts(parent, service)
        )
        members[agent] = identity.member
    members["storage"] = gcp.storage.get_project_service_account_output(project=env.project).member
    # Cloud Logging encrypts log buckets as the project's CMEK service account (not a ServiceIdentity).
    logging_settings = gcp.logging.get_project_cmek_settings_output(project=env.project)
    members["logging"] = logging_settings.service_account_id.apply(lambda e: f"serviceAccount:{e}")
    return members


def create_encryption(env: GcpEnv, args: specs.EncryptionArgs, parent: pulumi.Resource) -> GcpEncryption:
    if args.existing_key_id:
        # shop:existingKeyId: no ring or key here; the service agents are still granted its use
        # (additive IAM members: the deployer needs cloudkms.cryptoKeys.setIamPolicy on it).
        key_id = pulumi.Output.from_input(args.existing_key_id)
    else:
        ring = gcp.kms.KeyRing("keyring", project=env.project, location=env.region, opts=env.opts(parent, CLOUDKMS))
        key_id = stack_key(env, parent, "key-stack", ring, rotation=args.rotation).id
    members = _agent_members(env, parent)
    grants = {
        agent: gcp.kms.CryptoKeyIAMMember(
            f"key-user-{agent}",
            crypto_key_id=key_id,
            role=ENCRYPTER_DECRYPTER,
            member=member,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for agent, member in members.items()
    }
    return GcpEncryption(key_id=key_id, agent_members=members, agent_grants=grants)


def cmek_opts(
    env: GcpEnv, encryption: GcpEncryption, agent: Agent, parent: pulumi.Resource, *apis: str
) -> pulumi.ResourceOptions:
    """Options for a resource encrypted with the stack key: created after its agent may use it."""
    return env.opts(parent, *apis, depends_on=[encryption.agent_grants[agent]])
