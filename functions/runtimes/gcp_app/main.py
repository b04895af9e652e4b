"""The Cloud Functions (2nd gen) entry file. The Python runtime imports `main.py` from the
source root, so the deployment archive puts THIS file at the root, next to the
`functions/` package and requirements.txt (see providers/gcp packaging). Entry points:
  shop_api        HTTP, behind API Gateway
  on_order_event  Pub/Sub CloudEvent (order-events topic)
  expire_orders   HTTP, called by Cloud Scheduler (OIDC) only
"""

from functions.runtimes.gcp_expiry import expire_orders
from functions.runtimes.gcp_http import shop_api
from functions.runtimes.gcp_notifications import on_order_event

__all__ = ["expire_orders", "on_order_event", "shop_api"]
