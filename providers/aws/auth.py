"""Cognito user pool (e-mail sign-in), the storefront's public client, the admin group."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import AuthArgs, AuthResult
from providers.aws.env import AwsEnv
from providers.base import Parent

_THREAT_MODES = {"audit": "AUDIT", "enforced": "ENFORCED"}


@dataclass(frozen=True)
class AuthNative:
    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient


def create_auth(env: AwsEnv, args: AuthArgs, parent: Parent) -> AuthResult:
    opts = env.opts(parent)
    threat_mode = _THREAT_MODES.get(args.threat_protection)
    pool = aws.cognito.UserPool(
        "users",
        # The e-mail address is the user name; Cognito verifies it with a code before sign-in.
        username_attributes=["email"],
        auto_verified_attributes=["email"],
        username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(case_sensitive=False),
        verification_message_template=aws.cognito.UserPoolVerificationMessageTemplateArgs(
            default_email_option="CONFIRM_WITH_CODE"
        ),
        password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
            minimum_length=args.password_min_length,
            require_lowercase=True,
            require_uppercase=True,
            require_numbers=True,
            require_symbols=True,
            temporary_password_validity_days=3,
        ),
        account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
            recovery_mechanisms=[
                aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)
            ]
        ),
        mfa_configuration="OPTIONAL",
        software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
        deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
        # Threat protection (compromised credentials, risky sign-ins) needs the Plus tier.
        user_pool_tier="PLUS" if threat_mode else "ESSENTIALS",
        user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode=threat_mode)
        if threat_mode
        else None,
        opts=env.opts(parent, protect=args.deletion_protection),
    )
    client = aws.cognito.UserPoolClient(
        "storefront",
        user_pool_id=pool.id,
        # A browser cannot keep a secret: public client, tokens obtained by password or SRP.
        generate_secret=False,
        explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        prevent_user_existence_errors="ENABLED",
        enable_token_revocation=True,
        access_token_validity=60,
        id_token_validity=60,
        refresh_token_validity=30,
        token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
            access_token="minutes", id_token="minutes", refresh_token="days"
        ),
        opts=opts,
    )
    aws.cognito.UserGroup(
        "admin",
        name=args.admin_group,
        user_pool_id=pool.id,
        description="Shop administrators: catalog and order management",
        opts=opts,
    )
    issuer = pulumi.Output.concat(f"https://cognito-idp.{env.region}.amazonaws.com/", pool.id)
    return AuthResult(user_pool_id=pool.id, client_id=client.id, issuer_url=issuer, native=AuthNative(pool, client))
