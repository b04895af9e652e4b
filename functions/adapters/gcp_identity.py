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
"""

from __future__ import annotations

import urllib.parse
from contextlib import suppress
from typing import Any

from functions.shop.ports import IdentityError, Principal, Tokens, UserInfo

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
}


class IdentityPlatform:
    # api_key None: this function was not granted the identity (only accounts and
    # notifications mount the key's secret); using it is a deployment error, named as such.
    def __init__(
        self, *, api_key: str | None, project: str, credentials: Any = None, transport: Transport = urllib_transport
    ) -> None:
        self._key, self._project, self._credentials, self._transport = api_key, project, credentials, transport

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

    def log_in(self, email: str, password: str) -> Tokens:
        body = self._post(
            f"{TOOLKIT}/accounts:signInWithPassword",
            json_body={"email": email, "password": password, "returnSecureToken": True},
        )
        if "idToken" not in body:
            # A TOTP-enrolled account gets an mfaPendingCredential instead of tokens; the
            # shop's password sign-in has no second-factor step (docs/deploy-gcp.md).
            raise IdentityError("MFA_REQUIRED", "this account signs in with a second factor, not supported here", 403)
        return self._tokens(body["idToken"], body.get("refreshToken"), body.get("expiresIn"))

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
        return users[0].get("email") if users else None
