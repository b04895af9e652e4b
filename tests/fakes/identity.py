"""An Identity that issues real RS256 JWTs shaped like each cloud's tokens, plus a
recording notifier and a media stub: what the runtime scenario tests wire around the
Cosmos/Firestore stores. The JWKS is served on loopback so the self-verifying mode of the
runtimes fetches it through PyJWT like a real JWKS URL."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from functions.shop.ports import IdentityError, OrderEvent, Principal, Tokens, UploadForm, UserInfo

ISSUER = "https://issuer.test/tenant"
AUDIENCE = "shop-api"


class JwtIdentity:
    auto_confirm = False  # sign-ups wait for their emailed code

    def __init__(self, flavour: str, admins: tuple[str, ...] = ()) -> None:
        self.flavour = flavour  # "entra" | "identity-platform"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key"
        self.users: dict[str, tuple[str, str]] = {}  # email -> (user id, password)
        self.admins = set(admins)
        self.refresh_tokens: dict[str, str] = {}

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    @contextmanager
    def serve_jwks(self) -> Iterator[str]:
        """The JWKS on a loopback HTTP server (PyJWT fetches only http(s) URLs)."""
        body = json.dumps(self.jwks()).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        finally:
            server.shutdown()
            server.server_close()

    def token(self, email: str, *, expires_in: int = 3600, audience: str = AUDIENCE, **extra) -> str:
        user_id, _ = self.users[email]
        groups = ["admin"] if email in self.admins else []
        now = int(time.time())
        if self.flavour == "entra":
            claims = {
                "oid": user_id,
                "sub": f"pairwise-{user_id}",
                "tid": "tenant-1",
                "scp": "shop.access",
                "roles": groups,
                "emails": [email],
            }
        else:
            claims = {"user_id": user_id, "sub": user_id, "email": email, "groups": groups}
        if email in self.admins:  # admins always sign in with their second factor
            claims |= (
                {"amr": ["pwd", "mfa"]} if self.flavour == "entra" else {"firebase": {"sign_in_second_factor": "totp"}}
            )
        claims |= {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + expires_in, **extra}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    # -- Identity port --------------------------------------------------------------
    def sign_up(self, email: str, password: str) -> str:
        if email in self.users:
            raise IdentityError("USER_EXISTS", "an account with this email already exists", 409)
        if len(password) < 8:
            raise IdentityError("INVALID_PASSWORD", "the password is too short", 400)
        self.users[email] = (str(uuid.uuid4()), password)
        return self.users[email][0]

    def confirm(self, email: str, code: str) -> None:
        return None

    def log_in(self, email: str, password: str, context=None) -> Tokens:
        if self.users.get(email, (None, None))[1] != password:
            raise IdentityError("NOT_AUTHORIZED", "incorrect email or password", 401)
        refresh = uuid.uuid4().hex
        self.refresh_tokens[refresh] = email
        access = self.token(email)
        return Tokens(id_token=access, access_token=access, refresh_token=refresh, expires_in=3600)

    def refresh(self, refresh_token: str) -> Tokens:
        email = self.refresh_tokens.get(refresh_token)
        if email is None:
            raise IdentityError("NOT_AUTHORIZED", "the refresh token is not valid", 401)
        access = self.token(email)
        return Tokens(id_token=access, access_token=access, refresh_token=refresh_token, expires_in=3600)

    def sign_out(self, principal: Principal) -> None:
        email = self.lookup_email(principal.user_id)
        self.refresh_tokens = {t: e for t, e in self.refresh_tokens.items() if e != email}

    def verify_admin(self, principal: Principal) -> None:
        email = self.lookup_email(principal.user_id)
        if email is None:
            raise IdentityError("NOT_AUTHORIZED", "the session has ended; sign in again", 401)
        if email not in self.admins:
            raise IdentityError("FORBIDDEN", "this operation needs the admin group", 403)
        if not principal.mfa:
            raise IdentityError("MFA_REQUIRED", "admins sign in with a second factor", 403)

    def user_info(self, principal: Principal) -> UserInfo:
        email = principal.email or self.lookup_email(principal.user_id)
        if email is None:
            raise IdentityError("NOT_AUTHORIZED", "unknown user", 401)
        return UserInfo(principal.user_id, email, principal.groups)

    def lookup_email(self, user_id: str) -> str | None:
        return next((e for e, (uid, _) in self.users.items() if uid == user_id), None)


class RecordingNotifier:
    def __init__(self) -> None:
        self.events: list[OrderEvent] = []
        self.emails: list[tuple[str, str, str]] = []
        self.fail_emails = 0  # the next N send_email calls raise

    def publish_order_event(self, event: OrderEvent) -> None:
        self.events.append(event)

    def send_email(self, to: str, subject: str, text: str) -> None:
        if self.fail_emails:
            self.fail_emails -= 1
            raise RuntimeError("injected email failure")
        self.emails.append((to, subject, text))


class StubMedia:
    def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> UploadForm:
        fields = {"key": f"media/{key}", "Content-Type": content_type, "policy": "x", "x-amz-signature": "x"}
        return UploadForm("POST", "https://uploads.test/", fields, {}, f"https://cdn.test/media/{key}")
