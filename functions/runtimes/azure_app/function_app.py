"""The Azure Function App's entry file. The Python worker loads `function_app.py` from the
app's root, so the deployment package puts THIS file at the zip root, next to the
`functions/` package and host.json (see providers/azure packaging).

SHOP_AZURE_TRIGGERS (default "http,notifications") selects what this app registers, so
one package can serve the HTTP API and the Service Bus consumer as separate apps.
"""

import os

import azure.functions as func

# HTTP triggers need a function key (only API Management holds it); see azure_http.py.
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

_triggers = {t.strip() for t in os.environ.get("SHOP_AZURE_TRIGGERS", "http,notifications").split(",")}
if "http" in _triggers:
    from functions.runtimes.azure_http import bp as _http

    app.register_functions(_http)
if "notifications" in _triggers:
    from functions.runtimes.azure_notifications import bp as _notifications

    app.register_functions(_notifications)
if "expiry" in _triggers:
    from functions.runtimes.azure_expiry import bp as _expiry

    app.register_functions(_expiry)
