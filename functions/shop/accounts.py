"""Sign-up, confirmation, sign-in, token refresh and the caller's profile."""

from __future__ import annotations

from .models import MeResponse, SignUpResponse, StatusResponse, TokensResponse
from .ports import IdentityError


def _tokens(t):
    return TokensResponse(
        id_token=t.id_token, access_token=t.access_token, refresh_token=t.refresh_token, expires_in=t.expires_in
    )


def sign_up(ctx):
    identity = ctx.services.identity
    user_id = identity.sign_up(ctx.body.email, ctx.body.password)
    return SignUpResponse(user_id=user_id, confirmed=bool(getattr(identity, "auto_confirm", False)))


def confirm(ctx):
    ctx.services.identity.confirm(ctx.body.email, ctx.body.code)
    return StatusResponse(status="confirmed")


def log_in(ctx):
    return _tokens(ctx.services.identity.log_in(ctx.body.email, ctx.body.password))


def refresh(ctx):
    try:
        return _tokens(ctx.services.identity.refresh(ctx.body.refresh_token))
    except IdentityError as exc:
        # Identity providers word a rejected refresh token as a failed password sign-in.
        if exc.code != "NOT_AUTHORIZED":
            raise
        raise IdentityError("NOT_AUTHORIZED", "the refresh token is invalid or expired: sign in again", 401) from exc


def me(ctx):
    info = ctx.services.identity.user_info(ctx.principal)
    return MeResponse(user_id=info.user_id, email=info.email, groups=list(info.groups or ctx.principal.groups))
