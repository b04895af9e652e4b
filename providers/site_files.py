"""The storefront files as every cloud uploads them: keys, bodies, content types, cache policy.

Cloud-neutral (no provider SDK import): the AWS, Azure and GCP static sites and the local
gateway all use it, so every copy of the storefront holds the same objects with the same
headers.

Content-hashed names without a front-end build step: every stylesheet and script is
published as ``<name>.<hash>.<ext>`` and cached for a year (``immutable``), and the files
that name them are rewritten to match: ``index.html``'s ``href``/``src`` attributes and the
scripts' relative import specifiers (static and dynamic). A script's hash covers its
rewritten text, so changing one module renames it and every module that imports it, up to
``index.html``, which is never renamed and always revalidated, like ``config.json``. The
source tree in ``site/`` stays a working site as it is (the names it uses are the plain ones).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only asset() needs Pulumi, and imports it itself (see there)
    import pulumi

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
    ".xml": "application/xml",
}
GENERATED_CONFIG = "config.json"
ENTRY = "index.html"
# Entry points are revalidated on every load so a deployment shows at once.
NO_CACHE = (ENTRY, GENERATED_CONFIG)
REVALIDATE = "no-cache"
IMMUTABLE_SECONDS = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={IMMUTABLE_SECONDS}, immutable"
# Files under a fixed name that pages or data refer to (product images in the catalog,
# robots.txt): cached for an hour, so a replaced file shows within the hour.
SHORT = "public, max-age=3600"
HASHED_SUFFIXES = (".js", ".mjs", ".css")
# The storefront's client-side routes (site/js/app.js ROUTES) as URL-map path patterns. CloudFront,
# Front Door and the local gateway tell a route from a file by its name (no extension); GCP's
# URL map cannot, so it lists them: a new top-level route in app.js is added here too.
SPA_ROUTES = (
    "/p/*", "/c/*", "/search", "/cart", "/checkout", "/signin", "/signup", "/confirm",
    "/orders", "/orders/*", "/admin", "/admin/*",
)  # fmt: skip
HASH_LENGTH = 12  # hex digits of SHA-256: collisions are not a concern at this size

# import x from "./a.js" · import "./a.js" · export {x} from "../a.js" · import("./views/a.js")
_SPECIFIER = re.compile(r"""(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}/[^"'\s]+?)\2""")
# href="/css/styles.css" / src="/js/app.js" in index.html (root-absolute references only)
_HTML_REF = re.compile(r"""\b(href|src)=(["'])(/[^"'?#\s]+)\2""")


@dataclass(frozen=True)
class SiteFile:
    """One object of the published storefront. `body` is None when the file is uploaded
    unchanged from `path`; otherwise it is the rewritten text."""

    key: str
    path: Path
    content_type: str
    cache_control: str
    body: bytes | None = None

    def read(self) -> bytes:
        return self.path.read_bytes() if self.body is None else self.body


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    """The Cache-Control of a published key: entry points revalidate, hashed names are
    immutable, any other file is cached briefly."""
    if key in NO_CACHE:
        return REVALIDATE
    return IMMUTABLE if is_hashed(key) else SHORT


def is_hashed(key: str) -> bool:
    stem, dot, ext = key.rpartition(".")
    if not dot or "." + ext not in HASHED_SUFFIXES:
        return False
    digest = stem.rpartition(".")[2]
    return len(digest) == HASH_LENGTH and all(c in "0123456789abcdef" for c in digest)


