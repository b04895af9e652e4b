"""The shape a maintainer relies on (issue 12): every cloud's provider package has the same
modules, the provider code is typed, functions stay small, and the cheap entry points stay cheap.
Each test names what drifted."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLOUDS = ("aws", "azure", "gcp")
# Longest function allowed in the program, the providers and the functions: a reader keeps one
# job in view at a time.
MAX_FUNCTION_LINES = 60


def _modules(cloud: str) -> set[str]:
    return {p.name for p in (ROOT / "providers" / cloud).glob("*.py")}


def test_every_cloud_has_the_same_modules():
    reference = _modules("aws")
    for cloud in CLOUDS[1:]:
        theirs = _modules(cloud)
        assert theirs == reference, (
            f"providers/{cloud} differs from providers/aws: only in {cloud}: {sorted(theirs - reference)}, "
            f"missing in {cloud}: {sorted(reference - theirs)}"
        )


def _any_annotations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "Any":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        elif isinstance(node, ast.Attribute) and node.attr == "Any" and getattr(node.value, "id", "") == "typing":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


@pytest.mark.parametrize("folder", ["components", *(f"providers/{c}" for c in CLOUDS)])
def test_provider_code_is_typed_without_any(folder):
    uses = [hit for path in sorted((ROOT / folder).glob("*.py")) for hit in _any_annotations(path)]
    assert not uses, f"`Any` in {folder} where the SDK's or our own types belong: {uses}"


def _long_functions(root: Path) -> list[str]:
    long = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    return long


@pytest.mark.parametrize("folder", ["components", "providers", "functions"])
def test_functions_are_small(folder):
    long = _long_functions(ROOT / folder)
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines in {folder}/: {long}"


def test_policy_documents_load_without_pulumi():
    """The local stack builds each function's IAM policy from the deployment's own code at start-up;
    that code must not drag in the Pulumi SDK (seconds of `make dev` start-up)."""
    probe = "import sys, providers.aws.iam; print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"importing providers.aws.iam loaded {out.stdout.strip()}"


def test_no_history_in_comments():
    """Comments say why; history lives in git. A comment that narrates a change goes stale."""
    narrating = re.compile(r"#.*\b(used to|previously|no longer|was changed|we changed|formerly|last round)\b", re.I)
    hits = []
    for folder in ("components", "providers", "functions"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if narrating.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, f"comments that carry history: {hits}"
