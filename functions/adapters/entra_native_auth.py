"""Password sign-in, its second factor and just-in-time second-factor registration through
Microsoft Entra External ID's native authentication API (v1, generally available), spoken
server-side by the accounts service for the storefront's public client app.

Every call is a form POST under the tenant's authority with the app's `client_id`; each
answer hands a `continuation_token` to the next call:

    /oauth2/v2.0/initiate   username, challenge_type, capabilities  -> continuation_token
    /oauth2/v2.0/challenge  continuation_token, challenge_type      -> challenge_type=password
    /oauth2/v2.0/token      grant_type=password, password, scope    -> tokens, or
        400 invalid_grant + suberror mfa_required:
            /oauth2/v2.0/introspect  -> the user's strong-auth methods (id, channel)
            /oauth2/v2.0/challenge   id=<method>  -> a one-time code is sent (oob)
            /oauth2/v2.0/token       grant_type=mfa_oob, oob=<code>  -> tokens
        400 invalid_grant + suberror registration_required (MFA is due, no method yet):
            /register/v1.0/introspect -> the methods the user may register
            /register/v1.0/challenge  challenge_target=<e-mail>  -> oob (code sent) or preverified
            /register/v1.0/continue   grant_type=oob, oob=<code> (or grant_type=continuation_token)
            /oauth2/v2.0/token        grant_type=continuation_token, username  -> tokens

Both second-factor paths end in a one-time code the user types, so both are the shop's
MFA_CODE challenge; its session is the continuation token, prefixed with the path it
continues. The `capabilities` declare that this client can do both steps: without them
Entra answers `challenge_type=redirect` (browser sign-in) whenever MFA is due.

The API takes no end-user address: Entra's risk checks see the function's egress address,
so per-client throttling is the edge's (Front Door WAF rate limit on the auth path).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.shop.ports import MFA_CODE, Challenge, IdentityError, Tokens

from ._http import Transport, call

# `redirect` must be offered on every call (the API refuses requests without it); the shop
# cannot follow it, so an answer of `redirect` is a step this shop does not offer.
SIGN_IN_CHALLENGES = "password redirect"
CODE_CHALLENGES = "oob redirect"
CAPABILITIES = "mfa_required registration_required"
MFA_SESSION, REGISTER_SESSION = "mfa:", "register:"

Mapped = tuple[str, str, int]
WRONG_PASSWORD: Mapped = ("NOT_AUTHORIZED", "incorrect email or password", 401)
BAD_CODE: Mapped = ("CODE_MISMATCH", "the code is not valid; enter the current one", 400)
SESSION_EXPIRED: Mapped = ("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401)
THROTTLED: Mapped = ("TOO_MANY_REQUESTS", "too many attempts; wait and retry", 429)
UNSUPPORTED: Mapped = ("CHALLENGE_UNSUPPORTED", "sign-in needs a step this shop does not offer", 403)
DISABLED: Mapped = ("USER_DISABLED", "the account is disabled", 403)
# AADSTS codes in `error_codes`: 50053 account locked after too many attempts (Smart
# Lockout), 50057 account disabled.
LOCKED_OUT, ACCOUNT_DISABLED = 50053, 50057


def mapped_error(status: int, body: Mapping[str, Any], credential: Mapped, request: Mapped) -> IdentityError:
    """The shop's error for a refused native-auth call. `credential` is what a refused
    password or code means at this step, `request` what a refused request means (a
    continuation token the client sent back that Entra no longer knows, or a bug)."""
    error, suberror = str(body.get("error", "")), str(body.get("suberror", ""))
    codes = {c for c in body.get("error_codes") or [] if isinstance(c, int)}
    if status == 429 or LOCKED_OUT in codes:
        mapped = THROTTLED
    elif ACCOUNT_DISABLED in codes:
        mapped = DISABLED
    elif error == "expired_token":
        mapped = SESSION_EXPIRED
    elif suberror == "invalid_oob_value":
        mapped = BAD_CODE
    elif error == "user_not_found":  # no user enumeration: an unknown address is a wrong password
        mapped = WRONG_PASSWORD
    elif error == "invalid_grant" and status == 400:
        mapped = credential
    elif error == "invalid_request" and status == 400:
        mapped = request
    else:  # invalid_client (nativeauthapi_disabled), unauthorized_client, 5xx: configuration or outage
        reason = "/".join(filter(None, (error, suberror))) or f"HTTP {status}"
        mapped = ("IDENTITY_UNAVAILABLE", f"identity provider refused the sign-in ({reason})", 503)
    return IdentityError(*mapped)


def tokens_of(body: Mapping[str, Any]) -> Tokens:
    return Tokens(
        id_token=str(body.get("id_token", "")),
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token"),
        expires_in=int(body.get("expires_in", 3600)),
    )


class NativeAuthSignIn:
    def __init__(self, *, authority: str, client_id: str, scope: str, transport: Transport) -> None:
        self._authority, self._client_id, self._scope = authority.rstrip("/"), client_id, scope
        self._transport = transport

    def _post(self, path: str, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        url = f"{self._authority}{path}"
        try:
            resp = call(self._transport, "POST", url, form={"client_id": self._client_id, **form})
        except OSError as exc:  # unreachable or timed out (URLError, socket timeout): retryable, not a 500
            raise IdentityError("IDENTITY_UNAVAILABLE", f"identity provider unreachable ({path})", 503) from exc
        body = resp.json()
        return resp.status, body if isinstance(body, dict) else {}

    def _step(self, path: str, form: Mapping[str, str], credential: Mapped, request: Mapped) -> dict[str, Any]:
        """A call that must answer 200 with a continuation token."""
        status, body = self._post(path, form)
        if status != 200:
            raise mapped_error(status, body, credential, request)
        if body.get("challenge_type") == "redirect":
            raise IdentityError(*UNSUPPORTED)
        if not body.get("continuation_token"):
            raise IdentityError("IDENTITY_UNAVAILABLE", f"identity provider: no continuation token from {path}", 503)
        return body

    # -- sign-in --------------------------------------------------------------------------
    def sign_in(self, email: str, password: str) -> Tokens | Challenge:
        unavailable: Mapped = ("IDENTITY_UNAVAILABLE", "identity provider refused the sign-in request", 503)
        started = self._step(
            "/oauth2/v2.0/initiate",
            {"username": email, "challenge_type": SIGN_IN_CHALLENGES, "capabilities": CAPABILITIES},
            WRONG_PASSWORD,
            unavailable,
        )
        challenged = self._step(
            "/oauth2/v2.0/challenge",
            {
                "continuation_token": started["continuation_token"],
                "challenge_type": SIGN_IN_CHALLENGES,
                "capabilities": CAPABILITIES,
            },
            WRONG_PASSWORD,
            unavailable,
        )
        if challenged.get("challenge_type") != "password":  # e.g. an e-mail-code (passwordless) account
            raise IdentityError(*UNSUPPORTED)
        form = {
            "continuation_token": challenged["continuation_token"],
            "grant_type": "password",
            "password": password,
            "scope": self._scope,
        }
        status, body = self._post("/oauth2/v2.0/token", form)
        if status == 200 and "access_token" in body:
            return tokens_of(body)
        suberror, token = body.get("suberror"), str(body.get("continuation_token") or "")
        if status == 400 and suberror == "mfa_required" and token:
            return self._challenge_mfa(token)
        if status == 400 and suberror == "registration_required" and token:
            return self._register(token, email)
        raise mapped_error(status, body, WRONG_PASSWORD, unavailable)

    def _challenge_mfa(self, token: str) -> Challenge:
        """Send a code through the user's registered strong-auth method (the first one
        Entra lists: its default)."""
        methods = self._step("/oauth2/v2.0/introspect", {"continuation_token": token}, SESSION_EXPIRED, SESSION_EXPIRED)
        method = next(iter(methods.get("methods") or []), None)
        if not isinstance(method, dict) or not method.get("id"):
            raise IdentityError(*UNSUPPORTED)
        sent = self._step(
            "/oauth2/v2.0/challenge",
            {
                "continuation_token": methods["continuation_token"],
                "challenge_type": CODE_CHALLENGES,
                "id": str(method["id"]),
            },
            SESSION_EXPIRED,
            SESSION_EXPIRED,
        )
        if sent.get("challenge_type") != "oob":
            raise IdentityError(*UNSUPPORTED)
        return Challenge(MFA_CODE, MFA_SESSION + sent["continuation_token"])

    def _register(self, token: str, email: str) -> Tokens | Challenge:
        """MFA is due and the user has no method: register the account's own e-mail address
        as the second factor (the shop knows no phone number for SMS)."""
        offered = self._step(
            "/register/v1.0/introspect", {"continuation_token": token}, SESSION_EXPIRED, SESSION_EXPIRED
        )
        methods = [m for m in offered.get("methods") or [] if isinstance(m, dict)]
        method = next((m for m in methods if m.get("challenge_channel") == "email"), None)
        if method is None:
            raise IdentityError(*UNSUPPORTED)
        sent = self._step(
            "/register/v1.0/challenge",
            {
                "continuation_token": offered["continuation_token"],
                "challenge_type": str(method.get("challenge_type") or "oob"),
                "challenge_channel": "email",
                "challenge_target": email,
            },
            SESSION_EXPIRED,
            SESSION_EXPIRED,
        )
        if sent.get("challenge_type") == "preverified":  # the address was proven at sign-up
            return self._finish_registration(sent["continuation_token"], {"grant_type": "continuation_token"}, email)
        if sent.get("challenge_type") != "oob":
            raise IdentityError(*UNSUPPORTED)
        return Challenge(MFA_CODE, REGISTER_SESSION + sent["continuation_token"])

    # -- the code -------------------------------------------------------------------------
    def answer(self, email: str, session: str, code: str) -> Tokens:
        if session.startswith(MFA_SESSION):
            form = {"grant_type": "mfa_oob", "oob": code}
            return self._final_token(session.removeprefix(MFA_SESSION), form, BAD_CODE)
        if session.startswith(REGISTER_SESSION):
            grant = {"grant_type": "oob", "oob": code}
            return self._finish_registration(session.removeprefix(REGISTER_SESSION), grant, email)
        raise IdentityError(*SESSION_EXPIRED)

    def _finish_registration(self, token: str, grant: Mapping[str, str], email: str) -> Tokens:
        done = self._step("/register/v1.0/continue", {"continuation_token": token, **grant}, BAD_CODE, SESSION_EXPIRED)
        form = {"grant_type": "continuation_token", "username": email}
        return self._final_token(done["continuation_token"], form, SESSION_EXPIRED)

    def _final_token(self, token: str, grant: Mapping[str, str], credential: Mapped) -> Tokens:
        """The token call that must end the sign-in: a further MFA demand here is a policy
        this shop cannot follow."""
        status, body = self._post("/oauth2/v2.0/token", {"continuation_token": token, **grant, "scope": self._scope})
        if status == 200 and "access_token" in body:
            return tokens_of(body)
        if body.get("suberror") in ("mfa_required", "registration_required"):
            raise IdentityError(*UNSUPPORTED)
        raise mapped_error(status, body, credential, SESSION_EXPIRED)
