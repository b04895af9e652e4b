"""Sign-up, confirmation, sign-in (with its MFA challenge), MFA enrolment, token refresh,
sign-out and the caller's profile."""

from __future__ import annotations

import logging
import urllib.parse

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
from .ports import Challenge, ClientContext, IdentityError
from .routes import CUSTOMER, PUBLIC, Answer, Reply, route

OTP_ISSUER = "Shop"  # the name authenticator apps show next to the account
# Logged once per refused sign-in (wrong password, unknown address, wrong code): each cloud's
# monitoring counts this marker in the accounts function's logs and alarms on a spike
# (credential stuffing). Never the address or the password.
SIGN_IN_FAILED = "shop.sign_in_failed"
log = logging.getLogger("shop.accounts")


def _tokens(t):
    return TokensResponse(
        id_token=t.id_token, access_token=t.access_token, refresh_token=t.refresh_token, expires_in=t.expires_in
    )


def client_context(ctx) -> ClientContext:
    """Who is signing in, as the runtime's gateway vouches for it (Request.source_ip)."""
    req = ctx.request
    return ClientContext(
        ip=req.source_ip,
        user_agent=req.headers.get("user-agent"),
        host=req.headers.get("host"),
        path=req.path,
        device_data=getattr(ctx.body, "device_data", None),
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
def sign_up(ctx):
    """Answers the same for a new and an existing address, like sign-in does for a wrong
    password: whoever owns the address learns the rest from their mailbox."""
    identity = ctx.services.identity
    try:
        identity.sign_up(ctx.body.email, ctx.body.password)
    except IdentityError as exc:
        if exc.code != "USER_EXISTS":
            raise
    return SignUpResponse(status="pending", confirmed=identity.auto_confirm)


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
def confirm(ctx):
    ctx.services.identity.confirm(ctx.body.email, ctx.body.code)
    return StatusResponse(status="confirmed")


def _signed_in(result):
    if isinstance(result, Challenge):
        return Reply(202, ChallengeResponse(challenge=result.name, session=result.session))
    return _tokens(result)


def _refused(exc: IdentityError, step: str) -> None:
    if exc.status in (401, 403):
        log.warning("%s step=%s code=%s", SIGN_IN_FAILED, step, exc.code)


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
def log_in(ctx):
    try:
        return _signed_in(ctx.services.identity.log_in(ctx.body.email, ctx.body.password, client_context(ctx)))
    except IdentityError as exc:
        _refused(exc, "password")
        raise


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
def answer_mfa(ctx):
    b = ctx.body
    try:
        return _tokens(ctx.services.identity.answer_mfa(b.email, b.session, b.code, client_context(ctx)))
    except IdentityError as exc:
        _refused(exc, "second-factor")
        raise


def otpauth_uri(email: str, secret: str) -> str:
    label = urllib.parse.quote(f"{OTP_ISSUER}:{email}")
    return f"otpauth://totp/{label}?" + urllib.parse.urlencode({"secret": secret, "issuer": OTP_ISSUER})


@route(
    "POST",
    "/api/auth/mfa/setup",
    "startMfaSetup",
    CUSTOMER,
    "accounts",
    "Start enrolling an authenticator app: its secret",
    response=MfaSetupResponse,
)
def start_mfa_setup(ctx):
    identity = ctx.services.identity
    secret = identity.start_mfa_setup(ctx.principal)
    email = identity.user_info(ctx.principal).email
    return MfaSetupResponse(
        secret_code=secret.secret, otpauth_uri=otpauth_uri(email, secret.secret), session=secret.session
    )


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
def verify_mfa_setup(ctx):
    ctx.services.identity.finish_mfa_setup(ctx.principal, ctx.body.code, ctx.body.session)
    return StatusResponse(status="mfa-enabled")


@route(
    "POST",
    "/api/auth/signout",
    "signOut",
    CUSTOMER,
    "accounts",
    "Sign out: revokes the refresh tokens server-side",
    response=StatusResponse,
)
def sign_out(ctx):
    ctx.services.identity.sign_out(ctx.principal)
    return StatusResponse(status="signed-out")


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
def refresh(ctx):
    try:
        return _tokens(ctx.services.identity.refresh(ctx.body.refresh_token))
    except IdentityError as exc:
        # Identity providers word a rejected refresh token as a failed password sign-in.
        if exc.code != "NOT_AUTHORIZED":
            raise
        raise IdentityError("NOT_AUTHORIZED", "the refresh token is invalid or expired: sign in again", 401) from exc


@route(
    "GET",
    "/api/me",
    "getMe",
    CUSTOMER,
    "accounts",
    "The signed-in user",
    response=MeResponse,
)
def me(ctx):
    info = ctx.services.identity.user_info(ctx.principal)
    return MeResponse(user_id=info.user_id, email=info.email, groups=list(info.groups or ctx.principal.groups))
