"""The local API gateway: HTTP in, API Gateway v2 event to the real AWS entrypoint, HTTP out.

Like API Gateway's JWT authorizer it verifies the bearer access token (RS256 against the
user pool's JWKS, issuer, expiry, client id, token use) before a protected route runs, and
passes the claims in requestContext.authorizer.jwt.claims, list claims flattened as "[a b]".
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import os
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from functions.shop import routes
from functions.shop.datamodel import MEDIA_PREFIX

log = logging.getLogger("shop.local.gateway")
# Function invocations running at once. Everything (gateway, functions, boto3, moto) shares
# one interpreter, so beyond a few per core extra threads only make every emulator call
# slower until boto3's read timeout turns them into 503s; excess requests wait here
# instead, like invocations queued behind Lambda's concurrency limit. Connections
# themselves are unbounded (one thread each).
CONCURRENCY = int(os.environ.get("SHOP_LOCAL_CONCURRENCY", "8"))
MAX_BODY = 1024 * 1024  # API Gateway's own limit is 10 MB; the handlers cap JSON at 64 KiB


class BadBody(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, client_id: str) -> None:
        self.jwks_url, self.issuer, self.client_id = jwks_url, issuer, client_id
        self._keys = None

    def keys(self):
        if self._keys is None:
            import jwt

            # The emulator picks the service from the (unverified) SigV4 scope: the path
            # alone (/<pool id>/.well-known/jwks.json) does not name one.
            scope = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cognito-idp/aws4_request, Signature=0"
            request = urllib.request.Request(self.jwks_url, headers={"Authorization": scope})
            with urllib.request.urlopen(request, timeout=5) as resp:
                self._keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(json.load(resp)).keys}
        return self._keys

    def claims(self, authorization: str | None) -> dict | None:
        import jwt

        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys().get(kid)
            if key is None:
                return None
            claims = jwt.decode(
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


def _event_body(body: bytes | None) -> dict:
    """Text bodies go in as text, anything else base64-encoded, as API Gateway does."""
    if not body:
        return {"body": None, "isBase64Encoded": False}
    try:
        return {"body": body.decode("utf-8"), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}


def flatten(claims: dict) -> dict[str, str]:
    return {k: ("[" + " ".join(map(str, v)) + "]") if isinstance(v, list) else str(v) for k, v in claims.items()}


def make_server(stack) -> ThreadingHTTPServer:
    from functions.adapters.aws_clients import client
    from functions.runtimes import aws_http, origin

    verifier = TokenVerifier(
        f"{stack.moto_url}/{stack.names['pool']}/.well-known/jwks.json", stack.issuer, stack.names["client"]
    )
    site_root = stack_site(stack)
    invocations = threading.BoundedSemaphore(CONCURRENCY)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "shop-local"
        # Headers and body leave in two writes: with Nagle on, the body waits for the client's
        # delayed ACK of the headers, +40 ms on every keep-alive response (found by the load bench).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # quiet: one line per request at debug level
            log.debug("%s " + fmt, self.address_string(), *args)

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            headers = {"content-type": "application/json", **(headers or {})}
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data) -> None:
            self._send(status, json.dumps(data).encode())

        def _body(self) -> bytes | None:
            raw = self.headers.get("content-length") or "0"
            if not raw.isdigit():
                self.close_connection = True  # we cannot know where this body ends
                raise BadBody(400, "BAD_REQUEST", "invalid Content-Length")
            length = int(raw)
            if length > MAX_BODY:
                self.close_connection = True  # the unread body must not be parsed as the next request
                raise BadBody(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {MAX_BODY} bytes")
            return self.rfile.read(length) if length else None

        def do_GET(self):
            self._route()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = do_CONNECT = do_GET

        def __getattr__(self, name: str):
            # any other method (QUERY, PROPFIND...) gets the API's JSON 404/405, not a 501 page
            if name.startswith("do_"):
                return self.do_GET
            raise AttributeError(name)

        def _route(self) -> None:
            url = urlsplit(self.path)
            path = unquote(url.path)
            try:
                if path.startswith("/api/") or path == "/api":
                    return self._api(path, url.query)
                if path == "/config.json" and self.command in ("GET", "HEAD"):
                    # what each cloud's deployment generates next to the storefront
                    return self._json(
                        200,
                        {
                            "apiBase": "/api",
                            "cloud": "local",
                            "region": "us-east-1",
                            "userPoolId": stack.names["pool"],
                            "userPoolClientId": stack.names["client"],
                        },
                    )
                if path == "/local/outbox" and self.command == "GET":
                    return self._json(200, stack.outbox())
                if path.startswith("/local/s3/") and self.command == "PUT":
                    return self._upload(path[len("/local/s3/") :])
                if path.startswith("/media/") and self.command in ("GET", "HEAD"):
                    return self._media(path[len("/media/") :])
                if self.command in ("GET", "HEAD"):
                    return self._static(path)
                self._json(405, {"error": {"code": "METHOD_NOT_ALLOWED", "message": "method not allowed"}})
            except BadBody as exc:
                self._json(exc.status, {"error": {"code": exc.code, "message": exc.message}})
            except (BrokenPipeError, ConnectionResetError):
                pass
            except Exception:  # the gateway itself failed: API Gateway answers a JSON 500 too
                log.exception("local gateway error on %s %s", self.command, path)
                self._json(
                    500,
                    {
                        "message": "Internal Server Error",
                        "error": {"code": "INTERNAL", "message": "local gateway error"},
                    },
                )

        def _api(self, path: str, raw_query: str) -> None:
            body = self._body()
            found = routes.match(self.command, path)
            if found is None:
                allowed = routes.allowed_methods(path)
                if allowed:
                    return self._send(
                        405,
                        json.dumps(
                            {"error": {"code": "METHOD_NOT_ALLOWED", "message": f"{self.command} is not allowed"}}
                        ).encode(),
                        {"allow": ", ".join(allowed)},
                    )
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": f"no route for {path}"}})
            route, params = found
            headers = {k.lower(): v for k, v in self.headers.items()}
            # Plays CloudFront: adds the origin secret when SHOP_ORIGIN_SECRET is set (functions/runtimes/origin.py).
            headers.update(origin.forward_headers())
            authorizer = None
            if route.auth != routes.PUBLIC:
                claims = verifier.claims(headers.get("authorization"))
                if claims is None:  # API Gateway answers 401 before the function runs
                    # API Gateway's own body is {"message": "Unauthorized"}; the shop's error
                    # shape rides along so clients can handle both the same way.
                    return self._send(
                        401,
                        json.dumps(
                            {"message": "Unauthorized", "error": {"code": "UNAUTHORIZED", "message": "Unauthorized"}}
                        ).encode(),
                        {"www-authenticate": 'Bearer error="invalid_token"'},
                    )
                authorizer = {"jwt": {"claims": flatten(claims), "scopes": None}}
            now = time.time()
            event = {
                "version": "2.0",
                "routeKey": route.route_key,
                "rawPath": path,
                "rawQueryString": raw_query,
                "headers": headers,
                "queryStringParameters": dict(parse_qsl(raw_query)) or None,
                "pathParameters": params or None,
                **_event_body(body),
                "requestContext": {
                    "accountId": "123456789012",
                    "apiId": "local",
                    "domainName": "127.0.0.1",
                    "http": {
                        "method": self.command,
                        "path": path,
                        "protocol": "HTTP/1.1",
                        "sourceIp": self.client_address[0],
                        "userAgent": headers.get("user-agent", ""),
                    },
                    "requestId": str(uuid.uuid4()),
                    "routeKey": route.route_key,
                    "stage": "$default",
                    "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                    "timeEpoch": int(now * 1000),
                    **({"authorizer": authorizer} if authorizer else {}),
                },
            }
            # this stack's adapters: several stacks may share the process (stack._Emulator)
            with invocations:  # bounded like Lambda's concurrency; see CONCURRENCY
                result = aws_http.handler(event, None, services_factory=lambda: stack.services)
            payload = result.get("body") or ""
            raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
            self._send(result["statusCode"], raw, result.get("headers"))

        def _upload(self, rest: str) -> None:
            bucket, _, key = rest.partition("/")
            if bucket != stack.names["bucket"] or not key.startswith(MEDIA_PREFIX):
                return self._json(403, {"error": {"code": "FORBIDDEN", "message": "uploads go to media/ only"}})
            client("s3").put_object(
                Bucket=bucket,
                Key=key,
                Body=self._body() or b"",
                ContentType=self.headers.get("content-type", "application/octet-stream"),
            )
            self._send(200, b"", {"content-type": "text/plain"})

        def _media(self, key: str) -> None:
            try:
                obj = client("s3").get_object(Bucket=stack.names["bucket"], Key=MEDIA_PREFIX + key)
            except Exception:
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": "no such image"}})
            self._send(
                200,
                obj["Body"].read(),
                {
                    "content-type": obj.get("ContentType", "application/octet-stream"),
                    "cache-control": "public, max-age=300",
                },
            )

        def _static(self, path: str) -> None:
            if site_root is None:
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": "no storefront (site/) here"}})
            target = (site_root / path.lstrip("/")).resolve()
            if site_root not in target.parents and target != site_root:
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": "not found"}})
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                if "." in path.rsplit("/", 1)[-1]:
                    return self._json(404, {"error": {"code": "NOT_FOUND", "message": "not found"}})
                target = site_root / "index.html"  # SPA route
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
                ctype += "; charset=utf-8"
            self._send(200, target.read_bytes(), {"content-type": ctype, "cache-control": "no-cache"})

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    return Server(("127.0.0.1", stack.port), Handler)


def stack_site(stack):
    from .stack import SITE

    return SITE.resolve() if (SITE / "index.html").is_file() else None
