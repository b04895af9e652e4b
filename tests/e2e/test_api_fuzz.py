"""Schemathesis over the generated OpenAPI document, against the local stack over HTTP:
no 5xx, and every response matches its documented schema. `make bench` is where a long
run belongs; here each operation gets a bounded sample (SHOP_FUZZ_EXAMPLES, default 6)."""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from functions.shop.openapi import build
from tests.fakes import mfa

pytestmark = pytest.mark.e2e
schema = schemathesis.openapi.from_dict(build())
EXAMPLES = int(os.environ.get("SHOP_FUZZ_EXAMPLES", "6"))
# `make bench` (the full-size run) counts the requests and their status codes here.
COUNT_FILE = os.environ.get("SHOP_FUZZ_COUNT_FILE")


@pytest.fixture(scope="module")
def admin_session(shop):
    tokens = mfa.sign_in(shop.base_url, shop.admin_email, shop.admin_password)
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + tokens["accessToken"]
    return session


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_5xx_and_matches_its_schema(case, shop, admin_session):
    response = case.call(base_url=shop.base_url, session=admin_session, timeout=30)
    if COUNT_FILE:
        with open(COUNT_FILE, "a") as f:
            f.write(f"{case.operation.label}\t{response.status_code}\n")
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
