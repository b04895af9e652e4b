"""Lambda packaging: the handler code archive and the dependency layer.

Code: every file of ``functions/`` (minus local dev code, tests and bytecode) with
``functions/`` at the archive root, so ``functions.runtimes.aws_http.handler`` resolves.
Built as a Pulumi AssetArchive: no build step, and Pulumi hashes the content itself.

Layer: ``requirements/runtime.txt`` installed for the Lambda platform, not the deploying
machine: manylinux2014 aarch64 wheels for CPython 3.12, binary wheels only (no source build
can produce the wrong architecture). The result is cached under ``build/layers/<hash>``,
the hash covering the requirements and the target platform, so an unchanged requirement
file never re-runs pip and yields the same layer archive.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pulumi

from components.specs import CodePackage
from providers.code_package import code_assets

LAMBDA_PLATFORM = "manylinux2014_aarch64"
LAMBDA_ARCHITECTURE = "arm64"
_BUILD_ROOT = Path(__file__).resolve().parents[2] / "build" / "layers"


def runtime_name(python_version: str) -> str:
    return f"python{python_version}"


def code_archive(code: CodePackage) -> pulumi.AssetArchive:
    """The ``functions/`` package as an archive with ``functions/`` at its root."""
    return pulumi.AssetArchive(code_assets(code))


def layer_hash(requirements_file: Path, python_version: str) -> str:
    digest = hashlib.sha256()
    digest.update(requirements_file.read_bytes())
    digest.update(f"{LAMBDA_PLATFORM}|cp|{python_version}".encode())
    return digest.hexdigest()[:16]


def pip_command(requirements_file: Path, target: Path, python_version: str) -> list[str]:
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--platform", LAMBDA_PLATFORM,
        "--implementation", "cp",
        "--python-version", python_version,
        "--only-binary=:all:",
        "--target", str(target),
        "-r", str(requirements_file),
    ]  # fmt: skip


def build_layer(requirements_file: Path, python_version: str, build_root: Path = _BUILD_ROOT) -> Path:
    """Install the requirements for Lambda into ``<build_root>/<hash>/python`` (cached); return the layer dir."""
    layer_dir = build_root / layer_hash(requirements_file, python_version)
    if (layer_dir / "python").is_dir():
        return layer_dir
    build_root.mkdir(parents=True, exist_ok=True)
    # Build beside the cache entry, then rename: an interrupted build never looks complete.
    with tempfile.TemporaryDirectory(dir=build_root, prefix=".building-") as tmp:
        target = Path(tmp) / "python"
        result = subprocess.run(
            pip_command(requirements_file, target, python_version), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"building the Lambda layer from {requirements_file} failed (pip exit {result.returncode}):\n"
                f"{result.stderr.strip()}"
            )
        for cache in target.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        Path(tmp).rename(layer_dir)
    return layer_dir


def layer_archive(code: CodePackage) -> pulumi.Archive:
    """The dependency layer archive; a placeholder when builds are off (tests, mocks)."""
    if not code.build_dependencies:
        return pulumi.AssetArchive(
            {"python/README.txt": pulumi.StringAsset("dependency build skipped (build_dependencies=False)")}
        )
    return pulumi.FileArchive(str(build_layer(code.requirements_file, code.python_version)))


if __name__ == "__main__":  # `python -m providers.aws.packaging`: build (or reuse) the layer, print its path
    root = Path(__file__).resolve().parents[2]
    print(build_layer(root / "requirements" / "runtime.txt", "3.12"))
