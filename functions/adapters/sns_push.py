"""Push through SNS mobile push: an FCM platform application, one endpoint per device token.

For each device: CreatePlatformEndpoint (idempotent: SNS answers the same endpoint ARN for
the same token and attributes, so nothing needs remembering between pushes), then Publish
to the endpoint with a JSON message structure whose `GCM` key carries an FCM HTTP v1
message. A token SNS or FCM refuses (endpoint disabled after FCM said the token is gone,
endpoint not found, token rejected as an invalid parameter) comes back in
`PushOutcome.invalid_tokens` and its endpoint is deleted. Any other failure means SNS itself
is not answering: it is raised (the notifications consumer logs it; the e-mail is out).

The function's role may call exactly CreatePlatformEndpoint on the platform application
and Publish / DeleteEndpoint on its endpoints (providers/aws/iam.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from functions.shop.push import Device, PushOutcome

log = logging.getLogger("shop.push.sns")

# SNS's error codes for a device that cannot be reached any more.
GONE = frozenset({"EndpointDisabled", "NotFound", "InvalidParameter"})
# CreatePlatformEndpoint refuses a known token whose endpoint has other attributes (disabled,
# or another customer's CustomUserData) and names that endpoint in its message.
_EXISTING = re.compile(r"Endpoint (arn:aws[\w-]*:sns:\S+) already exists with the same Token")


def gcm_message(title: str, body: str, data: Mapping[str, str]) -> str:
    """The Publish message: `default` for any other protocol, `GCM` an FCM HTTP v1 message."""
    fcm = {"fcmV1Message": {"message": {"notification": {"title": title, "body": body}, "data": dict(data)}}}
    return json.dumps({"default": body, "GCM": json.dumps(fcm, separators=(",", ":"))}, separators=(",", ":"))


class SnsPushSender:
    def __init__(self, application_arn: str, client: Any = None) -> None:
        self.application_arn = application_arn
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from .aws_clients import client

            self._client = client("sns")
        return self._client

    def push(self, devices: Sequence[Device], title: str, body: str, data: Mapping[str, str]) -> PushOutcome:
        message = gcm_message(title, body, data)
        user = data.get("userId", "")
        invalid: list[str] = []
        for device in devices:
            if not self._push_one(device.token, user, message):
                invalid.append(device.token)
        return PushOutcome(delivered=len(devices) - len(invalid), invalid_tokens=tuple(invalid))

    def _push_one(self, token: str, user: str, message: str) -> bool:
        """True when SNS accepted the message for this token; False when the token is gone."""
        from botocore.exceptions import ClientError

        endpoint = None
        try:
            endpoint = self._endpoint(token, user)
            self.client.publish(TargetArn=endpoint, Message=message, MessageStructure="json")
            return True
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code not in GONE:
                raise
            log.info("push token refused by SNS (%s); forgetting it", code)
            if endpoint is not None:
                self.client.delete_endpoint(EndpointArn=endpoint)
            return False

    def _endpoint(self, token: str, user: str) -> str:
        """The token's endpoint ARN. SNS names an endpoint left with other attributes (disabled
        after FCM refused the token, or registered by another customer on a shared device):
        the Publish to it then says which (EndpointDisabled, or delivered)."""
        from botocore.exceptions import ClientError

        create = {"PlatformApplicationArn": self.application_arn, "Token": token, "CustomUserData": user}
        try:
            return str(self.client.create_platform_endpoint(**create)["EndpointArn"])
        except ClientError as e:
            existing = _EXISTING.search(e.response.get("Error", {}).get("Message", ""))
            if existing is None:
                raise
            return existing.group(1)
