"""Identity on Microsoft Entra External ID.

- log_in / answer_mfa: the native authentication API (entra_native_auth.py) for the
  shop's public client app: password sign-in, and when the tenant's Conditional Access
  asks for MFA a one-time code sent by e-mail or SMS (the shop's MFA_CODE challenge); an
  account with no strong-auth method yet registers its e-mail address during that sign-in.
- refresh: the OAuth 2.0 token endpoint of the tenant's authority
  (https://<sub>.ciamlogin.com/<tenant-id>), grant_type=refresh_token.
- sign_up: Microsoft Graph POST /users with an emailAddress identity and a password,
  through a confidential "shop-backend" app registration of the external tenant
  (client credentials; its secret comes from Key Vault). The account is usable at once,
  so `confirm` has nothing to do (see "what the tenant must allow").
- user_info / lookup_email: the token's claims, else Graph GET /users/{id}.

What the tenant must allow (docs/deploy-azure.md):
1. the storefront app registration: public client flows and native authentication on
   (Graph `nativeAuthenticationApisEnabled: "all"`), listed in the sign-up/sign-in user
   flow (email with password), an exposed API scope (SHOP_IDENTITY_SCOPE, e.g.
   api://<app-id>/shop.access) and an app role "admin" (the token's `roles` claim carries
   it; routes.ADMIN_GROUP);
2. the backend app registration: Graph application permission User.ReadWrite.All with
   admin consent, its client secret in Key Vault (SHOP_IDENTITY_CLIENT_SECRET).
Email ownership is not verified by Graph sign-up; to verify it, switch sign-up to the native
authentication API (/signup/v1.0/start, /challenge, /continue), which e-mails a code.

Admins and MFA: the tenant's Conditional Access requires MFA of users holding the admin
app role (docs/deploy-azure.md); native authentication then answers the password with
mfa_required (or registration_required) and the storefront's code form finishes the
sign-in. `verify_admin` refuses a token whose `amr` lacks "mfa", and asks Graph whether
the account still exists, is enabled and still holds the storefront app's `admin` role (a
yes is cached 30 s per token; Graph application permissions User.ReadWrite.All and
Application.Read.All). Sign-out: Graph revokeSignInSessions (every refresh token of the
user).
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from typing import Any

from functions.shop.ports import Challenge, ClientContext, IdentityError, MfaSecret, Principal, Tokens, UserInfo
from functions.shop.routes import ADMIN_GROUP

from ._admin_checks import AdminRecheckCache
from ._http import Transport, call, urllib_transport
from .entra_native_auth import NativeAuthSignIn, tokens_of

GRAPH = "https://graph.microsoft.com/v1.0"


PASSWORD_METHOD = "#microsoft.graph.passwordAuthenticationMethod"


class EntraIdentity:
    auto_confirm = False  # confirmed with the code sent to the address

    def __init__(
        self,
        *,
        authority: str,  # https://<sub>.ciamlogin.com/<tenant-id>
        tenant_domain: str,  # <sub>.onmicrosoft.com: the issuer of emailAddress identities
        client_id: str,  # public client (storefront) app
        scope: str,  # "api://<app-id>/shop.access"
        backend_client_id: str | None = None,
        backend_client_secret: str | None = None,
        graph_token_url: str | None = None,
        transport: Transport = urllib_transport,
    ) -> None:
        self._authority = authority.rstrip("/")
        self._domain, self._client_id = tenant_domain, client_id
        self._scope = f"openid offline_access {scope}".strip()
        self._backend = (backend_client_id, backend_client_secret)
        self._graph_token_url = graph_token_url or f"{self._authority}/oauth2/v2.0/token"
        self._transport = transport
        self._graph_token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self.admin_recheck_seconds = 30.0
        self._admin_checks = AdminRecheckCache()
        self._admin_role_ids: tuple[str, str] | None = None
        self._native = NativeAuthSignIn(
            authority=self._authority, client_id=client_id, scope=self._scope, transport=transport
        )

    # -- tokens ----------------------------------------------------------------------
    def _token_call(self, form: dict[str, str]) -> Tokens:
        resp = call(
            self._transport,
            "POST",
            f"{self._authority}/oauth2/v2.0/token",
            form={"client_id": self._client_id, "scope": self._scope, **form},
        )
        body = resp.json() or {}
        if resp.status == 200 and "access_token" in body:
            return tokens_of(body)
        if resp.status in (400, 401) and body.get("error") in (
            "invalid_grant",
            "invalid_request",
            "unauthorized_client",
        ):
            if "AADSTS50057" in str(body.get("error_description", "")):  # account disabled
                raise IdentityError("USER_DISABLED", "the account is disabled", 403)
            raise IdentityError("NOT_AUTHORIZED", "incorrect email or password", 401)
        raise IdentityError("IDENTITY_UNAVAILABLE", f"identity provider answered HTTP {resp.status}", 503)

    def log_in(self, email: str, password: str, context: ClientContext | None = None) -> Tokens | Challenge:
        """`context` is not forwarded: the native authentication API takes no end-user address."""
        return self._native.sign_in(email, password)

    def answer_mfa(self, email: str, session: str, code: str, context: ClientContext | None = None) -> Tokens:
        return self._native.answer(email, session, code)

    # External tenants offer e-mail and SMS codes as second factors, not authenticator apps:
    # the factor is registered inside the sign-in (log_in's MFA_CODE challenge) instead.
    def start_mfa_setup(self, principal: Principal) -> MfaSecret:
        raise IdentityError("CHALLENGE_UNSUPPORTED", "the second factor is set up while signing in", 400)

    def finish_mfa_setup(self, principal: Principal, code: str, session: str | None) -> None:
        raise IdentityError("CHALLENGE_UNSUPPORTED", "the second factor is set up while signing in", 400)

    def sign_out(self, principal: Principal) -> None:
        resp = self._graph("POST", f"/users/{urllib.parse.quote(principal.user_id)}/revokeSignInSessions")
        if resp.status == 404:
            return  # no such user: nothing left to revoke
        if resp.status != 200:
            raise IdentityError("IDENTITY_UNAVAILABLE", f"Graph revoke sessions: HTTP {resp.status}", 503)

    def verify_admin(self, principal: Principal) -> None:
        token = principal.access_token or ""
        if self._admin_checks.fresh(token):
            return
        if principal.mfa is False:
            raise IdentityError("MFA_REQUIRED", "admins sign in with a second factor", 403)
        user_path = f"/users/{urllib.parse.quote(principal.user_id)}"
        resp = self._graph("GET", f"{user_path}?$select=id,accountEnabled")
        if resp.status == 404 or (resp.status == 200 and (resp.json() or {}).get("accountEnabled") is False):
            raise IdentityError("NOT_AUTHORIZED", "the session has ended; sign in again", 401)
        if resp.status != 200:
            raise IdentityError("IDENTITY_UNAVAILABLE", f"Graph get user: HTTP {resp.status}", 503)
        if principal.mfa is None and not self._has_second_factor(user_path):
            raise IdentityError("MFA_REQUIRED", "admins register a second factor (a code by e-mail or phone)", 403)
        sp_id, role_id = self._admin_role()
        resp = self._graph("GET", f"{user_path}/appRoleAssignments?$select=appRoleId,resourceId")
        if resp.status != 200:
            raise IdentityError("IDENTITY_UNAVAILABLE", f"Graph app role assignments: HTTP {resp.status}", 503)
        assigned = {(a.get("resourceId"), a.get("appRoleId")) for a in (resp.json() or {}).get("value") or []}
        if (sp_id, role_id) not in assigned:
            raise IdentityError("FORBIDDEN", "this operation needs the admin group", 403)
        self._admin_checks.remember(token, self.admin_recheck_seconds)

    def _has_second_factor(self, user_path: str) -> bool:
        """Entra's v2.0 access tokens carry no `amr`, so the token cannot say a second factor was
        used. What makes it certain instead is the same as on Cognito: the admin has a method
        besides the password registered, and the tenant's Conditional Access policy for the
        admins (docs/deploy-azure.md) demands it at every sign-in."""
        resp = self._graph("GET", f"{user_path}/authentication/methods")
        if resp.status != 200:
            raise IdentityError("IDENTITY_UNAVAILABLE", f"Graph authentication methods: HTTP {resp.status}", 503)
        methods = (resp.json() or {}).get("value") or []
        return any(m.get("@odata.type") != PASSWORD_METHOD for m in methods)

    def _admin_role(self) -> tuple[str, str]:
        """(service principal id of the storefront app, id of its `admin` app role): fixed for
        the app's lifetime, so read once."""
        if self._admin_role_ids is None:
            resp = self._graph("GET", f"/servicePrincipals(appId='{self._client_id}')?$select=id,appRoles")
            body = resp.json() or {}
            role = next((r for r in body.get("appRoles") or [] if r.get("value") == ADMIN_GROUP), None)
            if resp.status != 200 or role is None:
                raise IdentityError("IDENTITY_UNAVAILABLE", f"Graph storefront app roles: HTTP {resp.status}", 503)
            self._admin_role_ids = (body["id"], role["id"])
        return self._admin_role_ids

    def refresh(self, refresh_token: str) -> Tokens:
        return self._token_call({"grant_type": "refresh_token", "refresh_token": refresh_token})

    # -- Graph --------------------------------------------------------------------------
    def _graph(self, method: str, path: str, body: Any = None) -> Any:
        with self._lock:
            cached = self._graph_token
        if cached is None or cached[1] < time.time() + 60:
            client_id, secret = self._backend
            if not client_id or not secret:
                raise IdentityError("IDENTITY_UNAVAILABLE", "Graph access is not configured", 503)
            resp = call(
                self._transport,
                "POST",
                self._graph_token_url,
                form={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                    "scope": "https://graph.microsoft.com/.default",
                },
            )
            data = resp.json() or {}
            if resp.status != 200 or "access_token" not in data:
                raise IdentityError("IDENTITY_UNAVAILABLE", f"Graph token: HTTP {resp.status}", 503)
            cached = (data["access_token"], time.time() + int(data.get("expires_in", 3600)))
            with self._lock:
                self._graph_token = cached
        return call(
            self._transport, method, f"{GRAPH}{path}", json_body=body, headers={"Authorization": f"Bearer {cached[0]}"}
        )

    def sign_up(self, email: str, password: str) -> str:
        resp = self._graph(
            "POST",
            "/users",
            {
                "accountEnabled": True,
                "displayName": email,
                "mail": email,
                "identities": [{"signInType": "emailAddress", "issuer": self._domain, "issuerAssignedId": email}],
                "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": False},
                "passwordPolicies": "DisablePasswordExpiration",
            },
        )
        body = resp.json() or {}
        if resp.status == 201:
            return body["id"]
        message = str((body.get("error") or {}).get("message", "")).lower()
        if resp.status == 400 and ("already exists" in message or "conflict" in message):
            raise IdentityError("USER_EXISTS", "an account with this email already exists", 409)
        if resp.status == 400 and "password" in message:
            raise IdentityError("INVALID_PASSWORD", "the password does not meet the tenant's policy", 400)
        raise IdentityError("IDENTITY_UNAVAILABLE", f"Graph create user: HTTP {resp.status}", 503)

    def confirm(self, email: str, code: str) -> None:
        """Accounts created through Graph are active at once: nothing to confirm."""

    def _user(self, user_id: str) -> dict[str, Any] | None:
        resp = self._graph("GET", f"/users/{urllib.parse.quote(user_id)}?$select=id,mail,identities")
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise IdentityError("IDENTITY_UNAVAILABLE", f"Graph get user: HTTP {resp.status}", 503)
        return resp.json()

    @staticmethod
    def _email_of(user: dict[str, Any]) -> str | None:
        """The e-mail sign-in identity only: `mail` is a directory attribute anyone with
        user-write access can set to an address nobody proved to own."""
        for ident in user.get("identities") or []:
            if ident.get("signInType") == "emailAddress":
                return ident.get("issuerAssignedId")
        return None

    def lookup_email(self, user_id: str) -> str | None:
        user = self._user(user_id)
        return self._email_of(user) if user else None

    def user_info(self, principal: Principal) -> UserInfo:
        email = principal.email or self.lookup_email(principal.user_id)
        if not email:
            raise IdentityError("NOT_AUTHORIZED", "unknown user", 401)
        return UserInfo(principal.user_id, email, principal.groups)
