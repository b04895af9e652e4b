"""The emulator's HTTP server: one event-loop thread over keep-alive connections, in front of
any WSGI application (moto's, in `functions.local.emulator`).

werkzeug's development server answers every request with ``Connection: close`` (it cannot
find the next request line when an application leaves a body unread), so every SDK call
would open a TCP connection and a thread. Here the body is read in full before the
application runs and the answer is sent with its length, so a connection always stands
at its next request and SDK clients reuse their pooled connections.

One thread answers every connection in turn: moto's state has no isolation of its own, so
serializing its calls by construction keeps its writes atomic, and a thread per connection
would only make the threads wait for each other's GIL. SQS long polls (ReceiveMessage waits
for messages) are the exception: a thread answers each, so a waiting poll never holds up
the loop.
"""

from __future__ import annotations

import contextlib
import io
import queue
import selectors
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from .loopback import is_loopback_host

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], None]]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
_MAX_LINE = 65537


class KeepAliveHandler(BaseHTTPRequestHandler):
    """One connection: reads a request whole, runs the application, answers with a length."""

    protocol_version = "HTTP/1.1"
    server_version = "shop-emulator"
    # Headers and body are two writes: with Nagle on, each answer waits for the client's delayed ACK.
    disable_nagle_algorithm = True
    loop: EmulatorServer  # not `server`: the loop is no socketserver.BaseServer
    _headers_buffer: list[bytes]
    deferred = False  # a thread is answering a long poll; the loop must not read this connection

    def log_message(self, format: str, *args: Any) -> None:  # moto's per-request access log: not wanted
        pass

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline(_MAX_LINE).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(_MAX_LINE).strip():  # trailers, up to the blank line
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(_MAX_LINE)  # the CRLF after each chunk

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("content-length", "0").strip() or "0"
        if not length.isdigit():
            raise ValueError("invalid Content-Length")
        return self.rfile.read(int(length)) if int(length) else b""

    def _environ(self, body: bytes) -> Environ:
        path, _, query = self.path.partition("?")
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        environ: Environ = {
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "SERVER_SOFTWARE": self.server_version, "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "", "PATH_INFO": unquote(path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": query, "REQUEST_URI": self.path, "RAW_URI": self.path,
            "REMOTE_ADDR": self.client_address[0], "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": self.loop.host, "SERVER_PORT": str(self.loop.port),
            "SERVER_PROTOCOL": self.request_version, "CONTENT_LENGTH": str(len(body)),
        }  # fmt: skip
        for key, value in self.headers.items():
            if "_" in key:  # as werkzeug: X_Foo would be indistinguishable from X-Foo
                continue
            key = key.upper().replace("-", "_")
            if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue  # the body is de-chunked and its length is CONTENT_LENGTH
            if key != "CONTENT_TYPE":
                key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ and key.startswith("HTTP_") else value
        return environ

    def _handle(self) -> None:
        hosts = self.headers.get_all("host") or []
        if len(hosts) != 1 or not is_loopback_host(hosts[0], self.loop.port):
            # a web page reaching this port through DNS rebinding would drive every emulated service
            self.close_connection = True
            self.send_error(421, "this emulator answers only on 127.0.0.1, localhost or [::1]")
            return
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self.send_error(400, "Bad request body")
            return
        environ = self._environ(body)
        if self.loop.waits(environ):  # a long poll: answered by a thread, the loop moves on
            self.deferred = True
            threading.Thread(target=self._answer_then_hand_back, args=(environ,), daemon=True).start()
            return
        self._answer(environ)

    def _answer_then_hand_back(self, environ: Environ) -> None:
        try:
            self._answer(environ)
            self.wfile.flush()
        except Exception:
            self.close_connection = True
        finally:
            self.loop.hand_back(self)  # the loop clears `deferred` when it takes the connection back

    def _answer(self, environ: Environ) -> None:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable:
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable: moto does not use it

        result = self.loop.app(environ, start_response)
        try:
            payload = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        # headers and body in one write (one system call, one segment for small answers)
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()

    def do_GET(self) -> None:
        self._handle()

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):  # every method goes to the application
            return self._handle
        raise AttributeError(name)


class EmulatorServer:
    """The event loop: accepts connections and serves whichever has a request ready."""

    def __init__(self, address: tuple[str, int], app: WsgiApp) -> None:
        self.app = app
        self.socket = socket.create_server(address, backlog=1024)
        self.host, self.port = self.socket.getsockname()[:2]
        self.server_address = (self.host, self.port)
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._handed_back: queue.SimpleQueue[KeepAliveHandler] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        sel = self._selector
        sel.register(self.socket, selectors.EVENT_READ, "accept")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.5):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._take_back()
                    else:
                        self._serve(key.data)
        finally:
            self._stopped.set()

    def _accept(self) -> None:
        try:
            conn, addr = self.socket.accept()
        except OSError:
            return
        conn.settimeout(30)  # a client that stalls mid-request cannot hold the loop for longer
        # not KeepAliveHandler(...): its constructor would serve the connection to the end
        handler = KeepAliveHandler.__new__(KeepAliveHandler)
        handler.request, handler.client_address, handler.loop = conn, addr, self
        handler.setup()  # buffered reader/writer, TCP_NODELAY
        self._selector.register(conn, selectors.EVENT_READ, handler)

    def _take_back(self) -> None:
        self._wake_r.recv(4096)
        while not self._handed_back.empty():
            handler = self._handed_back.get()
            handler.deferred = False
            self._resume(handler)

    def _serve(self, handler: KeepAliveHandler) -> None:
        self._selector.unregister(handler.connection)
        try:
            handler.handle_one_request()
        except Exception:
            handler.close_connection = True
        if not handler.deferred:
            self._resume(handler)

    def _resume(self, handler: KeepAliveHandler) -> None:
        if handler.close_connection or self._stop.is_set():
            with contextlib.suppress(OSError):
                handler.finish()
            handler.connection.close()
            return
        self._selector.register(handler.connection, selectors.EVENT_READ, handler)

    def hand_back(self, handler: KeepAliveHandler) -> None:
        """From a long-poll thread: the connection is ready for its next request."""
        self._handed_back.put(handler)
        self._wake_w.send(b"x")

    @staticmethod
    def waits(environ: Environ) -> bool:
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".ReceiveMessage"):
            return True
        return environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded") and (
            b"Action=ReceiveMessage" in environ["wsgi.input"].getvalue()
        )

    def shutdown(self) -> None:
        self._stop.set()
        self._wake_w.send(b"x")
        self._stopped.wait(5)

    def server_close(self) -> None:
        for key in list(self._selector.get_map().values()):
            if isinstance(key.data, KeepAliveHandler):
                key.data.connection.close()
        self._selector.close()
        self.socket.close()
        self._wake_r.close()
        self._wake_w.close()


def make_server(port: int, app: WsgiApp) -> EmulatorServer:
    return EmulatorServer(("127.0.0.1", port), app)
