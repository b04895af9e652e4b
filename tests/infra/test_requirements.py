"""Pinned dependencies: what `pulumi up`, `make setup` and the deployed functions install is exact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_LOCK = ROOT / "requirements.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
FUNCTION_REQUIREMENTS = (
    ROOT / "requirements" / "runtime.txt",
    ROOT / "functions" / "runtimes" / "azure_app" / "requirements.txt",
    ROOT / "functions" / "runtimes" / "gcp_app" / "requirements.txt",
)
# What the Pulumi program imports: a new major version of any can change what a deploy does.
PROGRAM_PACKAGES = (
    "pulumi",
    "pulumi-aws",
    "pulumi-azure-native",
    "pulumi-gcp",
    "pulumi-random",
    "pulumi-tls",
    "pulumi-azuread",
    "pydantic",
)

_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*?)\s*(?:\\)?$")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _requirements(path: Path) -> dict[str, str]:
    """name -> specifier of every requirement line (continuations and comments skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _REQUIREMENT.match(line)
        assert match, f"{path.name}: cannot read {line!r}"
        found[_name(match.group(1))] = match.group(3)
    return found


def _lock_entries(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a pip-compile --generate-hashes lock."""
    entries: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if pin:
            current = _name(pin.group(1))
            entries[current] = (pin.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
        elif line and not line.startswith(" "):
            current = None
    return entries


def test_pulumi_installs_the_root_lock_into_the_project_venv():
    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    # pip toolchain + virtualenv: `pulumi install`/`pulumi up` run pip install -r requirements.txt in it.
    assert runtime["options"] == {"toolchain": "pip", "virtualenv": ".venv"}
    assert DEPLOY_LOCK.is_file(), "Pulumi's pip toolchain installs the root requirements.txt"


@pytest.mark.parametrize("lock", [DEPLOY_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_locks_pin_every_package_with_hashes(lock: Path):
    entries = _lock_entries(lock)
    assert entries, f"{lock} pins nothing"
    unhashed = [name for name, (_, hashes) in entries.items() if hashes == 0]
    assert not unhashed, f"{lock.name}: no --hash for {unhashed} (pip's hash-checking mode refuses the file)"
    loose = [line for line in lock.read_text().splitlines() if re.match(r"^[A-Za-z0-9]", line) and "==" not in line]
    assert not loose, f"{lock.name}: requirements without an exact pin: {loose}"


def test_the_program_packages_are_in_the_deploy_lock():
    entries = _lock_entries(DEPLOY_LOCK)
    missing = [p for p in PROGRAM_PACKAGES if p not in entries]
    assert not missing, f"requirements.txt lacks {missing}: `pulumi up` would fail to import the program"


def test_dev_lock_has_the_deploy_lock_versions():
    deploy, dev = _lock_entries(DEPLOY_LOCK), _lock_entries(DEV_LOCK)
    differ = {n: (v, dev.get(n, (None,))[0]) for n, (v, _) in deploy.items() if dev.get(n, (None,))[0] != v}
    assert not differ, f"requirements.txt and requirements/dev.txt disagree (deploy, dev): {differ}; run `make lock`"


@pytest.mark.parametrize("path", FUNCTION_REQUIREMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_function_requirements_are_exact_and_match_the_tested_versions(path: Path):
    dev = _lock_entries(DEV_LOCK)
    for name, spec in _requirements(path).items():
        assert spec.startswith("==") and "," not in spec, f"{path.name}: {name}{spec} is not an exact pin"
        assert dev.get(name, (None,))[0] == spec[2:], (
            f"{path.relative_to(ROOT)} deploys {name}{spec} but the tests run {name}=={dev.get(name, ('?',))[0]}"
        )


def _make_rules() -> dict[str, list[str]]:
    rules = {}
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z$()_.-]+):(?!=)\s*(.*)$", line)
        if match:
            rules[match.group(1)] = match.group(2).split()
    return rules


def test_make_setup_creates_the_venv_without_a_browser_and_dev_and_test_use_it():
    rules = _make_rules()
    assert rules["setup"] == ["$(STAMP)"], rules["setup"]
    assert "browser-deps" not in rules["$(STAMP)"]
    assert "setup" in rules["dev"] and "setup" in rules["test"] and "browser-deps" in rules["test"]
    recipe = (ROOT / "Makefile").read_text().split("$(STAMP): ", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes -r requirements/dev.txt" in recipe
    assert "apt-get" not in recipe and "sudo" not in recipe, "setup must work on macOS"
