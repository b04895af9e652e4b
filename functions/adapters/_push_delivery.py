"""What the HTTP push senders (FCM HTTP v1, Notification Hubs direct send) share: one request
per device, one retry of a throttled or failed-on-the-server request, and the tally into a
PushOutcome. Each sender only says how to send to one device and how to read the answer.

Stdlib only (the notifications function's cold-start path).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from functools import partial
from typing import Any

from functions.shop.push import Device, PushOutcome

from ._http import HttpResponse, Transport, call

log = logging.getLogger(__name__)

RETRY_AFTER_CAP_SECONDS = 5.0  # the consumer's invocation must not spend its timeout waiting


class Verdict(Enum):
    DELIVERED = "delivered"
    INVALID = "invalid"  # the service says the token is gone: the caller prunes it
    FAILED = "failed"  # not delivered this time; the token stays


def retryable(status: int) -> bool:
    return status == 429 or status >= 500


def retry_delay(resp: HttpResponse, backoff_seconds: float) -> float:
    """The service's Retry-After (seconds form) when it sends one, capped; else `backoff_seconds`."""
    raw = resp.headers.get("retry-after", "")
    try:
        return min(max(float(raw), 0.0), RETRY_AFTER_CAP_SECONDS)
    except ValueError:
        return backoff_seconds


def send_with_one_retry(
    send: Callable[[], HttpResponse], sleep: Callable[[float], None] = time.sleep, backoff_seconds: float = 1.0
) -> HttpResponse:
    """`send()`, and once more after a pause when it answered 429 or 5xx. Transport errors
    (service unreachable) propagate."""
    resp = send()
    if retryable(resp.status):
        sleep(retry_delay(resp, backoff_seconds))
        resp = send()
    return resp


def fcm_v1_message(title: str, body: str, data: Mapping[str, str], token: str | None = None) -> dict[str, Any]:
    """An FCM HTTP v1 message: notification title/body, the string data when there is any, and
    the token unless the service adds it (Notification Hubs direct send)."""
    message: dict[str, Any] = {"notification": {"title": title, "body": body}}
    if token is not None:
        message["token"] = token
    if data:
        message["data"] = dict(data)
    return {"message": message}


# (headers, JSON body) of the request for one device
Request = Callable[[Device], tuple[Mapping[str, str], dict[str, Any]]]


def push_each(
    devices: Sequence[Device],
    *,
    url: str,
    request: Request,
    verdict: Callable[[Device, HttpResponse], Verdict],
    transport: Transport,
    sleep: Callable[[float], None],
) -> PushOutcome:
    """POST to `url` for every device in turn; one device's refusal never stops the others."""
    delivered, invalid = 0, []
    for device in devices:
        headers, body = request(device)
        resp = send_with_one_retry(partial(call, transport, "POST", url, json_body=body, headers=headers), sleep)
        found = verdict(device, resp)
        if found is Verdict.DELIVERED:
            delivered += 1
        elif found is Verdict.INVALID:
            invalid.append(device.token)
    return PushOutcome(delivered=delivered, invalid_tokens=tuple(invalid))


def log_failure(service: str, device: Device, resp: HttpResponse) -> Verdict:
    # The token is a credential of the customer's device: only its tail goes to the log.
    log.warning(
        "%s push to %s device …%s not delivered: HTTP %s %r",
        service, device.platform, device.token[-6:], resp.status, resp.body[:200],
    )  # fmt: skip
    return Verdict.FAILED
