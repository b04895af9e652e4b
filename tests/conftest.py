"""Session-wide test settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _aws_mocks_stay_in_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local stack (browser and e2e suites) points AWS_ENDPOINT_URL at its emulator
    process for the whole session; tests using moto's in-process `mock_aws` must not
    follow it there (they would share, and collide on, the emulator's tables)."""
    if request.node.get_closest_marker("e2e") or request.node.get_closest_marker("browser"):
        return
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


_emulator_outcomes: dict[str, dict[str, int]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    from tests import emulators

    for kind, users in emulators.USERS.items():
        if report.nodeid not in users:
            continue
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            counts = _emulator_outcomes.setdefault(kind, {})
            counts[report.outcome] = counts.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """One line per Google emulator: how many tests ran on it, or loudly why none did."""
    from tests import emulators

    tr = terminalreporter
    for emu in (emulators.FIRESTORE, emulators.PUBSUB):
        counts = _emulator_outcomes.get(emu.kind)
        if not counts:
            continue
        if emu.failure:
            tr.write_line(
                f"{emu.kind} emulator NOT RUN: {counts.get('skipped', 0)} tests skipped: {emu.failure}",
                red=True,
                bold=True,
            )
        else:
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            tr.write_line(f"{emu.kind} emulator (Google's, real): {summary}", green=True, bold=True)


def pytest_sessionfinish(session, exitstatus) -> None:
    from tests import emulators

    emulators.stop_all()
