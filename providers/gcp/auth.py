"""Auth: Identity Platform for the project (e-mail + password sign-in, no duplicate
accounts, request logging, TOTP second factor available, authorized domains limited to the
project's own and the shop's), an API key restricted to the Identity Toolkit and Secure Token
APIs for the accounts function, kept in Secret Manager.

Identity Platform issues Google-signed ID tokens: issuer https://securetoken.google.com/<project>,
audience <project>; API Gateway validates them (api.py). Identity Platform has one
configuration per project, hence one project per shop stack. Admins carry the custom claim
{"groups": ["admin"]} (docs/deploy-gcp.md shows the one command that sets it).

TOTP is ENABLED (users may enrol), not MANDATORY: the shop signs in with a password through
the REST API, which has no second-factor step, so an enrolled account is refused with
MFA_REQUIRED rather than let in on one factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import specs
from functions.shop.openapi import FIREBASE_JWKS
from providers.gcp.configuration import GcpSecret, create_secret
from providers.gcp.encryption import GcpEncryption
from providers.gcp.env import GcpEnv

IDENTITY = "identitytoolkit.googleapis.com"
API_KEY_SECRET = "identityApiKey"
# Codes one 30 s step either side of now are accepted (clock skew of an authenticator app).
TOTP_ADJACENT_INTERVALS = 1


def authorized_domains(project: str, site_domains: tuple[str, ...], is_prod: bool) -> list[str]:
    """Where Identity Platform may redirect and send e-mail action links: the project's own
    hosting domains, the shop's domain, and localhost only outside prod."""
    domains = [f"{project}.firebaseapp.com", f"{project}.web.app", *site_domains]
    return domains if is_prod else [*domains, "localhost"]


def mfa_config() -> gcp.identityplatform.ConfigMfaArgsDict:
    return {
        "state": "ENABLED",
        "provider_configs": [
            {"state": "ENABLED", "totp_provider_config": {"adjacent_intervals": TOTP_ADJACENT_INTERVALS}}
        ],
    }


@dataclass(frozen=True)
class GcpAuth:
    config: gcp.identityplatform.Config
    api_key: gcp.projects.ApiKey
    api_key_secret: GcpSecret
    project: str  # Identity Platform's pool is the project: the ID tokens' audience
    jwks_uri: str = FIREBASE_JWKS

    @property
    def issuer(self) -> str:
        return f"https://securetoken.google.com/{self.project}"

    @property
    def audience(self) -> str:
        return self.project

    @property
    def result(self) -> specs.AuthResult:
        return specs.AuthResult(
            user_pool_id=pulumi.Output.from_input(self.project),
            client_id=self.api_key.uid,
            issuer_url=pulumi.Output.from_input(self.issuer),
        )


def create_auth(env: GcpEnv, args: specs.AuthArgs, parent: pulumi.Resource, encryption: GcpEncryption) -> GcpAuth:
    config = gcp.identityplatform.Config(
        "identity",
        project=env.project,
        sign_in={"email": {"enabled": True, "password_required": True}, "allow_duplicate_emails": False},
        autodelete_anonymous_users=True,
        monitoring={"request_logging": {"enabled": True}},
        mfa=mfa_config(),
        authorized_domains=authorized_domains(env.project, args.site_domains, env.context.is_prod),
        opts=env.opts(parent, IDENTITY, protect=args.deletion_protection),
    )
    api_key = gcp.projects.ApiKey(
        "identity-api-key",
        project=env.project,
        name=env.resource_id("identity", max_len=63),
        display_name=f"{env.context.name_prefix} accounts function (Identity Platform)",
        restrictions={
            "api_targets": [{"service": IDENTITY}, {"service": "securetoken.googleapis.com"}],
        },
        opts=env.opts(parent, IDENTITY, "apikeys.googleapis.com", depends_on=[config]),
    )
    secret = create_secret(
        env,
        API_KEY_SECRET,
        encryption=encryption,
        parent=parent,
        value=api_key.key_string,
        description="Identity Platform API key (sign-up, sign-in, token refresh)",
    )
    return GcpAuth(config=config, api_key=api_key, api_key_secret=secret, project=env.project)
