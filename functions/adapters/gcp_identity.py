"""Identity on Google Cloud Identity Platform, through its REST API (no SDK).

- sign_up: accounts:signUp (API key), then accounts:sendOobCode VERIFY_EMAIL;
- confirm: accounts:update with the emailed oobCode (the link's `oobCode` parameter);
- log_in: accounts:signInWithPassword; refresh: securetoken.googleapis.com/v1/token;
- user_info: the claims; lookup_email: projects/<p>/accounts:lookup with the function's
  service-account token (role: Identity Platform viewer / firebaseauth.users.get).

Identity Platform issues ID tokens only: the API's bearer token (accessToken) is the ID
token, which API Gateway validates (issuer https://securetoken.google.com/<project>,
audience <project>). Admins carry the custom claim {"groups": ["admin"]}, set with the
Admin SDK or accounts:update customAttributes. The API key is not a secret in the
browser sense, but the stack keeps it in Secret Manager (SHOP_IDENTITY_API_KEY).

Second factor (TOTP, enabled in the project's MFA config by providers/gcp/auth.py): a
user with one gets `mfaPendingCredential` from signInWithPassword (Challenge MFA_CODE,
finished with v2 mfaSignIn:finalize); an admin without one is sent to enrol (v2
mfaEnrollment:start/finalize with their ID token). Tokens signed in that way carry
firebase.sign_in_second_factor, which verify_admin requires, so a password-only token is
never an admin token. verify_admin also looks the user up (service account): disabled,
deleted, no longer in the admin group, or signed out after the token was issued
(validSince) is refused. Sign-out sets validSince, which revokes every refresh token;
it needs firebaseauth.users.update for the accounts function's service account.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from contextlib import suppress
from typing import Any

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
from ._http import Transport, call, urllib_transport

TOOLKIT = "https://identitytoolkit.googleapis.com/v1"
SECURETOKEN = "https://securetoken.googleapis.com/v1/token"

_ERRORS = {
    "EMAIL_EXISTS": ("USER_EXISTS", "an account with this email already exists", 409),
    "WEAK_PASSWORD": ("INVALID_PASSWORD", "the password is too weak", 400),
    "INVALID_EMAIL": ("INVALID_EMAIL", "the email address is not valid", 400),
    "EMAIL_NOT_FOUND": ("NOT_AUTHORIZED", "incorrect email or password", 401),
    "INVALID_PASSWORD": ("NOT_AUTHORIZED", "incorrect email or password", 401),
    "INVALID_LOGIN_CREDENTIALS": ("NOT_AUTHORIZED", "incorrect email or password", 401),
    "USER_DISABLED": ("USER_DISABLED", "the account is disabled", 403),
    "INVALID_REFRESH_TOKEN": ("NOT_AUTHORIZED", "the refresh token is not valid", 401),
    "TOKEN_EXPIRED": ("NOT_AUTHORIZED", "the refresh token expired", 401),
    "USER_NOT_FOUND": ("NOT_AUTHORIZED", "the user no longer exists", 401),
    "INVALID_OOB_CODE": ("INVALID_CODE", "the confirmation code is not valid", 400),
    "EXPIRED_OOB_CODE": ("EXPIRED_CODE", "the confirmation code expired", 400),
    "TOO_MANY_ATTEMPTS_TRY_LATER": ("TOO_MANY_REQUESTS", "too many attempts, try later", 429),
    "INVALID_MFA_PENDING_CREDENTIAL": ("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401),
    "MISSING_MFA_PENDING_CREDENTIAL": ("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401),
    "INVALID_VERIFICATION_CODE": ("CODE_MISMATCH", "the code is not valid; enter the current one", 400),
    "INVALID_ID_TOKEN": ("NOT_AUTHORIZED", "the session has ended; sign in again", 401),
}
TOOLKIT_V2 = "https://identitytoolkit.googleapis.com/v2"
_SIGNED_OUT = ("NOT_AUTHORIZED", "the session has ended; sign in again", 401)


class IdentityPlatform:
    auto_confirm = False  # confirmed from the verification e-mail Identity Platform sends

    # api_key None: this function was not granted the identity (only accounts and
    # notifications mount the key's secret); using it is a deployment error, named as such.
    def __init__(
        self, *, api_key: str | None, project: str, credentials: Any = None, transport: Transport = urllib_transport
    ) -> None:
        self._key, self._project, self._credentials, self._transport = api_key, project, credentials, transport
        self.admin_recheck_seconds = 30.0
        self._admin_checks = AdminRecheckCache()

    def _post(
        self, url: str, *, json_body: Any = None, form: dict[str, str] | None = None, bearer: str | None = None
    ) -> dict[str, Any]:
        if not self._key:
            raise RuntimeError("missing environment variable SHOP_IDENTITY_API_KEY (Identity Platform API key)")
        sep = "&" if "?" in url else "?"
        resp = call(
            self._transport,
            "POST",
            f"{url}{sep}key={urllib.parse.quote(self._key)}",
            json_body=json_body,
            form=form,
            headers={"Authorization": f"Bearer {bearer}"} if bearer else None,
        )
        body = resp.json() or {}
        if resp.status == 200:
            return body
        # Identity Platform errors: {"error": {"message": "WEAK_PASSWORD : Password should be ..."}}
        reason = str((body.get("error") or {}).get("message", "")).split(" ", 1)[0]
        code, message, status = _ERRORS.get(reason, ("IDENTITY_UNAVAILABLE", f"identity: HTTP {resp.status}", 503))
        raise IdentityError(code, message, status)

    @staticmethod
    def _tokens(id_token: str, refresh_token: str | None, expires_in: Any) -> Tokens:
        return Tokens(
            id_token=id_token, access_token=id_token, refresh_token=refresh_token, expires_in=int(expires_in or 3600)
        )

    def sign_up(self, email: str, password: str) -> str:
        body = self._post(
            f"{TOOLKIT}/accounts:signUp", json_body={"email": email, "password": password, "returnSecureToken": True}
        )
        with suppress(IdentityError):  # the verification email is a courtesy: the account exists either way
            self._post(
                f"{TOOLKIT}/accounts:sendOobCode", json_body={"requestType": "VERIFY_EMAIL", "idToken": body["idToken"]}
            )
        return body["localId"]

    def confirm(self, email: str, code: str) -> None:
        body = self._post(f"{TOOLKIT}/accounts:update", json_body={"oobCode": code})
        if body.get("email", email).lower() != email.lower():
            raise IdentityError("INVALID_CODE", "the confirmation code belongs to another account", 400)

    def log_in(self, email: str, password: str, context: ClientContext | None = None) -> Tokens | Challenge:
        body = self._post(
            f"{TOOLKIT}/accounts:signInWithPassword",
            json_body={"email": email, "password": password, "returnSecureToken": True},
        )
        if body.get("mfaPendingCredential"):
            enrolment = next((m for m in body.get("mfaInfo") or [] if "totpInfo" in m), None)
            if enrolment is None:
                raise IdentityError(
                    "CHALLENGE_UNSUPPORTED", "sign-in needs a second factor this shop does not offer", 403
                )
            session = json.dumps([enrolment["mfaEnrollmentId"], body["mfaPendingCredential"]])
            return Challenge(MFA_CODE, base64.urlsafe_b64encode(session.encode()).decode())
        tokens = self._tokens(body["idToken"], body.get("refreshToken"), body.get("expiresIn"))
        if ADMIN_GROUP in (_claims(tokens.id_token).get("groups") or []):
            return Challenge(MFA_SETUP, tokens.id_token)  # an admin token without a second factor
        return tokens

    def answer_mfa(self, email: str, session: str, code: str, context: ClientContext | None = None) -> Tokens:
        try:
            enrolment_id, pending = json.loads(base64.urlsafe_b64decode(session.encode()))
        except ValueError as exc:
            raise IdentityError("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401) from exc
        body = self._post(
            f"{TOOLKIT_V2}/accounts/mfaSignIn:finalize",
            json_body={
                "mfaPendingCredential": pending,
                "mfaEnrollmentId": enrolment_id,
                "totpVerificationInfo": {"verificationCode": code},
            },
        )
        return self._tokens(body["idToken"], body.get("refreshToken"), None)

    def start_mfa_setup(self, principal: Principal) -> MfaSecret:
        body = self._post(
            f"{TOOLKIT_V2}/accounts/mfaEnrollment:start",
            json_body={"idToken": principal.access_token, "totpEnrollmentInfo": {}},
        )
        info = body.get("totpSessionInfo") or {}
        return MfaSecret(info["sharedSecretKey"], info.get("sessionInfo"))

    def finish_mfa_setup(self, principal: Principal, code: str, session: str | None) -> None:
        """Earlier password-only tokens lack firebase.sign_in_second_factor, so verify_admin
        refuses them whatever happens here: no sign-out is needed to keep them out."""
        if not session:
            raise IdentityError("SESSION_EXPIRED", "start the authenticator set-up again", 400)
        self._post(
            f"{TOOLKIT_V2}/accounts/mfaEnrollment:finalize",
            json_body={
                "idToken": principal.access_token,
                "displayName": "Authenticator app",
                "totpVerificationInfo": {"sessionInfo": session, "verificationCode": code},
            },
        )

    def _admin_call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._credentials is None:
            raise IdentityError("IDENTITY_UNAVAILABLE", "no service-account credentials for Identity Platform", 503)
        return self._post(
            f"{TOOLKIT}/projects/{self._project}/{path}", json_body=body, bearer=self._credentials.token()
        )

    def sign_out(self, principal: Principal) -> None:
        """validSince = now: every refresh token of the user stops working, and verify_admin
        refuses every token issued before."""
        self._admin_call("accounts:update", {"localId": principal.user_id, "validSince": str(int(time.time()))})
        self._admin_checks.forget(principal.access_token or "")

    def verify_admin(self, principal: Principal) -> None:
        token = principal.access_token or ""
        if self._admin_checks.fresh(token):
            return
        if not principal.mfa:
            raise IdentityError(
                "MFA_REQUIRED", "admins sign in with a second factor: set one up and sign in again", 403
            )
        users = self._admin_call("accounts:lookup", {"localId": [principal.user_id]}).get("users") or []
        if not users or users[0].get("disabled"):
            raise IdentityError(*_SIGNED_OUT)
        user = users[0]
        issued = int(_claims(token).get("auth_time") or 0)
        if int(user.get("validSince") or 0) > issued:
            raise IdentityError(*_SIGNED_OUT)
        try:
            groups = json.loads(user.get("customAttributes") or "{}").get("groups") or []
        except (ValueError, AttributeError):
            groups = []
        if ADMIN_GROUP not in groups:
            raise IdentityError("FORBIDDEN", "this operation needs the admin group", 403)
        self._admin_checks.remember(token, self.admin_recheck_seconds)

    def refresh(self, refresh_token: str) -> Tokens:
        body = self._post(SECURETOKEN, form={"grant_type": "refresh_token", "refresh_token": refresh_token})
        return self._tokens(body["id_token"], body.get("refresh_token"), body.get("expires_in"))

    def user_info(self, principal: Principal) -> UserInfo:
        email = principal.email or self.lookup_email(principal.user_id)
        if not email:
            raise IdentityError("NOT_AUTHORIZED", "unknown user", 401)
        return UserInfo(principal.user_id, email, principal.groups)

    def lookup_email(self, user_id: str) -> str | None:
        if self._credentials is None:
            return None
        body = self._post(
            f"{TOOLKIT}/projects/{self._project}/accounts:lookup",
            json_body={"localId": [user_id]},
            bearer=self._credentials.token(),
        )
        users = body.get("users") or []
        # an address the user has not confirmed (e.g. changed with accounts:update) gets no order mail
        return users[0].get("email") if users and users[0].get("emailVerified") is True else None


def _claims(token: str) -> dict[str, Any]:
    """Claims of a token this function got from Identity Platform, or that the gateway verified."""
    from functions.runtimes._tokens import unverified_claims

    return unverified_claims(token) or {}
