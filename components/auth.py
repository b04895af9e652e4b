"""User directory: e-mail sign-in, a public storefront client without secret, the admin group."""

from __future__ import annotations

import pulumi

from components.specs import AuthArgs, AuthResult
from providers.base import CloudProvider


class Auth(pulumi.ComponentResource):
    """User directory: e-mail sign-in, a public storefront client without secret, the admin group."""

    result: AuthResult

    def __init__(
        self, name: str, args: AuthArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Auth", name, None, opts)
        self.result = provider.auth(args, self)
        self.register_outputs(
            {
                "userPoolId": self.result.user_pool_id,
                "clientId": self.result.client_id,
                "issuer": self.result.issuer_url,
            }
        )
