"""Cognito user pool (e-mail sign-in), the storefront's public client, the admin group."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.specs import AuthArgs, AuthResult
from providers.aws.env import AwsEnv
from providers.aws.notifications import AwsNotifications
from providers.base import Parent

_THREAT_MODES = {"audit": "AUDIT", "enforced": "ENFORCED"}


@dataclass(frozen=True)
class AwsAuth:
    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    issuer_url: pulumi.Output[str]

    @property
    def result(self) -> AuthResult:
        return AuthResult(user_pool_id=self.user_pool.id, client_id=self.client.id, issuer_url=self.issuer_url)


def _email_configuration(sender: AwsNotifications | None) -> aws.cognito.UserPoolEmailConfigurationArgs | None:
    """Cognito's default sender is capped at a few dozen e-mails a day: production sends the
    codes through the shop's SES identity (and its configuration set: bounces, complaints)."""
    if sender is None:
        return None
    return aws.cognito.UserPoolEmailConfigurationArgs(
        email_sending_account="DEVELOPER",
        source_arn=sender.email_identity.arn,
        from_email_address=sender.result.sender_email,
        configuration_set=sender.configuration_set.configuration_set_name,
    )


def create_auth(env: AwsEnv, args: AuthArgs, parent: Parent, email_sender: AwsNotifications | None) -> AwsAuth:
    """`email_sender`: the notifications whose SES identity sends Cognito's e-mails (args.email_sender)."""
    opts = env.opts(parent)
    pool = _user_pool(env, args, email_sender, parent)
    client = _storefront_client(env, args, pool, parent)
    aws.cognito.UserGroup(
        "admin",
        name=args.admin_group,
        user_pool_id=pool.id,
        description="Shop administrators: catalog and order management",
        opts=opts,
    )
    issuer = pulumi.Output.concat(f"https://cognito-idp.{env.region}.amazonaws.com/", pool.id)
    return AwsAuth(pool, client, issuer)


def _user_pool(
    env: AwsEnv, args: AuthArgs, email_sender: AwsNotifications | None, parent: Parent
) -> aws.cognito.UserPool:
    threat_mode = _THREAT_MODES.get(args.threat_protection)
    return aws.cognito.UserPool(
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
        # An e-mail change keeps the old, verified address until the new one is confirmed
        # with its code: nobody redirects order mail to an address they do not own.
        user_attribute_update_settings=aws.cognito.UserPoolUserAttributeUpdateSettingsArgs(
            attributes_require_verification_before_updates=["email"]
        ),
        email_configuration=_email_configuration(email_sender),
        # Authenticator apps: optional for customers; admins are sent to enrol at sign-in and
        # the API refuses admin calls without one (functions/adapters/cognito_identity.py).
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


def _storefront_client(
    env: AwsEnv, args: AuthArgs, pool: aws.cognito.UserPool, parent: Parent
) -> aws.cognito.UserPoolClient:
    return aws.cognito.UserPoolClient(
        "storefront",
        user_pool_id=pool.id,
        # A browser cannot keep a secret: public client. Password sign-in runs only in the
        # accounts function (admin flow, with the client's address for threat protection),
        # so nobody signs in around the API with the public client id.
        generate_secret=False,
        explicit_auth_flows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        prevent_user_existence_errors="ENABLED",
        enable_token_revocation=True,
        access_token_validity=args.access_token_minutes,
        id_token_validity=args.access_token_minutes,
        refresh_token_validity=30,
        token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
            access_token="minutes", id_token="minutes", refresh_token="days"
        ),
        opts=env.opts(parent),
    )
