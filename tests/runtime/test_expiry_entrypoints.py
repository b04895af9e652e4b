"""The expiry schedule's entrypoint on each cloud (functions/runtimes/*_expiry.py): what the
scheduler invokes cancels the unpaid orders older than SHOP_ORDER_EXPIRY_HOURS, and only those."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import functions_framework
import pytest
from azure.functions.timer import TimerRequest

from functions.adapters.memory import memory_services
from functions.runtimes import aws_expiry, azure_expiry, azure_http, gcp_expiry, gcp_http
from functions.shop import expiry, ports
from functions.shop.services import Services

RUNTIMES = Path(aws_expiry.__file__).parent


def order(order_id: str, created_at: str) -> ports.Order:
    line = ports.OrderLine("p", "P", 500, 2)
    return ports.Order(
        order_id, "u", ports.PLACED, (line,), 1000, "USD", created_at, created_at,
        ports.Address("Ada", "1 St", "London", "N1", "GB"), "u@example.com", f"key-{order_id}",
    )  # fmt: skip


@pytest.fixture
def shop(monkeypatch) -> tuple[Services, str, str]:
    """One order placed two hours ago and one just now; expiry after one hour."""
    monkeypatch.setenv(expiry.EXPIRY_HOURS_SETTING, "1")
    services = memory_services(deliver=False)
    services.store.create_product(ports.Product("p", "P", "d", "c", 500, "USD", 10, None))
    stamp = lambda delta: (datetime.now(UTC) - delta).isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    old, new = (
        order("0000000000010000000001", stamp(timedelta(hours=2))),
        order("0000000000020000000002", stamp(timedelta())),
    )
    for o in (old, new):
        services.store.place_order(o, request_hash="h")
    return services, old.order_id, new.order_id


def assert_only_the_old_order_expired(services: Services, old: str, new: str) -> None:
    assert services.store.find_order(old).status == ports.CANCELLED, "the order older than the expiry stayed PLACED"
    assert services.store.find_order(new).status == ports.PLACED, "a recent order was cancelled"
    assert services.store.get_product("p").stock == 8, "the expired order's stock was not returned once"


def test_aws_lambda_handler_runs_the_expiry_on_the_schedule_event(shop):
    services, old, new = shop
    event = {"source": "aws.scheduler", "detail-type": "Scheduled Event"}  # what EventBridge Scheduler sends
    assert aws_expiry.handler(event, None, services=services) == {"cancelled": 1, "leftAlone": 0, "more": False}
    assert_only_the_old_order_expired(services, old, new)
    assert aws_expiry.handler(event, None, services=services)["cancelled"] == 0, "a second run cancelled again"


def test_azure_timer_trigger_is_registered_on_the_expiry_app_and_runs_the_expiry(shop, monkeypatch):
    services, old, new = shop
    monkeypatch.setattr(azure_http, "_services", services)
    monkeypatch.setenv("SHOP_AZURE_TRIGGERS", "expiry")
    spec = importlib.util.spec_from_file_location("function_app_expiry", RUNTIMES / "azure_app" / "function_app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [fn] = module.app.get_functions()
    [binding] = fn.get_bindings()
    assert (fn.get_function_name(), binding.type) == ("expire_orders", "timerTrigger"), fn.get_function_name()
    assert binding.schedule == f"%{azure_expiry.SCHEDULE_SETTING}%", "the schedule must come from the app setting"
    fn.get_user_function()(TimerRequest(past_due=True))
    assert_only_the_old_order_expired(services, old, new)


def test_gcp_http_entry_point_answers_the_scheduler_with_the_run(shop, monkeypatch):
    services, old, new = shop
    monkeypatch.setattr(gcp_http, "_services", services)
    app = functions_framework.create_app(target="expire_orders", source=str(RUNTIMES / "gcp_app" / "main.py"))
    resp = app.test_client().post("/", headers={"User-Agent": "Google-Cloud-Scheduler"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert json.loads(resp.get_data()) == {"cancelled": 1, "leftAlone": 0, "more": False}
    assert_only_the_old_order_expired(services, old, new)
    assert gcp_expiry.run(lambda: services).status_code == 200


def test_a_misconfigured_expiry_fails_the_run_loudly(shop, monkeypatch):
    services, old, _ = shop
    monkeypatch.setenv(expiry.EXPIRY_HOURS_SETTING, "soon")
    with pytest.raises(ValueError, match=expiry.EXPIRY_HOURS_SETTING):
        aws_expiry.handler({}, None, services=services)
    assert services.store.find_order(old).status == ports.PLACED
