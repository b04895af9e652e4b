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
