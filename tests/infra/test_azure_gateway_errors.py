"""API Management's own answers follow the API contract: a bad token is 401, a valid token
without the admin role is 403, and both (and a request that bypassed Front Door) carry the
shop's error body, read from the operation policies the program deploys under the mocks."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from functions.shop import models
from functions.shop.openapi import ERROR_CODES
from functions.shop.routes import ADMIN, CUSTOMER, ROUTES
from providers.azure.api import JWT_VARIABLE, require_role

from .conftest import BuiltStack

POLICY = "azure-native:apimanagement:ApiOperationPolicy"
ADMIN_CHECK = (
    f'!((Jwt)context.Variables["{JWT_VARIABLE}"]).Claims.GetValueOrDefault("roles", "").Split(\',\').Contains("admin")'
)


def _expression_end(raw: str, start: int) -> int:
    """Index of the ``)`` closing the policy expression ``@(`` that opens at ``start``."""
    depth, quote, i = 0, "", start + 1
    while i < len(raw):
        c = raw[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise AssertionError(f"unbalanced policy expression at {start}: {raw[start : start + 80]}")


def parse_rawxml(raw: str) -> ET.Element:
    """API Management's rawxml lets C# expressions keep their quotes inside attributes;
    escape them as the service does before reading the document as XML."""
    out, i = [], 0
    while (at := raw.find('="@(', i)) != -1:
        end = _expression_end(raw, at + 2)
        out.append(raw[i : at + 2] + escape(raw[at + 2 : end + 1], {'"': "&quot;"}))
        i = end + 1
    out.append(raw[i:])
    return ET.fromstring("".join(out))


def _policies(stack: BuiltStack) -> dict[str, ET.Element]:
    return {r.name.removeprefix("policy-"): parse_rawxml(r.inputs["value"]) for r in stack.of_type(POLICY)}


def _response(node: ET.Element) -> tuple[int, dict[str, str], dict]:
    """(status, headers, parsed body) of a <return-response>, checked against the API's Error model."""
    status = int(node.find("set-status").get("code"))
    headers = {h.get("name").lower(): h.find("value").text for h in node.findall("set-header")}
    body = json.loads(node.find("set-body").text)
    models.Error.model_validate(body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] in ERROR_CODES, body
    assert headers.get("content-type") == "application/json", headers
    return status, headers, body


@pytest.fixture(scope="module")
def policies(az_dev: BuiltStack) -> dict[str, ET.Element]:
    return _policies(az_dev)


def test_every_operation_policy_is_xml_once_expressions_are_escaped(az_dev: BuiltStack, az_prod: BuiltStack):
    for stack in (az_dev, az_prod):
        parsed = _policies(stack)
        assert set(parsed) == {r.operation_id for r in ROUTES}
        assert all(p.tag == "policies" for p in parsed.values())


def test_a_missing_role_is_not_a_token_failure(policies: dict[str, ET.Element]):
    for route in ROUTES:
        jwt = policies[route.operation_id].find("inbound/validate-jwt")
        if route.auth not in (CUSTOMER, ADMIN):
            assert jwt is None, route.operation_id
            continue
        assert jwt is not None, route.operation_id
        assert jwt.get("failed-validation-httpcode") == "401"
        assert jwt.find("required-claims") is None, f"{route.operation_id}: a missing role would answer 401"
        assert jwt.get("output-token-variable-name") == JWT_VARIABLE, route.operation_id


def test_admin_operations_answer_403_in_the_shop_shape_without_the_role(policies: dict[str, ET.Element]):
    for route in ROUTES:
        inbound = list(policies[route.operation_id].find("inbound"))
        tags = [e.tag for e in inbound]
        if route.auth != ADMIN:
            assert "choose" not in tags, route.operation_id
            continue
        # After the token is validated (the variable exists) and before the backend is chosen.
        assert tags == ["base", "validate-jwt", "choose", "set-backend-service"], (route.operation_id, tags)
        when = inbound[2].findall("when")
        assert len(when) == 1 and inbound[2].find("otherwise") is None
        assert when[0].get("condition") == f"@({ADMIN_CHECK})", when[0].get("condition")
        status, _, body = _response(when[0].find("return-response"))
        assert status == 403 and body["error"]["code"] == "FORBIDDEN", (status, body)


def test_gateway_refusals_answer_the_shop_shape(policies: dict[str, ET.Element]):
    for route in ROUTES:
        on_error = policies[route.operation_id].find("on-error")
        assert on_error[0].tag == "base", route.operation_id
        by_source = {w.get("condition"): _response(w.find("return-response")) for w in on_error.findall("choose/when")}
        # The API-level check-header (only Front Door's requests) fails into this section too.
        not_from_front_door = by_source.pop('@(context.LastError.Source == "check-header")')
        assert not_from_front_door[0] == 403 and not_from_front_door[2]["error"]["code"] == "FORBIDDEN"
        if route.auth not in (CUSTOMER, ADMIN):
            assert not by_source, (route.operation_id, sorted(by_source))
            continue
        unauthorized = by_source.pop('@(context.LastError.Source == "validate-jwt")')
        assert unauthorized[0] == 401 and unauthorized[2]["error"]["code"] == "UNAUTHORIZED", unauthorized
        assert unauthorized[1]["www-authenticate"] == "Bearer"
        assert not by_source, (route.operation_id, sorted(by_source))


def test_role_names_that_would_break_the_expression_are_refused():
    assert 'Contains("shop.admin-1")' in require_role("shop.admin-1")
    for bad in ('admin")||true||("', "ad min", ""):
        with pytest.raises(ValueError, match="admin role"):
            require_role(bad)
