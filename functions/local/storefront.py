"""The storefront as the clouds publish it (providers/site_files.build_site: hashed names,
their Cache-Control), rebuilt when a file under site/ changes so `make dev` shows edits on
reload. Like the CDNs, an extension-less path that is no file (a route such as /p/<id>) is
answered with index.html, a missing file with a 404."""

from __future__ import annotations

import threading
from pathlib import Path

from providers.site_files import ENTRY, build_site, site_files

SITE = Path(__file__).resolve().parents[2] / "site"
# Text the CDNs compress on the way out (providers/*/cdn.py), compressed here the same way.
COMPRESSIBLE = {"text/html; charset=utf-8", "text/css; charset=utf-8", "text/javascript; charset=utf-8",
                "application/json", "image/svg+xml", "text/plain; charset=utf-8", "application/xml"}  # fmt: skip

File = tuple[bytes, dict[str, str]]  # (content, {"content-type", "cache-control"})


class LocalSite:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._files: dict[str, File] = {}

    def _current(self) -> dict[str, File]:
        signature = tuple((k, p.stat().st_mtime_ns, p.stat().st_size) for k, p in site_files(self.root))
        with self._lock:
            if signature != self._signature:
                self._files = {
                    f.key: (f.read(), {"content-type": f.content_type, "cache-control": f.cache_control})
                    for f in build_site(self.root)
                }
                self._signature = signature
            return self._files

    def lookup(self, path: str) -> File | None:
        files = self._current()
        key = path.lstrip("/")
        if key in files:
            return files[key]
        last = key.rsplit("/", 1)[-1]
        if key == "" or key.endswith("/") or "." not in last:
            return files.get(ENTRY)
        return None


def local_site(root: Path = SITE) -> LocalSite | None:
    """The storefront under `root`, or None where there is none (an installed package)."""
    return LocalSite(root.resolve()) if (root / "index.html").is_file() else None
