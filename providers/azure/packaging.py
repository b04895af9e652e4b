"""The Function App package: the same ``functions/`` archive as AWS (providers.aws.packaging
code_archive logic, no AWS import), plus the Azure entry files at the zip root
(function_app.py, host.json, requirements.txt from functions/runtimes/azure_app/) and the
dependencies under .python_packages/lib/site-packages (what the Python worker adds to
sys.path), built for linux x86_64 CPython 3.12 and cached under build/azure/<hash>.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pulumi

from components.specs import CodePackage
from providers.code_package import code_assets, code_files

AZURE_PLATFORM = "manylinux2014_x86_64"
PACKAGE_BLOB = "released-package.zip"  # the blob Flex Consumption deploys from
_BUILD_ROOT = Path(__file__).resolve().parents[2] / "build" / "azure"
ENTRY_FILES = ("function_app.py", "host.json", "requirements.txt")


def app_dir(code: CodePackage) -> Path:
    return code.source_dir / "runtimes" / "azure_app"


def deps_hash(requirements_file: Path, python_version: str) -> str:
    digest = hashlib.sha256(requirements_file.read_bytes())
    digest.update(f"{AZURE_PLATFORM}|cp|{python_version}".encode())
    return digest.hexdigest()[:16]


def build_dependencies(requirements_file: Path, python_version: str, build_root: Path = _BUILD_ROOT) -> Path:
    target_dir = build_root / deps_hash(requirements_file, python_version)
    if target_dir.is_dir():
        return target_dir
    build_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=build_root, prefix=".building-") as tmp:
        target = Path(tmp) / "site-packages"
        cmd = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
            "--platform", AZURE_PLATFORM, "--implementation", "cp", "--python-version", python_version,
            "--only-binary=:all:", "--target", str(target), "-r", str(requirements_file),
        ]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"building the Azure Functions dependencies failed:\n{result.stderr.strip()}")
        for cache in target.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        target.rename(target_dir)
    return target_dir


def package_archive(code: CodePackage) -> pulumi.AssetArchive:
    """function_app.py + host.json + requirements.txt at the root, functions/, dependencies."""
    assets = code_assets(code)
    for name in ENTRY_FILES:
        path = app_dir(code) / name
        if path.is_file():
            assets[name] = pulumi.FileAsset(str(path))
    requirements = app_dir(code) / "requirements.txt"
    if code.build_dependencies and requirements.is_file():
        assets[".python_packages/lib/site-packages"] = pulumi.FileArchive(
            str(build_dependencies(requirements, code.python_version))
        )
    return pulumi.AssetArchive(assets)


def write_zip(code: CodePackage, target: Path) -> Path:
    """The same package as a zip file (for `az functionapp deploy` in key-less mode)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in code_files(code):
            zf.write(path, name)
        for name in ENTRY_FILES:
            path = app_dir(code) / name
            if path.is_file():
                zf.write(path, name)
        requirements = app_dir(code) / "requirements.txt"
        if code.build_dependencies and requirements.is_file():
            deps = build_dependencies(requirements, code.python_version)
            for path in sorted(deps.rglob("*")):
                if path.is_file():
                    zf.write(path, f".python_packages/lib/site-packages/{path.relative_to(deps).as_posix()}")
    return target


if __name__ == "__main__":  # `python -m providers.azure.packaging`: build build/azure/package.zip
    root = Path(__file__).resolve().parents[2]
    package = CodePackage(
        source_dir=root / "functions",
        exclude=("local", "tests"),
        requirements_file=root / "requirements" / "runtime.txt",
        python_version="3.12",
        build_dependencies="--no-deps" not in sys.argv,
    )
    print(write_zip(package, _BUILD_ROOT / "package.zip"))
