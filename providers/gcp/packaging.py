"""The Cloud Functions source archive: the same ``functions/`` package as every cloud, plus
the GCP entry files at the root (main.py and requirements.txt from
functions/runtimes/gcp_app/). Cloud Build installs requirements.txt for the Python 3.12
runtime during the deploy, so nothing is vendored here; the object name carries a content
hash so a code change redeploys every function and an unchanged one redeploys none.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pulumi

from components.specs import CodePackage
from providers.code_package import code_files, content_hash

ENTRY_FILES = ("main.py", "requirements.txt")
_BUILD_ROOT = Path(__file__).resolve().parents[2] / "build" / "gcp"


def app_dir(code: CodePackage) -> Path:
    return code.source_dir / "runtimes" / "gcp_app"


def package_files(code: CodePackage) -> list[tuple[str, Path]]:
    files = code_files(code)
    for name in ENTRY_FILES:
        path = app_dir(code) / name
        if not path.is_file():
            raise FileNotFoundError(f"the Cloud Functions entry file {path} is missing")
        files.append((name, path))
    return files


def package_archive(code: CodePackage) -> tuple[pulumi.AssetArchive, str]:
    """(archive, object name ``source-<hash>.zip``)."""
    files = package_files(code)
    archive = pulumi.AssetArchive({name: pulumi.FileAsset(str(path)) for name, path in files})
    return archive, f"source-{content_hash(files)}.zip"


def write_zip(code: CodePackage, target: Path) -> Path:
    """The same archive as a zip file (for `gcloud functions deploy --source`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in package_files(code):
            zf.write(path, name)
    return target


if __name__ == "__main__":  # `python -m providers.gcp.packaging`: build build/gcp/source.zip
    root = Path(__file__).resolve().parents[2]
    package = CodePackage(
        source_dir=root / "functions",
        exclude=("local", "tests"),
        requirements_file=root / "requirements" / "runtime.txt",
        python_version="3.12",
    )
    print(write_zip(package, _BUILD_ROOT / "source.zip"), file=sys.stdout)
