"""The handler code every cloud deploys: the ``functions/`` package minus the excluded parts.

Cloud-neutral (only pulumi assets): AWS zips it as the Lambda code, Azure and GCP add their
entry files next to it. One definition keeps the three packages byte-identical.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pulumi

from components.specs import CodePackage

SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def code_files(code: CodePackage) -> list[tuple[str, Path]]:
    """(name in the archive, file): ``functions/...`` for every deployed file, sorted."""
    root = code.source_dir
    excluded = {root / e for e in code.exclude}
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix in {".pyc", ".pyo"}:
            continue
        if any(part in SKIPPED_PARTS for part in path.parts) or any(
            ex == path or ex in path.parents for ex in excluded
        ):
            continue
        files.append((f"{root.name}/{path.relative_to(root).as_posix()}", path))
    return files


def code_assets(code: CodePackage) -> dict[str, pulumi.Asset | pulumi.Archive]:
    return {name: pulumi.FileAsset(str(path)) for name, path in code_files(code)}


def content_hash(files: list[tuple[str, Path]]) -> str:
    """Changes when any file's name or bytes change: names uploads so a new package redeploys."""
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
