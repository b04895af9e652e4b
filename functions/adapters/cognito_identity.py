"""Accounts on a Cognito user pool (email as the username).

Sign-in runs server side (AdminInitiateAuth / AdminRespondToAuthChallenge, IAM on the
pool) so that the client's address and device data reach Cognito's threat protection as
ContextData: a public client cannot send the source IP (Cognito only accepts it from
clients with a secret), and without it every sign-in seems to come from the NAT gateway.

The pool has MFA "optional" with software tokens: a user who enrolled an authenticator is
challenged at every sign-in (SOFTWARE_TOKEN_MFA); an admin who has not is sent to enrol
(MFA_SETUP, with the access token Cognito issued as the enrolment session). Enrolment
(AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference) and sign-out
(GlobalSignOut) are authorised by the user's own access token, no IAM.

`verify_admin` asks Cognito on admin routes: GetUser (refused for a revoked token, a
disabled or deleted user; lists the user's MFA) and AdminListGroupsForUser (IAM). Cognito's
tokens carry no `amr`: "signed in with a second factor" is established as "has MFA
enabled", which holds because enrolment signs every earlier session out (GlobalSignOut) and
Cognito challenges every later sign-in. A positive answer is cached for
SHOP_ADMIN_RECHECK_SECONDS (default 30) per token.

lookup_email (the notifications function) uses IAM: cognito-idp:AdminGetUser on the user
(never ListUsers, which would let the role enumerate every customer's address); an address
the user has not verified is never returned.
"""

from __future__ import annotations

import os

from functions.shop.ports import (
    MFA_CODE,
    MFA_SETUP,
    Challenge,
    ClientContext,
    IdentityError,
    MfaSecret,
    Principal,
    Tokens,
    UserInfo,
)
from functions.shop.routes import ADMIN_GROUP

from ._admin_checks import AdminRecheckCache
from .aws_clients import client

_SIGNED_OUT = ("NOT_AUTHORIZED", "the session has ended; sign in again", 401)
_BAD_CODE = ("CODE_MISMATCH", "the code is not valid; enter the current one", 400)

