"""The local API gateway: HTTP in, API Gateway v2 event to the real AWS entrypoint, HTTP out.

Like API Gateway's JWT authorizer it verifies the bearer access token (RS256 against the
user pool's JWKS, issuer, expiry, client id, token use) before a protected route runs, and
passes the claims in requestContext.authorizer.jwt.claims, list claims flattened as "[a b]".
Like the CDN it sends the storefront's security headers with every response. It answers
only requests addressed to a loopback name (so a web page cannot reach it through DNS
rebinding), and the outbox only to whoever holds this run's outbox key or an admin token.
"""

from __future__ import annotations

import base64
import gzip
import hmac
import json
import logging
import os
import re
import threading
import time
import urllib.request
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from functions.shop import routes, security_headers
from functions.shop.datamodel import IMAGE_TYPES, MAX_IMAGE_BYTES, MEDIA_PREFIX
from providers.site_files import ENTRY, GENERATED_CONFIG, build_site, cache_control, site_files

from .loopback import is_loopback_host

log = logging.getLogger("shop.local.gateway")
# Function invocations running at once. Everything (gateway, functions, boto3, moto) shares
# one interpreter, so beyond a few per core extra threads only make every emulator call
# slower until boto3's read timeout turns them into 503s; excess requests wait here
# instead, like invocations queued behind Lambda's concurrency limit. Connections
# themselves are unbounded (one thread each).
CONCURRENCY = int(os.environ.get("SHOP_LOCAL_CONCURRENCY", "8"))
MAX_BODY = 1024 * 1024  # API Gateway's own limit is 10 MB; the handlers cap JSON at 64 KiB
# The CDN's headers minus HSTS (plain http here); uploads go through this gateway: no other origin.
SECURITY_HEADERS = security_headers.response_headers(https=False)
OUTBOX_KEY_HEADER = "x-shop-outbox-key"
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")
_MAX_LINE = 4096
_MAX_TRAILERS = 32
_UNREAD = object()
# An upload form: the largest image plus room for the signed fields around it.
MAX_UPLOAD_BODY = MAX_IMAGE_BYTES + 64 * 1024
# Media are images, never documents: nothing in them may run or load anything.
MEDIA_CSP = "default-src 'none'; sandbox"


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
    upload_creds = upload_credentials()
    site = LocalSite(site_root) if site_root else None
    invocations = threading.BoundedSemaphore(CONCURRENCY)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "shop-local"
        # Headers and body leave in two writes: with Nagle on, the body waits for the client's
        # delayed ACK of the headers, +40 ms on every keep-alive response (found by the load bench).
        disable_nagle_algorithm = True
        _request_body = _UNREAD

        def log_message(self, fmt, *args):  # quiet: one line per request at debug level
            log.debug("%s " + fmt, self.address_string(), *args)

        def _send(
            self, status: int, body: bytes, headers: dict[str, str] | None = None, *, stricter: dict | None = None
        ) -> None:
            self.send_response(status)
            # the CDN's policy overrides whatever the origin said (CloudFront's override=True);
            # `stricter` is this gateway's own tightening for a path (media), applied last
            merged = {"content-type": "application/json"}
            merged.update({k.lower(): v for k, v in (headers or {}).items()})
            merged.update(SECURITY_HEADERS)
            merged.update(stricter or {})
            if self.close_connection:
                merged["connection"] = "close"
            for k, v in merged.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data) -> None:
            self._send(status, json.dumps(data).encode())

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            # the request line or headers were unreadable: JSON like every other answer, then close
            self.close_connection = True
            if self.request_version == "HTTP/0.9":  # the request line did not parse: still send a status line
                self.request_version = self.protocol_version
            status = HTTPStatus(code)
            self._json(code, {"error": {"code": status.name, "message": message or status.phrase}})

        def _body(self, limit: int = MAX_BODY) -> bytes | None:
            """The request body, read once per request, whatever route asks for it."""
            if self._request_body is _UNREAD:
                try:
                    self._request_body = self._read_body(limit)
                except BadBody:
                    self.close_connection = True  # we cannot know where this body ends
                    raise
            return self._request_body

        def _read_body(self, limit: int) -> bytes | None:
            encodings = self.headers.get_all("transfer-encoding") or []
            if encodings:
                if self.headers.get("content-length") is not None:
                    # two framings of one body: the classic request-smuggling ambiguity
                    raise BadBody(400, "BAD_REQUEST", "Content-Length together with Transfer-Encoding")
                if ",".join(encodings).strip().lower() != "chunked":
                    raise BadBody(501, "NOT_IMPLEMENTED", "only Transfer-Encoding: chunked is supported")
                return self._read_chunked(limit) or None
            lengths = self.headers.get_all("content-length") or ["0"]
            raw = lengths[0].strip()
            if not raw.isdigit() or any(other.strip() != raw for other in lengths):
                raise BadBody(400, "BAD_REQUEST", "invalid Content-Length")
            length = int(raw)
            if length > limit:  # the unread body must not be parsed as the next request
                raise BadBody(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {limit} bytes")
            return self.rfile.read(length) if length else None

        def _read_chunked(self, limit: int) -> bytes:
            body = bytearray()
            while True:
                size = self._chunk_size(self._line())
                if size == 0:
                    for _ in range(_MAX_TRAILERS):  # trailers, up to the blank line
                        if self._line() == b"":
                            return bytes(body)
                    raise BadBody(400, "BAD_REQUEST", "too many trailer fields")
                if len(body) + size > limit:
                    raise BadBody(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {limit} bytes")
                chunk = self.rfile.read(size)
                if len(chunk) != size or self._line() != b"":
                    raise BadBody(400, "BAD_REQUEST", "malformed chunked body")
                body += chunk

        def _line(self) -> bytes:
            """One CRLF-terminated line of the chunked framing, without its CRLF."""
            line = self.rfile.readline(_MAX_LINE + 1)
            if not line.endswith(b"\r\n"):
                raise BadBody(400, "BAD_REQUEST", "malformed chunked body")
            return line[:-2]

        @staticmethod
        def _chunk_size(line: bytes) -> int:
            size = line.split(b";", 1)[0].strip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size):
                raise BadBody(400, "BAD_REQUEST", "malformed chunk size")
            return int(size, 16)

        def do_GET(self):
            self._route()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = do_CONNECT = do_GET

        def __getattr__(self, name: str):
            # any other method (QUERY, PROPFIND...) gets the API's JSON 404/405, not a 501 page
            if name.startswith("do_"):
                return self.do_GET
            raise AttributeError(name)

        def _route(self) -> None:
            self._request_body = _UNREAD
            url = urlsplit(self.path)
            path = unquote(url.path)
            try:
                if not self._addressed_to_loopback(url.netloc):
                    self.close_connection = True
                    return self._json(
                        421,
                        {
                            "error": {
                                "code": "MISDIRECTED_REQUEST",
                                "message": "this shop answers only on 127.0.0.1, localhost or [::1]",
                            }
                        },
                    )
                if not path.startswith("/local/s3/"):  # uploads read theirs with the upload limit
                    self._body()  # every route: an unread body would be parsed as the next request
                if path.startswith("/api/") or path == "/api":
                    return self._api(path, url.query)
                if path == "/config.json" and self.command in ("GET", "HEAD"):
                    # what each cloud's deployment generates next to the storefront, same caching
                    config = {
                        "apiBase": "/api",
                        "cloud": "local",
                        "region": "us-east-1",
                        "userPoolId": stack.names["pool"],
                        "userPoolClientId": stack.names["client"],
                    }
                    return self._send(
                        200, json.dumps(config).encode(), {"cache-control": cache_control(GENERATED_CONFIG)}
                    )
                if path == "/local/outbox" and self.command == "GET":
                    return self._outbox(url.query)
                if path.startswith("/local/s3/"):
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

        def _addressed_to_loopback(self, authority: str) -> bool:
            hosts = self.headers.get_all("host") or []
            if len(hosts) != 1 or not is_loopback_host(hosts[0], stack.port):
                return False
            return not authority or is_loopback_host(authority, stack.port)

        def _outbox(self, raw_query: str) -> None:
            """Everyone's mail: for whoever holds this run's outbox key (printed by `make dev`) or an admin."""
            offered = self.headers.get(OUTBOX_KEY_HEADER) or dict(parse_qsl(raw_query)).get("key") or ""
            if hmac.compare_digest(offered.encode(), stack.outbox_key.encode()):
                return self._json(200, stack.outbox())
            claims = verifier.claims(self.headers.get("authorization"))
            if claims is not None and routes.ADMIN_GROUP in (claims.get("cognito:groups") or []):
                return self._json(200, stack.outbox())
            self._send(
                401,
                json.dumps(
                    {
                        "error": {
                            "code": "UNAUTHORIZED",
                            "message": f"the outbox needs the key `make dev` printed (?key= or {OUTBOX_KEY_HEADER}) "
                            "or an admin's access token",
                        }
                    }
                ).encode(),
                {"www-authenticate": 'Bearer realm="outbox"'},
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
            """A browser upload: the signed POST form the admin API hands out, checked as S3
            checks it (functions/local/s3_post.py), then stored in the emulator's bucket."""
            from . import s3_post

            refused = s3_post.Refused(403, "AccessDenied", "uploads are signed POST forms to the site bucket")
            try:
                if self.command != "POST" or rest.strip("/") != stack.names["bucket"]:
                    self.close_connection = True  # its body stays unread: never parse it as a request
                    raise refused
                try:
                    body = self._body(MAX_UPLOAD_BODY) or b""
                except BadBody as exc:
                    if exc.status != 413:
                        raise
                    raise s3_post.Refused(
                        400, "EntityTooLarge", f"an upload form is at most {MAX_UPLOAD_BODY} bytes"
                    ) from exc
                upload = s3_post.verify(
                    self.headers.get("content-type", ""), body, bucket=stack.names["bucket"], creds=upload_creds
                )
                if not upload.key.startswith(MEDIA_PREFIX):
                    raise refused
            except s3_post.Refused as exc:
                return self._json(exc.status, {"error": {"code": exc.code, "message": exc.message}})
            client("s3").put_object(
                Bucket=stack.names["bucket"], Key=upload.key, Body=upload.body, ContentType=upload.content_type
            )
            self._send(upload.status, b"", {"content-type": "text/plain"})

        def _media(self, key: str) -> None:
            """Uploaded files, served as the CDN serves them: only an allow-listed image
            type is served as itself; anything else is a download. Never sniffed, and a
            sandbox CSP in case a browser renders it anyway."""
            try:
                obj = client("s3").get_object(Bucket=stack.names["bucket"], Key=MEDIA_PREFIX + key)
            except Exception:
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": "no such image"}})
            stored = obj.get("ContentType", "")
            headers = {
                "content-type": stored if stored in IMAGE_TYPES else "application/octet-stream",
                "cache-control": "public, max-age=300",
                "x-content-type-options": "nosniff",
            }
            if stored not in IMAGE_TYPES:
                headers["content-disposition"] = "attachment"
            self._send(200, obj["Body"].read(), headers, stricter={"content-security-policy": MEDIA_CSP})

        def _static(self, path: str) -> None:
            if site is None:
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": "no storefront (site/) here"}})
            found = site.lookup(path)
            if found is None:
                return self._json(404, {"error": {"code": "NOT_FOUND", "message": "not found"}})
            body, headers = found
            if "gzip" in (self.headers.get("accept-encoding") or "") and headers["content-type"] in COMPRESSIBLE:
                body, headers = gzip.compress(body, mtime=0), {**headers, "content-encoding": "gzip"}
            self._send(200, body, {**headers, "vary": "accept-encoding"})

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    return Server(("127.0.0.1", stack.port), Handler)


def upload_credentials():
    """The key the functions sign upload forms with (the stack's emulator credentials)."""
    from . import s3_post

    return s3_post.Credentials(
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


# Text the CDNs compress on the way out (providers/*/cdn.py), compressed here the same way.
COMPRESSIBLE = {"text/html; charset=utf-8", "text/css; charset=utf-8", "text/javascript; charset=utf-8",
                "application/json", "image/svg+xml", "text/plain; charset=utf-8", "application/xml"}  # fmt: skip


class LocalSite:
    """The storefront as the clouds publish it (providers/site_files.build_site: hashed
    names, their Cache-Control), rebuilt when a file under site/ changes so `make dev`
    shows edits on reload. Like the CDNs, an extension-less path that is no file (a route
    such as /p/<id>) is answered with index.html, a missing file with a 404."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._signature: tuple | None = None
        self._files: dict[str, tuple[bytes, dict[str, str]]] = {}

    def _current(self) -> dict[str, tuple[bytes, dict[str, str]]]:
        signature = tuple((k, p.stat().st_mtime_ns, p.stat().st_size) for k, p in site_files(self.root))
        with self._lock:
            if signature != self._signature:
                self._files = {
                    f.key: (f.read(), {"content-type": f.content_type, "cache-control": f.cache_control})
                    for f in build_site(self.root)
                }
                self._signature = signature
            return self._files

    def lookup(self, path: str) -> tuple[bytes, dict[str, str]] | None:
        files = self._current()
        key = path.lstrip("/")
        if key in files:
            return files[key]
        last = key.rsplit("/", 1)[-1]
        if key == "" or key.endswith("/") or "." not in last:
            return files.get(ENTRY)
        return None


def stack_site(stack):
    from .stack import SITE

    return SITE.resolve() if (SITE / "index.html").is_file() else None
