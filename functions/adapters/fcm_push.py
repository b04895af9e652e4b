"""PushSender on GCP: Firebase Cloud Messaging HTTP v1, one message per device token.

`POST https://fcm.googleapis.com/v1/projects/<project>/messages:send` with the function's own
service-account token (google-auth's application default credentials: the metadata server on
Cloud Functions; scope firebase.messaging). The account holds one permission for it,
cloudmessaging.messages.create (providers/gcp/iam.py).

Answers, per token (https://firebase.google.com/docs/cloud-messaging/manage-tokens):
- 200: delivered to FCM;
- 404 with errorCode UNREGISTERED, or 400 INVALID_ARGUMENT about the token itself (not the
  payload): the token is gone, the caller prunes it;
- 429 or 5xx: one retry after a pause (Retry-After when given), then not delivered;
- anything else: not delivered, logged. A transport error (FCM unreachable) raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from functions.shop.push import Device, PushOutcome

from ._http import HttpResponse, Transport, urllib_transport
from ._push_delivery import Verdict, fcm_v1_message, log_failure, push_each

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

FCM_URL = "https://fcm.googleapis.com/v1/projects/{project}/messages:send"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_TOKEN_FIELD = "message.token"


class GoogleAuthToken:
    """The service account's access token from google-auth, refreshed when it expires.
    google-auth is imported on the first push only (cold start)."""

    def __init__(self) -> None:
        self._credentials: Credentials | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        import google.auth
        from google.auth.transport.requests import Request

        with self._lock:
            if self._credentials is None:
                self._credentials, _ = google.auth.default(scopes=[FCM_SCOPE])
            if not self._credentials.valid:
                self._credentials.refresh(Request())
            return str(self._credentials.token)


def _error_codes(resp: HttpResponse) -> tuple[set[str], bool]:
    """(the error's status and FCM error codes, whether the error is about the token)."""
    payload = resp.json()
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return set(), False
    codes = {str(error.get("status", ""))}
    names_token = "registration token" in str(error.get("message", "")).lower()
    for detail in error.get("details") or ():
        if not isinstance(detail, dict):
            continue
        codes.add(str(detail.get("errorCode", "")))
        violations = detail.get("fieldViolations") or ()
        names_token |= any(isinstance(v, dict) and v.get("field") == _TOKEN_FIELD for v in violations)
    return codes - {""}, names_token


def verdict(device: Device, resp: HttpResponse) -> Verdict:
    if resp.status == 200:
        return Verdict.DELIVERED
    codes, names_token = _error_codes(resp)
    if resp.status == 404 and "UNREGISTERED" in codes:
        return Verdict.INVALID
    if resp.status == 400 and "INVALID_ARGUMENT" in codes and names_token:
        return Verdict.INVALID
    return log_failure("FCM", device, resp)


class FcmPushSender:
    def __init__(
        self,
        *,
        project: str,
        token: Callable[[], str] | None = None,  # bearer token source; default google-auth
        transport: Transport = urllib_transport,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = FCM_URL.format(project=project)
        self._token = token or GoogleAuthToken()
        self._transport, self._sleep = transport, sleep

    def push(self, devices: Sequence[Device], title: str, body: str, data: Mapping[str, str]) -> PushOutcome:
        if not devices:
            return PushOutcome(delivered=0)
        headers = {"Authorization": f"Bearer {self._token()}"}

        def request(device: Device) -> tuple[Mapping[str, str], dict[str, Any]]:
            return headers, fcm_v1_message(title, body, data, token=device.token)

        return push_each(
            devices, url=self._url, request=request, verdict=verdict, transport=self._transport, sleep=self._sleep
        )