ERRORS = {
    "UsernameExistsException": ("USER_EXISTS", "an account with this email already exists", 409),
    "InvalidPasswordException": ("INVALID_PASSWORD", "the password does not meet the policy", 400),
    "InvalidParameterException": ("INVALID_PARAMETER", "invalid sign-up details", 400),
    "CodeMismatchException": ("CODE_MISMATCH", "invalid confirmation code", 400),
    "ExpiredCodeException": ("CODE_EXPIRED", "the confirmation code has expired", 400),
    "NotAuthorizedException": ("NOT_AUTHORIZED", "incorrect email or password", 401),
    # no user enumeration: an unknown user looks like a wrong password
    "UserNotFoundException": ("NOT_AUTHORIZED", "incorrect email or password", 401),
    "UserNotConfirmedException": ("USER_NOT_CONFIRMED", "confirm your account first", 403),
    "TooManyRequestsException": ("TOO_MANY_REQUESTS", "too many attempts; wait and retry", 429),
    "LimitExceededException": ("TOO_MANY_REQUESTS", "too many attempts; wait and retry", 429),
}
# The MFA answer and enrolment speak of codes and sessions, not passwords.
MFA_ERRORS = {
    **ERRORS,
    "CodeMismatchException": _BAD_CODE,
    "EnableSoftwareTokenMFAException": _BAD_CODE,
    "ExpiredCodeException": ("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401),
    "NotAuthorizedException": ("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401),
    "ResourceNotFoundException": ("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401),
    "UserNotFoundException": ("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401),
}
TOKEN_ERRORS = {
    **ERRORS,
    "NotAuthorizedException": _SIGNED_OUT,
    "UserNotFoundException": _SIGNED_OUT,
    "CodeMismatchException": _BAD_CODE,
    "EnableSoftwareTokenMFAException": _BAD_CODE,
}


def _identity_call(fn, errors=ERRORS, **kwargs):
    from botocore.exceptions import ClientError, ParamValidationError

    try:
        return fn(**kwargs)
    except ParamValidationError as exc:  # e.g. a session or token of a length Cognito never issues
        raise IdentityError("BAD_REQUEST", "a value has a length or form the identity service refuses", 400) from exc
    except ClientError as exc:
        mapped = errors.get(exc.response.get("Error", {}).get("Code", ""))
        if mapped is None:
            raise
        raise IdentityError(*mapped) from exc


def context_data(context: ClientContext | None) -> dict | None:
    """Cognito's ContextData; None without an address (Cognito requires one)."""
    if context is None or not context.ip:
        return None
    headers = [{"headerName": "User-Agent", "headerValue": context.user_agent}] if context.user_agent else []
    data = {
        "IpAddress": context.ip,
        "ServerName": context.host or "shop",
        "ServerPath": context.path or "/api/auth/login",
        "HttpHeaders": headers,
    }
    if context.device_data:
        data["EncodedData"] = context.device_data
    return data


def _claims(token: str) -> dict:
    """Claims of a token Cognito has just issued to this function over TLS (not from a client)."""
    from functions.runtimes._tokens import unverified_claims

    return unverified_claims(token) or {}


class CognitoIdentity:
    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        auto_confirm: bool = False,
        admin_recheck_seconds: float | None = None,
    ) -> None:
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.auto_confirm = auto_confirm  # local stack only: there is no inbox to read a code from
        if admin_recheck_seconds is None:
            admin_recheck_seconds = float(os.environ.get("SHOP_ADMIN_RECHECK_SECONDS", "30"))
        self.admin_recheck_seconds = admin_recheck_seconds
        self._admin_checks = AdminRecheckCache()

    @property
    def idp(self):
        return client("cognito-idp")

    def sign_up(self, email: str, password: str) -> str:
        email = email.lower()
        resp = _identity_call(
            self.idp.sign_up,
            ClientId=self.client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        if self.auto_confirm:
            from .aws_clients import acting_as

            # Local stack only: it stands in for the user typing the e-mailed code (which also
            # verifies the address). Not a call
            # the function makes on AWS, so not one its role is checked for.
            with acting_as(None):
                self.idp.admin_confirm_sign_up(UserPoolId=self.user_pool_id, Username=email)
                self.idp.admin_update_user_attributes(
                    UserPoolId=self.user_pool_id,
                    Username=email,
                    UserAttributes=[{"Name": "email_verified", "Value": "true"}],
                )
        return resp["UserSub"]

    def confirm(self, email: str, code: str) -> None:
        _identity_call(self.idp.confirm_sign_up, ClientId=self.client_id, Username=email.lower(), ConfirmationCode=code)

    @staticmethod
    def _tokens(result: dict, refresh_token: str | None = None) -> Tokens:
        return Tokens(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken", refresh_token),
            expires_in=int(result["ExpiresIn"]),
        )

    def _with_context(self, context: ClientContext | None, **kwargs) -> dict:
        data = context_data(context)
        return {**kwargs, "ContextData": data} if data else kwargs

    def log_in(self, email: str, password: str, context: ClientContext | None = None) -> Tokens | Challenge:
        resp = _identity_call(
            self.idp.admin_initiate_auth,
            **self._with_context(
                context,
                UserPoolId=self.user_pool_id,
                ClientId=self.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email.lower(), "PASSWORD": password},
            ),
        )
        name = resp.get("ChallengeName")
        if name == MFA_CODE:
            return Challenge(MFA_CODE, resp["Session"])
        if name is not None or "AuthenticationResult" not in resp:
            # e.g. NEW_PASSWORD_REQUIRED for an operator-created user: not a storefront flow
            raise IdentityError("CHALLENGE_UNSUPPORTED", f"sign-in needs a step this shop does not offer ({name})", 403)
        tokens = self._tokens(resp["AuthenticationResult"])
        if ADMIN_GROUP in (_claims(tokens.access_token).get("cognito:groups") or []) and not self._has_mfa(
            tokens.access_token
        ):
            return Challenge(MFA_SETUP, tokens.access_token)
        return tokens

    def answer_mfa(self, email: str, session: str, code: str, context: ClientContext | None = None) -> Tokens:
        resp = _identity_call(
            self.idp.admin_respond_to_auth_challenge,
            MFA_ERRORS,
            **self._with_context(
                context,
                UserPoolId=self.user_pool_id,
                ClientId=self.client_id,
                ChallengeName=MFA_CODE,
                Session=session,
                ChallengeResponses={"USERNAME": email.lower(), "SOFTWARE_TOKEN_MFA_CODE": code},
            ),
        )
        if "AuthenticationResult" not in resp:
            raise IdentityError("CHALLENGE_UNSUPPORTED", "sign-in needs a step this shop does not offer", 403)
        return self._tokens(resp["AuthenticationResult"])

    def _user(self, principal: Principal) -> dict:
        if not principal.access_token:
            raise IdentityError(*_SIGNED_OUT)
        return _identity_call(self.idp.get_user, TOKEN_ERRORS, AccessToken=principal.access_token)

    def _has_mfa(self, access_token: str) -> bool:
        user = _identity_call(self.idp.get_user, TOKEN_ERRORS, AccessToken=access_token)
        return MFA_CODE in (user.get("UserMFASettingList") or [])

    def start_mfa_setup(self, principal: Principal) -> MfaSecret:
        resp = _identity_call(self.idp.associate_software_token, TOKEN_ERRORS, AccessToken=principal.access_token)
        return MfaSecret(resp["SecretCode"])

    def finish_mfa_setup(self, principal: Principal, code: str, session: str | None) -> None:
        token = principal.access_token
        resp = _identity_call(
            self.idp.verify_software_token, TOKEN_ERRORS, AccessToken=token, UserCode=code, FriendlyDeviceName="shop"
        )
        if resp.get("Status") != "SUCCESS":
            raise IdentityError(*_BAD_CODE)
        _identity_call(
            self.idp.set_user_mfa_preference,
            TOKEN_ERRORS,
            AccessToken=token,
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )
        # Sessions that began with the password alone (this one included) must not become
        # admin sessions now that the user "has MFA": end them all.
        _identity_call(self.idp.global_sign_out, TOKEN_ERRORS, AccessToken=token)

    def sign_out(self, principal: Principal) -> None:
        """GlobalSignOut: revokes every refresh token of the user (all devices) and makes
        Cognito refuse their access tokens (GetUser and the admin re-check)."""
        _identity_call(self.idp.global_sign_out, TOKEN_ERRORS, AccessToken=principal.access_token)
        self._admin_checks.forget(principal.access_token or "")

    def verify_admin(self, principal: Principal) -> None:
        token = principal.access_token or ""
        if self._admin_checks.fresh(token):
            return
        user = self._user(principal)
        groups = _identity_call(
            self.idp.admin_list_groups_for_user, TOKEN_ERRORS, UserPoolId=self.user_pool_id, Username=user["Username"]
        )
        if ADMIN_GROUP not in {g.get("GroupName") for g in groups.get("Groups", [])}:
            raise IdentityError("FORBIDDEN", "this operation needs the admin group", 403)
        if MFA_CODE not in (user.get("UserMFASettingList") or []):
            raise IdentityError(
                "MFA_REQUIRED", "admins sign in with a second factor: set one up and sign in again", 403
            )
        self._admin_checks.remember(token, self.admin_recheck_seconds)

    def refresh(self, refresh_token: str) -> Tokens:
        resp = _identity_call(
            self.idp.initiate_auth,
            ClientId=self.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        return self._tokens(resp["AuthenticationResult"], None)

    def user_info(self, principal: Principal) -> UserInfo:
        if principal.email:
            return UserInfo(principal.user_id, principal.email, principal.groups)
        resp = self._user(principal)
        attrs = {a["Name"]: a["Value"] for a in resp["UserAttributes"]}
        return UserInfo(attrs.get("sub", principal.user_id), attrs.get("email", resp["Username"]), principal.groups)

    def lookup_email(self, user_id: str) -> str | None:
        """One user's verified e-mail by id: AdminGetUser on that user (with e-mail as the
        username attribute, Cognito's username is the sub). Not ListUsers: it would let the
        role enumerate every customer's address. None when the address is unverified: with
        the pool's AttributesRequireVerificationBeforeUpdate a change stays pending until
        verified, and an address nobody proved to own never receives order mail."""
        from botocore.exceptions import ClientError

        try:
            resp = self.idp.admin_get_user(UserPoolId=self.user_pool_id, Username=user_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "UserNotFoundException":
                return None
            raise
        attrs = {a["Name"]: a["Value"] for a in resp.get("UserAttributes", [])}
        if str(attrs.get("email_verified", "")).lower() != "true":
            return None
        return attrs.get("email")
