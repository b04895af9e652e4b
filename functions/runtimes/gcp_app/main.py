"""The Cloud Functions (2nd gen) entry file. The Python runtime imports `main.py` from the
source root, so the deployment archive puts THIS file at the root, next to the
`functions/` package and requirements.txt (see providers/gcp packaging). Entry points:
  shop_api        HTTP, behind API Gateway
  on_order_event  Pub/Sub CloudEvent (order-events topic)
"""

from functions.runtimes.gcp_http import shop_api
from functions.runtimes.gcp_notifications import on_order_event

__all__ = ["on_order_event", "shop_api"]
