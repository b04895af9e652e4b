"""Cloud Functions (2nd gen) entrypoint of the expiry schedule: Cloud Scheduler calls it over
HTTP with an OIDC token of its own service account (the only identity allowed to invoke it,
providers/gcp/functions.py); it cancels the unpaid orders older than SHOP_ORDER_EXPIRY_HOURS
(functions/shop/expiry.py). A failure answers 500, so Cloud Scheduler records and retries it.
"""

from __future__ import annotations

import json
import logging

import flask
import functions_framework

from ._common import ServicesFactory
from .gcp_http import services

log = logging.getLogger(__name__)


def run(services_factory: ServicesFactory | None = None) -> flask.Response:
    from functions.shop.expiry import run_expiry

    summary = run_expiry((services_factory or services)()).summary()
    log.info("expiry run: %s", summary)
    return flask.Response(json.dumps(summary), status=200, mimetype="application/json")


@functions_framework.http
def expire_orders(request: flask.Request) -> flask.Response:
    return run()
