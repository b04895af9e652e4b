"""Azure Functions timer trigger of the expiry schedule: every 15 minutes the `expiry` Function
App cancels the unpaid orders older than SHOP_ORDER_EXPIRY_HOURS (functions/shop/expiry.py).

SHOP_EXPIRY_SCHEDULE (NCRONTAB, set by providers/azure/functions.py) is the schedule; raising
fails the run, and the next run picks up whatever this one left.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions.shop.datamodel import AzureSettingNames

from ._common import ServicesFactory
from .azure_http import services

log = logging.getLogger(__name__)
bp = func.Blueprint()

SCHEDULE_SETTING = AzureSettingNames.EXPIRY_SCHEDULE


def run(services_factory: ServicesFactory | None = None) -> dict[str, int | bool]:
    from functions.shop.expiry import run_expiry

    summary = run_expiry((services_factory or services)()).summary()
    log.info("expiry run: %s", summary)
    return summary


@bp.timer_trigger(arg_name="timer", schedule=f"%{SCHEDULE_SETTING}%", run_on_startup=False, use_monitor=True)
def expire_orders(timer: func.TimerRequest) -> None:
    if timer.past_due:
        log.info("expiry run is past due; running now")
    run()
