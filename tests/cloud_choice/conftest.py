"""The six stacks (AWS, Azure, GCP x dev, prod) built once under the mocks for the platform tests."""

from __future__ import annotations

import pytest
from infra.azure_mocks import AZURE_DEV, AZURE_PROD, build_azure_stack
from infra.conftest import DEV_CONFIG, PROD_CONFIG, BuiltStack, build_stack
from infra.gcp_mocks import GCP_DEV, GCP_PROD, build_gcp_stack

BUILDERS = {
    ("aws", "dev"): lambda: build_stack(DEV_CONFIG, "dev"),
    ("aws", "prod"): lambda: build_stack(PROD_CONFIG, "prod"),
    ("azure", "dev"): lambda: build_azure_stack(AZURE_DEV, "dev"),
    ("azure", "prod"): lambda: build_azure_stack(AZURE_PROD, "prod"),
    ("gcp", "dev"): lambda: build_gcp_stack(GCP_DEV, "dev"),
    ("gcp", "prod"): lambda: build_gcp_stack(GCP_PROD, "prod"),
}


class Stacks:
    """Builds each (cloud, stack) on first use, once per session."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, str], BuiltStack] = {}

    def __call__(self, cloud: str, stack: str) -> BuiltStack:
        key = (cloud, stack)
        if key not in self._built:
            self._built[key] = BUILDERS[key]()
        return self._built[key]


@pytest.fixture(scope="session")
def stacks() -> Stacks:
    return Stacks()