def site_files(site_dir: Path) -> list[tuple[str, Path]]:
    """(source key, file) for every file of site_dir, sorted; none if the folder is missing.
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


def hashed_key(key: str, body: bytes) -> str:
    stem, _, ext = key.rpartition(".")
    return f"{stem}.{hashlib.sha256(body).hexdigest()[:HASH_LENGTH]}.{ext}"


def _resolve(importer: str, specifier: str) -> str:
    """Key of a relative specifier as seen from the module at key `importer`."""
    parts = importer.split("/")[:-1]
    for part in specifier.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _relative(importer: str, target: str) -> str:
    """A relative specifier from `importer` to `target` (both keys), "./" or "../" led."""
    src, dst = importer.split("/")[:-1], target.split("/")
    common = 0
    while common < len(src) and common < len(dst) - 1 and src[common] == dst[common]:
        common += 1
    ups = len(src) - common
    return ("../" * ups if ups else "./") + "/".join(dst[common:])


class _Renamer:
    """Hashes the scripts and stylesheets depth-first: a module's imports are renamed (and
    so hashed) before the module itself."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources
        self.renamed: dict[str, tuple[str, bytes]] = {}  # source key -> (hashed key, body)
        self._visiting: set[str] = set()

    def rename(self, key: str) -> str:
        if key in self.renamed:
            return self.renamed[key][0]
        if key in self._visiting:
            raise ValueError(f"circular import through {key}: content hashes need an acyclic module graph")
        self._visiting.add(key)
        body = self.sources[key].read_bytes()
        if key.endswith((".js", ".mjs")):
            body = self._rewrite_imports(key, body.decode("utf-8")).encode("utf-8")
        self._visiting.discard(key)
        new_key = hashed_key(key, body)
        self.renamed[key] = (new_key, body)
        return new_key

    def _rewrite_imports(self, key: str, text: str) -> str:
        def replace(m: re.Match[str]) -> str:
            target = _resolve(key, m.group(3))
            if target not in self.sources:
                raise ValueError(f"{key} imports {m.group(3)}, which is not in the site")
            return f"{m.group(1)}{m.group(2)}{_relative(key, self.rename(target))}{m.group(2)}"

        return _SPECIFIER.sub(replace, text)


def build_site(site_dir: Path) -> list[SiteFile]:
    """The published storefront, sorted by key: scripts and stylesheets under hashed names,
    index.html rewritten to name them, every other file as it is."""
    sources = dict(site_files(site_dir))
    renamer = _Renamer(sources)
    for key in sources:
        if key.endswith(HASHED_SUFFIXES):
            renamer.rename(key)
    out: list[SiteFile] = []
    for key, path in sources.items():
        if key in renamer.renamed:
            new_key, body = renamer.renamed[key]
            out.append(SiteFile(new_key, path, content_type(path), IMMUTABLE, body))
        elif key == ENTRY:
            html = _rewrite_html(path.read_text("utf-8"), renamer)
            out.append(SiteFile(key, path, content_type(path), REVALIDATE, html.encode("utf-8")))
        else:
            out.append(SiteFile(key, path, content_type(path), cache_control(key)))
    return sorted(out, key=lambda f: f.key)


def _rewrite_html(html: str, renamer: _Renamer) -> str:
    def replace(m: re.Match[str]) -> str:
        key = m.group(3).lstrip("/")
        if key not in renamer.renamed:
            return m.group(0)
        return f"{m.group(1)}={m.group(2)}/{renamer.renamed[key][0]}{m.group(2)}"

    return _HTML_REF.sub(replace, html)


def write_site(site_dir: Path, out_dir: Path) -> list[SiteFile]:
    """The published storefront as files under out_dir, for an upload by hand (Azure's
    key-less storage, docs/deploy-azure.md)."""
    files = build_site(site_dir)
    for f in files:
        target = out_dir / f.key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.read())
    return files


def asset(f: SiteFile) -> pulumi.Asset:
    """The Pulumi asset that uploads `f` (imported here, not at module level, so the local
    gateway can use this module without loading Pulumi)."""
    import pulumi

    return pulumi.FileAsset(str(f.path)) if f.body is None else pulumi.StringAsset(f.body.decode("utf-8"))


if __name__ == "__main__":  # python -m providers.site_files site build/site
    import sys

    written = write_site(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{len(written)} files in {sys.argv[2]}")
