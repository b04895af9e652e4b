"""Sign-up, confirmation, sign-in (with its MFA challenge), MFA enrolment, token refresh,
sign-out and the caller's profile."""

from __future__ import annotations

import logging
import urllib.parse
from typing import TYPE_CHECKING

from .models import (
    ChallengeResponse,
    ConfirmRequest,
    LoginRequest,
    MeResponse,
    MfaRequest,
    MfaSetupResponse,
    MfaVerifyRequest,
    RefreshRequest,
    SignUpRequest,
    SignUpResponse,
    StatusResponse,
    TokensResponse,
)
from .ports import Challenge, ClientContext, Identity, IdentityError, Principal, Tokens
from .routes import CUSTOMER, PUBLIC, Answer, Reply, route

if TYPE_CHECKING:
    from .api import Ctx

OTP_ISSUER = "Shop"  # the name authenticator apps show next to the account
# Logged once per refused sign-in (wrong password, unknown address, wrong code): each cloud's
# monitoring counts this marker in the accounts function's logs and alarms on a spike
# (credential stuffing). Never the address or the password.
SIGN_IN_FAILED = "shop.sign_in_failed"
log = logging.getLogger("shop.accounts")


def _tokens(t: Tokens) -> TokensResponse:
    return TokensResponse(
        id_token=t.id_token, access_token=t.access_token, refresh_token=t.refresh_token, expires_in=t.expires_in
    )


def _refused(exc: IdentityError, step: str) -> None:
    if exc.status in (401, 403):
        log.warning("%s step=%s code=%s", SIGN_IN_FAILED, step, exc.code)


def sign_up(identity: Identity, email: str, password: str) -> SignUpResponse:
    """Answers the same for a new and an existing address, like sign-in does for a wrong
    password: whoever owns the address learns the rest from their mailbox."""
    try:
        identity.sign_up(email, password)
    except IdentityError as exc:
        if exc.code != "USER_EXISTS":
            raise
    return SignUpResponse(status="pending", confirmed=identity.auto_confirm)


def confirm(identity: Identity, email: str, code: str) -> StatusResponse:
    identity.confirm(email, code)
    return StatusResponse(status="confirmed")


def log_in(identity: Identity, email: str, password: str, client: ClientContext) -> TokensResponse | ChallengeResponse:
    """Tokens, or the challenge (second factor, or its enrolment) to answer first."""
    try:
        result = identity.log_in(email, password, client)
    except IdentityError as exc:
        _refused(exc, "password")
        raise
    if isinstance(result, Challenge):
        return ChallengeResponse(challenge=result.name, session=result.session)
    return _tokens(result)


def answer_mfa(identity: Identity, email: str, session: str, code: str, client: ClientContext) -> TokensResponse:
    try:
        return _tokens(identity.answer_mfa(email, session, code, client))
    except IdentityError as exc:
        _refused(exc, "second-factor")
        raise


def otpauth_uri(email: str, secret: str) -> str:
    label = urllib.parse.quote(f"{OTP_ISSUER}:{email}")
    return f"otpauth://totp/{label}?" + urllib.parse.urlencode({"secret": secret, "issuer": OTP_ISSUER})


def start_mfa_setup(identity: Identity, user: Principal) -> MfaSetupResponse:
    secret = identity.start_mfa_setup(user)
    email = identity.user_info(user).email
    return MfaSetupResponse(
        secret_code=secret.secret, otpauth_uri=otpauth_uri(email, secret.secret), session=secret.session
    )


def verify_mfa_setup(identity: Identity, user: Principal, code: str, session: str | None) -> StatusResponse:
    identity.finish_mfa_setup(user, code, session)
    return StatusResponse(status="mfa-enabled")


def sign_out(identity: Identity, user: Principal) -> StatusResponse:
    identity.sign_out(user)
    return StatusResponse(status="signed-out")


def refresh(identity: Identity, refresh_token: str) -> TokensResponse:
    try:
        return _tokens(identity.refresh(refresh_token))
    except IdentityError as exc:
        # Identity providers word a rejected refresh token as a failed password sign-in.
        if exc.code != "NOT_AUTHORIZED":
            raise
        raise IdentityError("NOT_AUTHORIZED", "the refresh token is invalid or expired: sign in again", 401) from exc


