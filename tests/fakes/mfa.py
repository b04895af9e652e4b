"""Sign an admin in over HTTP the way the storefront does: enrol an authenticator when the
shop asks for one (MFA_SETUP), then answer the SOFTWARE_TOKEN_MFA challenge with a TOTP
code. The enrolled secret is remembered per address; a deployed shop's admin secret comes
from SHOP_ADMIN_TOTP_SECRET. (moto accepts any code; the codes sent are real ones anyway.)"""

from __future__ import annotations

import os

import requests

from functions.adapters import totp

_secrets: dict[str, str] = {}


def remember(email: str, secret: str) -> None:
    _secrets[email.lower()] = secret


def secret_of(email: str) -> str:
    secret = _secrets.get(email.lower()) or os.environ.get("SHOP_ADMIN_TOTP_SECRET")
    assert secret, f"{email} has an authenticator this run did not enrol: set SHOP_ADMIN_TOTP_SECRET"
    return secret


def _post(base_url: str, path: str, body: dict | None = None, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(base_url + path, json=body, headers=headers, timeout=30)


def enrol(base_url: str, email: str, setup_session: str) -> str:
    """Enrol an authenticator with the MFA_SETUP session; the secret."""
    setup = _post(base_url, "/api/auth/mfa/setup", token=setup_session)
    assert setup.status_code == 200, f"MFA setup for {email}: {setup.status_code} {setup.text}"
    secret = setup.json()["secretCode"]
    verify = _post(
        base_url, "/api/auth/mfa/verify", {"code": totp.code(secret), "session": setup.json()["session"]}, setup_session
    )
    assert verify.status_code == 200, f"MFA verify for {email}: {verify.status_code} {verify.text}"
    _secrets[email.lower()] = secret
    return secret


def sign_in(base_url: str, email: str, password: str) -> dict:
    """Tokens, through whatever challenge the shop sets."""
    login = _post(base_url, "/api/auth/login", {"email": email, "password": password})
    if login.status_code == 202 and login.json()["challenge"] == "MFA_SETUP":
        enrol(base_url, email, login.json()["session"])
        login = _post(base_url, "/api/auth/login", {"email": email, "password": password})
    if login.status_code == 200:
        return login.json()
    assert login.status_code == 202, f"login of {email}: {login.status_code} {login.text}"
    challenge = login.json()
    assert challenge["challenge"] == "SOFTWARE_TOKEN_MFA", challenge
    secret = secret_of(email)
    answer = _post(
        base_url, "/api/auth/mfa", {"email": email, "session": challenge["session"], "code": totp.code(secret)}
    )
    assert answer.status_code == 200, f"MFA answer for {email}: {answer.status_code} {answer.text}"
    return answer.json()
