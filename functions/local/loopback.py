"""Which Host names the local stack answers: this machine's loopback, nothing else.

Both local servers listen on 127.0.0.1 only, but a web page can still reach them through
DNS rebinding (its own name re-pointed at 127.0.0.1); such requests carry the page's host
name, so refusing every name but loopback ones keeps them out.
"""

from __future__ import annotations

import re
import socket

_LOOPBACK_HOST = re.compile(r"(127\.0\.0\.1|localhost|\[::1\])(?::(\d{1,5}))?")


def is_loopback_host(host: str | None, port: int) -> bool:
    """A Host header (or absolute-form authority) naming loopback, on `port` if it names one."""
    match = _LOOPBACK_HOST.fullmatch((host or "").strip().lower())
    return match is not None and match.group(2) in (None, str(port))


def free_port() -> int:
    """A TCP port nothing on 127.0.0.1 listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