def me(identity: Identity, user: Principal) -> MeResponse:
    info = identity.user_info(user)
    return MeResponse(user_id=info.user_id, email=info.email, groups=list(info.groups or user.groups))


# --- HTTP: each route's request -> the operation's arguments --------------------------


def client_context(ctx: Ctx, device_data: str | None) -> ClientContext:
    """Who is signing in, as the runtime's gateway vouches for it (Request.source_ip)."""
    req = ctx.request
    return ClientContext(
        ip=req.source_ip,
        user_agent=req.headers.get("user-agent"),
        host=req.headers.get("host"),
        path=req.path,
        device_data=device_data,
    )


@route(
    "POST",
    "/api/auth/signup",
    "signUp",
    PUBLIC,
    "accounts",
    "Create an account (the same 202 whether or not the address has one)",
    request=SignUpRequest,
    response=SignUpResponse,
    status=202,
)
def http_sign_up(ctx: Ctx) -> SignUpResponse:
    return sign_up(ctx.services.identity, ctx.body.email, ctx.body.password)


@route(
    "POST",
    "/api/auth/confirm",
    "confirmSignUp",
    PUBLIC,
    "accounts",
    "Confirm an account with the emailed code",
    request=ConfirmRequest,
    response=StatusResponse,
)
def http_confirm(ctx: Ctx) -> StatusResponse:
    return confirm(ctx.services.identity, ctx.body.email, ctx.body.code)


@route(
    "POST",
    "/api/auth/login",
    "logIn",
    PUBLIC,
    "accounts",
    "Sign in: tokens, or 202 with an MFA challenge to answer",
    request=LoginRequest,
    response=TokensResponse,
    answers=(
        Answer(
            202,
            "A challenge to answer: SOFTWARE_TOKEN_MFA (POST /api/auth/mfa) or MFA_SETUP (enrol first)",
            ChallengeResponse,
        ),
    ),
)
def http_log_in(ctx: Ctx) -> TokensResponse | Reply:
    b = ctx.body
    result = log_in(ctx.services.identity, b.email, b.password, client_context(ctx, b.device_data))
    return Reply(202, result) if isinstance(result, ChallengeResponse) else result


@route(
    "POST",
    "/api/auth/mfa",
    "answerMfaChallenge",
    PUBLIC,
    "accounts",
    "Finish sign-in with the code from the authenticator app",
    request=MfaRequest,
    response=TokensResponse,
)
def http_answer_mfa(ctx: Ctx) -> TokensResponse:
    b = ctx.body
    return answer_mfa(ctx.services.identity, b.email, b.session, b.code, client_context(ctx, b.device_data))


@route(
    "POST",
    "/api/auth/mfa/setup",
    "startMfaSetup",
    CUSTOMER,
    "accounts",
    "Start enrolling an authenticator app: its secret",
    response=MfaSetupResponse,
)
def http_start_mfa_setup(ctx: Ctx) -> MfaSetupResponse:
    return start_mfa_setup(ctx.services.identity, ctx.user)


@route(
    "POST",
    "/api/auth/mfa/verify",
    "verifyMfaSetup",
    CUSTOMER,
    "accounts",
    "Turn the authenticator on with its first code; ends every session (sign in again)",
    request=MfaVerifyRequest,
    response=StatusResponse,
)
def http_verify_mfa_setup(ctx: Ctx) -> StatusResponse:
    return verify_mfa_setup(ctx.services.identity, ctx.user, ctx.body.code, ctx.body.session)


@route(
    "POST",
    "/api/auth/signout",
    "signOut",
    CUSTOMER,
    "accounts",
    "Sign out: revokes the refresh tokens server-side",
    response=StatusResponse,
)
def http_sign_out(ctx: Ctx) -> StatusResponse:
    return sign_out(ctx.services.identity, ctx.user)


@route(
    "POST",
    "/api/auth/refresh",
    "refreshTokens",
    PUBLIC,
    "accounts",
    "Exchange a refresh token for new tokens",
    request=RefreshRequest,
    response=TokensResponse,
)
def http_refresh(ctx: Ctx) -> TokensResponse:
    return refresh(ctx.services.identity, ctx.body.refresh_token)


@route("GET", "/api/me", "getMe", CUSTOMER, "accounts", "The signed-in user", response=MeResponse)
def http_me(ctx: Ctx) -> MeResponse:
    return me(ctx.services.identity, ctx.user)
