"""Bearer token -> Principal, for the Azure and GCP HTTP entrypoints.

Two modes, chosen by the deployment (never by the request):
- the gateway validated the token (Azure API Management `validate-jwt`, GCP API Gateway's
  JWT security) and the function cannot be reached except through it: set
  SHOP_GATEWAY_VALIDATED_JWT=true and the claims are decoded without re-verifying;
- otherwise the function verifies the token itself against SHOP_JWKS_URL with
  SHOP_JWT_ISSUER and SHOP_JWT_AUDIENCE (PyJWT, imported only in this mode).
With neither configured no principal is ever produced: protected routes answer 401.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

from functions.shop import datamodel
from functions.shop.http import bearer_token
from functions.shop.ports import Principal

log = logging.getLogger(__name__)

ENV_GATEWAY_VALIDATED = datamodel.TokenEnv.GATEWAY_VALIDATED_JWT
ENV_JWKS_URL = datamodel.TokenEnv.JWKS_URL
ENV_JWT_ISSUER = datamodel.TokenEnv.JWT_ISSUER
ENV_JWT_AUDIENCE = datamodel.TokenEnv.JWT_AUDIENCE

_jwks_client: Any = None


def gateway_validated() -> bool:
    return os.environ.get(ENV_GATEWAY_VALIDATED, "").lower() in ("1", "true", "yes")


def b64url_json(segment: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except ValueError:  # binascii.Error and JSONDecodeError are ValueErrors; so is bad UTF-8
        return None
    return value if isinstance(value, dict) else None


def unverified_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    return b64url_json(parts[1]) if len(parts) == 3 else None


def verified_claims(token: str) -> dict[str, Any] | None:
    global _jwks_client
    url = os.environ.get(ENV_JWKS_URL)
    if not url:
        return None
    import jwt  # PyJWT, only in self-verifying deployments

    try:
        if _jwks_client is None:
            _jwks_client = jwt.PyJWKClient(url, cache_keys=True)
        key = _jwks_client.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=os.environ.get(ENV_JWT_AUDIENCE),
            issuer=os.environ.get(ENV_JWT_ISSUER),
            options={"require": ["exp", "iss", "sub"]},
        )
    except jwt.PyJWTError as e:
        log.info("rejected bearer token: %s", e)
        return None


def is_access_token(claims: dict[str, Any]) -> bool:
    """ID tokens are for the client, not the API: Cognito marks them token_use=id, Entra's
    carry no `scp` (delegated access tokens always do). Identity Platform issues ID tokens
    only: its ID token is the API's bearer token by design (gcp_identity.py)."""
    if "token_use" in claims:
        return claims["token_use"] == "access"
    if "tid" in claims:
        return isinstance(claims.get("scp"), str) and bool(claims["scp"])
    return True


def second_factor(claims: dict[str, Any]) -> bool | None:
    """Whether the token says a second factor was used; None when it cannot say."""
    firebase = claims.get("firebase")
    if isinstance(firebase, dict):
        return bool(firebase.get("sign_in_second_factor"))
    amr = claims.get("amr")
    if isinstance(amr, list):
        return "mfa" in amr
    return None


def _verified_email(claims: dict[str, Any]) -> str | None:
    """The address, unless the token says it is unverified (a changed, unconfirmed one)."""
    if claims.get("email_verified") in (False, "false"):
        return None
    email = claims.get("email")
    if not isinstance(email, str):
        emails = claims.get("emails")
        email = emails[0] if isinstance(emails, list) and emails and isinstance(emails[0], str) else None
    if email is None and "@" in str(claims.get("preferred_username", "")):
        email = claims["preferred_username"]
    return email


def principal_from_claims(claims: dict[str, Any] | None, access_token: str | None) -> Principal | None:
    """Entra (oid/sub, roles/groups, email/emails/preferred_username), Identity Platform
    (user_id/sub, custom claim groups, email) and Cognito (sub, cognito:groups) claims."""
    if not claims or not is_access_token(claims):
        return None
    user_id = claims.get("oid") or claims.get("user_id") or claims.get("sub")
    if not isinstance(user_id, str) or not user_id:
        return None
    groups: list[str] = []
    for name in ("groups", "roles", "cognito:groups"):
        value = claims.get(name)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            groups += [g for g in value if isinstance(g, str) and g not in groups]
    email = _verified_email(claims)
    username = claims.get("preferred_username") or claims.get("name") or email
    return Principal(
        user_id=user_id,
        groups=tuple(groups),
        email=email,
        username=username if isinstance(username, str) else None,
        access_token=access_token,
        mfa=second_factor(claims),
    )


def principal_from_bearer(authorization: str | None) -> Principal | None:
    token = bearer_token(authorization)
    if token is None:
        return None
    claims = unverified_claims(token) if gateway_validated() else verified_claims(token)
    return principal_from_claims(claims, token)
