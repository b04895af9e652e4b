"""Lambda packaging: what goes into the code archive, and the dependency layer for arm64/3.12."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.shop import CODE_EXCLUDES
from components.specs import CodePackage
from providers.aws import packaging

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements" / "runtime.txt"
EM_AARCH64 = 183  # ELF e_machine


def _code(**overrides) -> CodePackage:
    values = dict(
        source_dir=ROOT / "functions",
        exclude=CODE_EXCLUDES,
        requirements_file=REQUIREMENTS,
        python_version="3.12",
        build_dependencies=False,
    )
    values.update(overrides)
    return CodePackage(**values)


def test_code_archive_has_functions_at_its_root_without_local_code_or_bytecode():
    assets = packaging.code_archive(_code()).assets
    assert "functions/shop/routes.py" in assets and "functions/shop/datamodel.py" in assets
    assert all(key.startswith("functions/") for key in assets)
    assert not [k for k in assets if k.startswith(("functions/local/", "functions/tests/"))]
    assert not [k for k in assets if "__pycache__" in k or k.endswith(".pyc")]


def test_layer_cache_key_follows_requirements_and_target(tmp_path: Path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("pydantic>=2.7,<3\n")
    first = packaging.layer_hash(reqs, "3.12")
    assert first == packaging.layer_hash(reqs, "3.12")
    assert first != packaging.layer_hash(reqs, "3.13")
    reqs.write_text("pydantic>=2.8,<3\n")
    assert first != packaging.layer_hash(reqs, "3.12")


def test_pip_is_asked_for_lambda_wheels_only():
    cmd = packaging.pip_command(REQUIREMENTS, Path("/tmp/x"), "3.12")
    joined = " ".join(cmd)
    for part in ("--platform manylinux2014_aarch64", "--implementation cp", "--python-version 3.12",
                 "--only-binary=:all:", "--target /tmp/x"):  # fmt: skip
        assert part in joined


def test_skipped_build_gives_a_placeholder_without_running_pip(monkeypatch):
    monkeypatch.setattr(packaging, "build_layer", lambda *a, **k: pytest.fail("pip must not run"))
    archive = packaging.layer_archive(_code(build_dependencies=False))
    assert list(archive.assets) == ["python/README.txt"]


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


@pytest.mark.network
def test_layer_build_really_produces_arm64_cpython312_wheels(tmp_path: Path):
    layer = packaging.build_layer(REQUIREMENTS, "3.12", build_root=tmp_path)
    site = layer / "python"
    assert (site / "pydantic").is_dir(), "pydantic is missing from the layer"
    shared = list(site.rglob("*.so"))
    assert shared, "expected compiled extensions (pydantic_core) in the layer"
    for so in shared:
        if "cpython" in so.name:
            assert so.name.endswith(".cpython-312-aarch64-linux-gnu.so"), so.name
        assert _elf_machine(so) == EM_AARCH64, f"{so.name} is not an aarch64 binary"
    assert any(so.name.startswith("_pydantic_core") for so in shared)
    # Cached: a second call does not rebuild.
    marker = site / ".cached"
    marker.touch()
    assert packaging.build_layer(REQUIREMENTS, "3.12", build_root=tmp_path) == layer and marker.exists()
    shutil.rmtree(layer)
