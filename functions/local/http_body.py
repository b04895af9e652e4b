"""Request bodies framed one way, as the CDN frames them: Content-Length or strict chunked.

Anything ambiguous (both headers, disagreeing lengths, a malformed chunk) is refused and the
connection closed, so leftover bytes are never read as a next request (request smuggling).
"""

from __future__ import annotations

import re
from email.message import Message
from io import BufferedIOBase

_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")
_MAX_LINE = 4096
_MAX_TRAILERS = 32


class BadBody(Exception):
    """A body that cannot be read safely: answered with `status` and the connection closed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _too_large(limit: int) -> BadBody:
    return BadBody(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {limit} bytes")


def read_body(headers: Message, rfile: BufferedIOBase, limit: int) -> bytes | None:
    """The body the headers announce, at most `limit` bytes; None when there is none."""
    encodings = headers.get_all("transfer-encoding") or []
    if encodings:
        if headers.get("content-length") is not None:
            # two framings of one body: the classic request-smuggling ambiguity
            raise BadBody(400, "BAD_REQUEST", "Content-Length together with Transfer-Encoding")
        if ",".join(encodings).strip().lower() != "chunked":
            raise BadBody(501, "NOT_IMPLEMENTED", "only Transfer-Encoding: chunked is supported")
        return _read_chunked(rfile, limit) or None
    lengths = headers.get_all("content-length") or ["0"]
    raw = lengths[0].strip()
    if not raw.isdigit() or any(other.strip() != raw for other in lengths):
        raise BadBody(400, "BAD_REQUEST", "invalid Content-Length")
    length = int(raw)
    if length > limit:  # the unread body must not be parsed as the next request
        raise _too_large(limit)
    return rfile.read(length) if length else None


def _read_chunked(rfile: BufferedIOBase, limit: int) -> bytes:
    body = bytearray()
    while True:
        size = _chunk_size(_line(rfile))
        if size == 0:
            for _ in range(_MAX_TRAILERS):  # trailers, up to the blank line
                if _line(rfile) == b"":
                    return bytes(body)
            raise BadBody(400, "BAD_REQUEST", "too many trailer fields")
        if len(body) + size > limit:
            raise _too_large(limit)
        chunk = rfile.read(size)
        if len(chunk) != size or _line(rfile) != b"":
            raise BadBody(400, "BAD_REQUEST", "malformed chunked body")
        body += chunk


def _line(rfile: BufferedIOBase) -> bytes:
    """One CRLF-terminated line of the chunked framing, without its CRLF."""
    line = rfile.readline(_MAX_LINE + 1)
    if not line.endswith(b"\r\n"):
        raise BadBody(400, "BAD_REQUEST", "malformed chunked body")
    return line[:-2]


def _chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip(b" \t")
    if not _CHUNK_SIZE.fullmatch(size):
        raise BadBody(400, "BAD_REQUEST", "malformed chunk size")
    return int(size, 16)
