"""The Service Bus trigger registered by function_app.py: an order event becomes an email;
a failure raises (Service Bus redelivers, then dead-letters) and never loses the event."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import azure.functions as func
import pytest

from functions.adapters.cosmos_store import CosmosStore
from functions.runtimes import azure_http
from functions.shop.services import Services
from tests.fakes.cosmos import FakeContainer
from tests.fakes.events import placed_event_json
from tests.fakes.identity import JwtIdentity, RecordingNotifier, StubMedia


@pytest.fixture
def services(monkeypatch):
    pytest.importorskip("functions.shop.notifications", reason="the domain module lands with the handlers issue")
    s = Services(
        store=CosmosStore(FakeContainer()),
        notifier=RecordingNotifier(),
        identity=JwtIdentity("entra"),
        media=StubMedia(),
    )
    monkeypatch.setattr(azure_http, "_services", s)
    return s


@pytest.fixture
def trigger():
    path = Path(azure_http.__file__).parent / "azure_app" / "function_app.py"
    spec = importlib.util.spec_from_file_location("function_app_notifications", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = {f.get_function_name(): f for f in module.app.get_functions()}["order_events"]
    return fn.get_user_function()


def test_an_order_event_sends_the_confirmation_email(services, trigger):
    trigger(func.ServiceBusMessage(body=placed_event_json().encode(), content_type="application/json"))
    assert len(services.notifier.emails) == 1, services.notifier.emails
    to, _subject, text = services.notifier.emails[0]
    assert to == "ada@example.com" and "Algorithms" in text


def test_an_email_failure_raises_so_service_bus_redelivers_and_the_retry_sends_once(services, trigger):
    services.notifier.fail_emails = 1
    message = func.ServiceBusMessage(body=placed_event_json().encode())
    with pytest.raises(Exception, match="injected email failure"):
        trigger(message)
    assert services.notifier.emails == []
    trigger(message)  # the redelivery
    assert len(services.notifier.emails) == 1


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_a_malformed_message_fails_loudly_for_the_dead_letter_queue(services, trigger, body):
    with pytest.raises(ValueError, match="order event"):
        trigger(func.ServiceBusMessage(body=body))
    assert services.notifier.emails == []
