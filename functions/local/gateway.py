"""The local API gateway: HTTP in, API Gateway v2 event to the real AWS entrypoint, HTTP out.

Like API Gateway's JWT authorizer it verifies the bearer access token (RS256 against the
user pool's JWKS, issuer, expiry, client id, token use) before a protected route runs, and
passes the claims in requestContext.authorizer.jwt.claims, list claims flattened as "[a b]".
"""

from __future__ import annotations

import json
import logging
import mimetypes
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from functions.shop import routes
from functions.shop.datamodel import MEDIA_PREFIX

log = logging.getLogger("shop.local.gateway")
MAX_BODY = 1024 * 1024  # API Gateway's own limit is 10 MB; the handlers cap JSON at 64 KiB


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, client_id: str) -> None:
        self.jwks_url, self.issuer, self.client_id = jwks_url, issuer, client_id
        self._keys = None

    def keys(self):
        if self._keys is None:
            import jwt

            with urllib.request.urlopen(self.jwks_url, timeout=5) as resp:
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
            claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=self.issuer,
                                options={"verify_aud": False, "require": ["exp", "iss", "sub"]})
        except jwt.PyJWTError:
            return None
        audience = claims.get("client_id") or claims.get("aud")
        if audience != self.client_id or claims.get("token_use", "access") != "access":
            return None
        return claims


def flatten(claims: dict) -> dict[str, str]:
    return {k: ("[" + " ".join(map(str, v)) + "]") if isinstance(v, list) else str(v) for k, v in claims.items()}


def make_server(stack) -> ThreadingHTTPServer:
    from functions.adapters.aws_clients import client
    from functions.runtimes import aws_http

    verifier = TokenVerifier(f"{stack.moto_url}/{stack.names['pool']}/.well-known/jwks.json", stack.issuer,
                             stack.names["client"])
    site_root = stack_site(stack)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "shop-local"

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
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                raise ValueError("too large")
            return self.rfile.read(length) if length else None

        def do_GET(self):
            self._route()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

        def _route(self) -> None:
            url = urlsplit(self.path)
            path = unquote(url.path)
            try:
                if path.startswith("/api/") or path == "/api":
                    return self._api(path, url.query)
                if path == "/config.json" and self.command in ("GET", "HEAD"):
                    # what each cloud's deployment generates next to the storefront
                    return self._json(200, {"apiBase": "/api", "cloud": "local", "region": "us-east-1",
                                            "userPoolId": stack.names["pool"],
                                            "userPoolClientId": stack.names["client"]})
                if path == "/local/outbox" and self.command == "GET":
                    return self._json(200, stack.outbox())
                if path.startswith("/local/s3/") and self.command == "PUT":
                    return self._upload(path[len("/local/s3/"):])
                if path.startswith("/media/") and self.command in ("GET", "HEAD"):
                    return self._media(path[len("/media/"):])
                if self.command in ("GET", "HEAD"):
                    return self._static(path)
                self._json(405, {"error": {"code": "METHOD_NOT_ALLOWED", "message": "method not allowed"}})
            except ValueError:
                self._json(413, {"error": {"code": "PAYLOAD_TOO_LARGE", "message": "request body too large"}})
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _api(self, path: str, raw_query: str) -> None:
            body = self._body()
            found = routes.match(self.command, path)
            if found is None:
                allowed = routes.allowed_methods(path)
                if allowed:
                    return self._send(405, json.dumps({"error": {"code": "METHOD_NOT_ALLOWED",
                                      "message": f"{self.command} is not allowed"}}).encode(),
                                      {"allow": ", ".join(allowed)})
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": f"no route for {path}"}})
            route, params = found
            headers = {k.lower(): v for k, v in self.headers.items()}
            authorizer = None
            if route.auth != routes.PUBLIC:
                claims = verifier.claims(headers.get("authorization"))
                if claims is None:  # API Gateway answers 401 before the function runs
                    return self._json(401, {"error": {"code": "UNAUTHORIZED", "message": "Unauthorized"}})
                authorizer = {"jwt": {"claims": flatten(claims), "scopes": None}}
            now = time.time()
            event = {
                "version": "2.0", "routeKey": route.route_key, "rawPath": path, "rawQueryString": raw_query,
                "headers": headers, "queryStringParameters": dict(parse_qsl(raw_query)) or None,
                "pathParameters": params or None, "isBase64Encoded": False,
                "body": body.decode("utf-8", "replace") if body else None,
                "requestContext": {
                    "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1",
                    "http": {"method": self.command, "path": path, "protocol": "HTTP/1.1",
                             "sourceIp": self.client_address[0], "userAgent": headers.get("user-agent", "")},
                    "requestId": str(uuid.uuid4()), "routeKey": route.route_key, "stage": "$default",
                    "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
                    **({"authorizer": authorizer} if authorizer else {}),
                },
            }
            result = aws_http.handler(event, None)
            self._send(result["statusCode"], result["body"].encode(), result.get("headers"))

        def _upload(self, rest: str) -> None:
            bucket, _, key = rest.partition("/")
            if bucket != stack.names["bucket"] or not key.startswith(MEDIA_PREFIX):
                return self._json(403, {"error": {"code": "FORBIDDEN", "message": "uploads go to media/ only"}})
            client("s3").put_object(Bucket=bucket, Key=key, Body=self._body() or b"",
                                    ContentType=self.headers.get("content-type", "application/octet-stream"))
            self._send(200, b"", {"content-type": "text/plain"})

        def _media(self, key: str) -> None:
            try:
                obj = client("s3").get_object(Bucket=stack.names["bucket"], Key=MEDIA_PREFIX + key)
            except Exception:
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": "no such image"}})
            self._send(200, obj["Body"].read(), {"content-type": obj.get("ContentType", "application/octet-stream"),
                                                 "cache-control": "public, max-age=300"})

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
