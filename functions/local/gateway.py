"""The local gateway: plays API Gateway and the CDN in front of the real AWS entrypoint.

Like API Gateway's JWT authorizer it verifies the bearer access token before a protected
route runs (functions/local/authorizer.py) and hands the function the event API Gateway
would (functions/local/api_event.py). Like the CDN it sends the storefront's security
headers with every response, serves the published storefront and the uploaded media, and
frames request bodies one way only (functions/local/http_body.py). It answers only
requests addressed to a loopback name (so a web page cannot reach it through DNS
rebinding), and the outbox only to whoever holds this run's outbox key or an admin token.

Everything it serves comes in through `GatewayConfig`: the gateway knows no stack.
"""

from __future__ import annotations

import gzip
import hmac
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from functions.adapters.aws_clients import client
from functions.runtimes import aws_http, origin
from functions.shop import routes, security_headers
from functions.shop.datamodel import IMAGE_TYPES, MAX_IMAGE_BYTES, MEDIA_PREFIX
from functions.shop.http import Response, error
from functions.shop.services import Services
from providers.site_files import GENERATED_CONFIG, cache_control

from . import s3_post
from .api_event import ApiRequest, api_gateway_event, lambda_result
from .authorizer import TokenVerifier
from .http_body import BadBody, read_body
from .loopback import is_loopback_host
from .storefront import COMPRESSIBLE, LocalSite

log = logging.getLogger("shop.local.gateway")
# Function invocations running at once. The functions share one interpreter, so beyond a
# few per core extra threads only make every emulator call slower until boto3's read
# timeout turns them into 503s; excess requests wait here instead, like invocations queued
# behind Lambda's concurrency limit. Connections themselves are unbounded (one thread each).
CONCURRENCY = int(os.environ.get("SHOP_LOCAL_CONCURRENCY", "8"))
MAX_BODY = 1024 * 1024  # API Gateway's own limit is 10 MB; the handlers cap JSON at 64 KiB
# The CDN's headers minus HSTS (plain http here); uploads go through this gateway: no other origin.
SECURITY_HEADERS = security_headers.response_headers(https=False)
# The same with Stripe.js admitted, for a stack that takes cards through Stripe (stripe_mode.py).
STRIPE_SECURITY_HEADERS = security_headers.response_headers(https=False, stripe=True)
OUTBOX_KEY_HEADER = "x-shop-outbox-key"
UPLOADS = "/local/s3/"
MEDIA = "/media/"
# An upload form: the largest image plus room for the signed fields around it.
MAX_UPLOAD_BODY = MAX_IMAGE_BYTES + 64 * 1024
# Media are images, never documents: nothing in them may run or load anything.
MEDIA_CSP = "default-src 'none'; sandbox"
_READING = ("GET", "HEAD")


@dataclass(frozen=True)
class GatewayConfig:
    """What one stack's gateway serves."""

    port: int
    pool: str  # user pool id
    client_id: str  # the storefront's app client
    bucket: str  # the site bucket (media, uploads)
    verifier: TokenVerifier
    services: Services  # this stack's adapters: several stacks may share the process
    outbox_key: str
    outbox: Callable[[], list[dict[str, Any]]]
    upload_credentials: s3_post.Credentials
    site: LocalSite | None  # None: no storefront (site/) here
    stripe_publishable_key: str | None = None  # set: config.json names it and the CSP admits Stripe.js

    @property
    def security_headers(self) -> dict[str, str]:
        return STRIPE_SECURITY_HEADERS if self.stripe_publishable_key else SECURITY_HEADERS


def _with_headers(response: Response, headers: dict[str, str]) -> Response:
    return Response(response.status, response.body, {**response.headers, **headers})


def _unauthorized_api() -> Response:
    # API Gateway's own body is {"message": "Unauthorized"}; the shop's error shape rides
    # along so clients can handle both the same way.
    shop = error(401, "UNAUTHORIZED", "Unauthorized")
    return Response(401, {"message": "Unauthorized", **shop.body}, {"www-authenticate": 'Bearer error="invalid_token"'})


def _gateway_failure() -> Response:
    # the gateway itself failed: API Gateway answers a JSON 500 too, with its own message
    shop = error(500, "INTERNAL", "local gateway error")
    return Response(500, {"message": "Internal Server Error", **shop.body}, shop.headers)


def _no_route(method: str, path: str) -> Response:
    allowed = routes.allowed_methods(path)
    if allowed:
        return _with_headers(
            error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed"), {"allow": ", ".join(allowed)}
        )
    return error(404, "NOT_FOUND", f"no route for {path}")


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.invocations = threading.BoundedSemaphore(CONCURRENCY)
        super().__init__(("127.0.0.1", config.port), GatewayHandler)


class GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shop-local"
    # Headers and body leave in two writes: with Nagle on, the body waits for the client's
    # delayed ACK of the headers on every keep-alive response.
    disable_nagle_algorithm = True
    server: GatewayServer
    _body_read = False  # per request: every route reads the body once, whoever asks first
    _request_body: bytes | None = None

    @property
    def config(self) -> GatewayConfig:
        return self.server.config

    def log_message(self, format: str, *args: Any) -> None:  # quiet: one line per request at debug level
        log.debug("%s " + format, self.address_string(), *args)

    # ------------------------------------------------------------------ answers
    def _send(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, *, stricter: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        # the CDN's policy overrides whatever the origin said (CloudFront's override=True);
        # `stricter` is this gateway's own tightening for a path (media), applied last
        merged = {"content-type": "application/json"}
        merged.update({k.lower(): v for k, v in (headers or {}).items()})
        merged.update(self.config.security_headers)
        merged.update(stricter or {})
        if self.close_connection:
            merged["connection"] = "close"
        for k, v in merged.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, response: Response) -> None:
        self._send(response.status, json.dumps(response.body).encode(), response.headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # the request line or headers were unreadable: JSON like every other answer, then close
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # the request line did not parse: still send a status line
            self.request_version = self.protocol_version
        status = HTTPStatus(code)
        self._json(error(code, status.name, message or status.phrase))

    # ------------------------------------------------------------------ requests
    def _body(self, limit: int = MAX_BODY) -> bytes | None:
        """The request body, read once per request, whatever route asks for it."""
        if not self._body_read:
            try:
                self._request_body = read_body(self.headers, self.rfile, limit)
            except BadBody:
                self.close_connection = True  # we cannot know where this body ends
                raise
            self._body_read = True
        return self._request_body

    def do_GET(self) -> None:
        self._route()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = do_CONNECT = do_GET

    def __getattr__(self, name: str) -> Callable[[], None]:
        # any other method (QUERY, PROPFIND...) gets the API's JSON 404/405, not a 501 page
        if name.startswith("do_"):
            return self.do_GET
        raise AttributeError(name)

    def _route(self) -> None:
        self._body_read, self._request_body = False, None
        url = urlsplit(self.path)
        path = unquote(url.path)
        try:
            self._dispatch(url, path)
        except BadBody as exc:
            self._json(error(exc.status, exc.code, exc.message))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            log.exception("local gateway error on %s %s", self.command, path)
            self._json(_gateway_failure())

    def _dispatch(self, url: SplitResult, path: str) -> None:
        if not self._addressed_to_loopback(url.netloc):
            self.close_connection = True
            return self._json(
                error(421, "MISDIRECTED_REQUEST", "this shop answers only on 127.0.0.1, localhost or [::1]")
            )
        if not path.startswith(UPLOADS):  # uploads read theirs with the upload limit
            self._body()  # every route: an unread body would be parsed as the next request
        if path.startswith("/api/") or path == "/api":
            return self._api(path, url.query)
        reading = self.command in _READING
        if path == "/config.json" and reading:
            return self._config()
        if path == "/local/outbox" and self.command == "GET":
            return self._outbox(url.query)
        if path.startswith(UPLOADS):
            return self._upload(path[len(UPLOADS) :])
        if path.startswith(MEDIA) and reading:
            return self._media(path[len(MEDIA) :])
        if reading:
            return self._static(path)
        self._json(error(405, "METHOD_NOT_ALLOWED", "method not allowed"))

    def _addressed_to_loopback(self, authority: str) -> bool:
        hosts = self.headers.get_all("host") or []
        if len(hosts) != 1 or not is_loopback_host(hosts[0], self.config.port):
            return False
        return not authority or is_loopback_host(authority, self.config.port)

    # ------------------------------------------------------------------ the API
    def _api(self, path: str, raw_query: str) -> None:
        found = routes.match(self.command, path)
        if found is None:
            return self._json(_no_route(self.command, path))
        route, params = found
        headers = {k.lower(): v for k, v in self.headers.items()}
        # Plays CloudFront: adds the origin secret when SHOP_ORIGIN_SECRET is set (functions/runtimes/origin.py).
        headers.update(origin.forward_headers())
        claims = None
        if route.auth != routes.PUBLIC:
            claims = self.config.verifier.claims(headers.get("authorization"))
            if claims is None:  # API Gateway answers 401 before the function runs
                return self._json(_unauthorized_api())
        request = ApiRequest(self.command, path, raw_query, headers, self._body(), route.route_key, params, claims,
                             self.client_address[0])  # fmt: skip
        services = self.config.services
        with self.server.invocations:  # bounded like Lambda's concurrency; see CONCURRENCY
            result = aws_http.handler(api_gateway_event(request), None, services_factory=lambda: services)
        status, body, response_headers = lambda_result(result)
        self._send(status, body, response_headers)

    # ------------------------------------------------------------------ the CDN's other origins
    def _config(self) -> None:
        """What each cloud's deployment writes next to the storefront, with the same caching."""
        config = {
            "apiBase": "/api",
            "cloud": "local",
            "region": "us-east-1",
            "userPoolId": self.config.pool,
            "userPoolClientId": self.config.client_id,
        }
        if self.config.stripe_publishable_key:
            config["stripePublishableKey"] = self.config.stripe_publishable_key
        self._send(200, json.dumps(config).encode(), {"cache-control": cache_control(GENERATED_CONFIG)})

    def _outbox(self, raw_query: str) -> None:
        """Everyone's mail: for whoever holds this run's outbox key (printed by `make dev`) or an admin."""
        offered = self.headers.get(OUTBOX_KEY_HEADER) or dict(parse_qsl(raw_query)).get("key") or ""
        if hmac.compare_digest(offered.encode(), self.config.outbox_key.encode()):
            return self._json(Response(200, self.config.outbox()))
        claims = self.config.verifier.claims(self.headers.get("authorization"))
        if claims is not None and routes.ADMIN_GROUP in (claims.get("cognito:groups") or []):
            return self._json(Response(200, self.config.outbox()))
        message = (
            f"the outbox needs the key `make dev` printed (?key= or {OUTBOX_KEY_HEADER}) or an admin's access token"
        )
        self._json(_with_headers(error(401, "UNAUTHORIZED", message), {"www-authenticate": 'Bearer realm="outbox"'}))

    def _upload(self, rest: str) -> None:
        """A browser upload: the signed POST form the admin API hands out, checked as S3
        checks it (functions/local/s3_post.py), then stored in the emulator's bucket."""
        try:
            upload = self._verified_upload(rest)
        except s3_post.Refused as exc:
            return self._json(error(exc.status, exc.code, exc.message))
        client("s3").put_object(
            Bucket=self.config.bucket, Key=upload.key, Body=upload.body, ContentType=upload.content_type
        )
        self._send(upload.status, b"", {"content-type": "text/plain"})

    def _verified_upload(self, rest: str) -> s3_post.Upload:
        refused = s3_post.Refused(403, "AccessDenied", "uploads are signed POST forms to the site bucket")
        if self.command != "POST" or rest.strip("/") != self.config.bucket:
            self.close_connection = True  # its body stays unread: never parse it as a request
            raise refused
        try:
            body = self._body(MAX_UPLOAD_BODY) or b""
        except BadBody as exc:
            if exc.status != 413:
                raise
            raise s3_post.Refused(400, "EntityTooLarge", f"an upload form is at most {MAX_UPLOAD_BODY} bytes") from exc
        upload = s3_post.verify(
            self.headers.get("content-type", ""), body, bucket=self.config.bucket, creds=self.config.upload_credentials
        )
        if not upload.key.startswith(MEDIA_PREFIX):
            raise refused
        return upload

    def _media(self, key: str) -> None:
        """Uploaded files, served as the CDN serves them: only an allow-listed image type is
        served as itself; anything else is a download. Never sniffed, and a sandbox CSP in
        case a browser renders it anyway."""
        try:
            obj = client("s3").get_object(Bucket=self.config.bucket, Key=MEDIA_PREFIX + key)
        except Exception:
            return self._json(error(404, "NOT_FOUND", "no such image"))
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
        if self.config.site is None:
            return self._json(error(404, "NOT_FOUND", "no storefront (site/) here"))
        found = self.config.site.lookup(path)
        if found is None:
            return self._json(error(404, "NOT_FOUND", "not found"))
        body, headers = found
        if "gzip" in (self.headers.get("accept-encoding") or "") and headers["content-type"] in COMPRESSIBLE:
            body, headers = gzip.compress(body, mtime=0), {**headers, "content-encoding": "gzip"}
        self._send(200, body, {**headers, "vary": "accept-encoding"})


def make_server(config: GatewayConfig) -> GatewayServer:
    return GatewayServer(config)
