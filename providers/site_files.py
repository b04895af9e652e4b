"""The storefront files as every cloud uploads them: keys, content types, cache policy.

Cloud-neutral (no provider SDK import): the AWS, Azure and GCP static sites all use it, so
the three storage buckets hold the same objects with the same headers.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

# Types the platform's mimetypes table may lack or get wrong (text/javascript is the standard).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".txt": "text/plain; charset=utf-8",
}
GENERATED_CONFIG = "config.json"
# Entry points are revalidated on every load so a deployment shows at once; other files are
# not content-hashed (no build step), so they get a short cache too.
NO_CACHE = ("index.html", GENERATED_CONFIG)


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    return "no-cache" if key in NO_CACHE else "public, max-age=300"


def site_files(site_dir: Path) -> list[tuple[str, Path]]:
    """(object key, file) for every file of site_dir, sorted; none if the folder is missing.
    Dot files and a stale config.json (generated per stack) are skipped."""
    if not site_dir.is_dir():
        return []
    files = []
    for path in sorted(site_dir.rglob("*")):
        rel = path.relative_to(site_dir)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts) or rel.as_posix() == GENERATED_CONFIG:
            continue
        files.append((rel.as_posix(), path))
    return files
