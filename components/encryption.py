"""The stack's customer-managed encryption key (KMS key / Key Vault key / Cloud KMS key)."""

from __future__ import annotations

import pulumi

from components.specs import EncryptionArgs, EncryptionResult
from providers.base import CloudProvider


class Encryption(pulumi.ComponentResource):
    """The stack's customer-managed encryption key (KMS key / Key Vault key / Cloud KMS key)."""

    result: EncryptionResult

    def __init__(
        self, name: str, args: EncryptionArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Encryption", name, None, opts)
        self.result = provider.encryption(args, self)
        self.register_outputs({"keyId": self.result.key_id})
