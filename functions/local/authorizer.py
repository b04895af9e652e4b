"""API Gateway's JWT authorizer, locally: the bearer access token verified against the user
pool's JWKS (RS256, issuer, expiry, client id, token use) before a protected route runs."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import jwt

from functions.shop.http import bearer_token

# The emulator picks the service from the (unverified) SigV4 scope: the JWKS path alone
# (/<pool id>/.well-known/jwks.json) does not name one.
_COGNITO_SCOPE = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cognito-idp/aws4_request, Signature=0"

Claims = dict[str, Any]


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, client_id: str) -> None:
        self.jwks_url, self.issuer, self.client_id = jwks_url, issuer, client_id
        self._keys: dict[str | None, jwt.PyJWK] | None = None

    def keys(self) -> dict[str | None, jwt.PyJWK]:
        """The pool's signing keys by key id, fetched once (the emulator's key lives as long as it)."""
        if self._keys is None:
            request = urllib.request.Request(self.jwks_url, headers={"Authorization": _COGNITO_SCOPE})
            with urllib.request.urlopen(request, timeout=5) as resp:
                keys = jwt.PyJWKSet.from_dict(json.load(resp)).keys
            self._keys = {k.key_id: k for k in keys}
        return self._keys

    def claims(self, authorization: str | None) -> Claims | None:
        """The verified claims of an `Authorization: Bearer <access token>` header, else None."""
        token = bearer_token(authorization)
        if token is None:
            return None
        try:
            key = self.keys().get(jwt.get_unverified_header(token).get("kid"))
            if key is None:
                return None
            claims: Claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        audience = claims.get("client_id") or claims.get("aud")
        if audience != self.client_id or claims.get("token_use", "access") != "access":
            return None
        return claims


def flatten(claims: Claims) -> dict[str, str]:
    """Claims as the HTTP API authorizer hands them to the function: every value a string,
    lists as "[a b]"."""
    return {k: ("[" + " ".join(map(str, v)) + "]") if isinstance(v, list) else str(v) for k, v in claims.items()}
