"""SQS -> the real notifications entrypoint, as Lambda's SQS event source mapping would do it."""

from __future__ import annotations

import logging
import threading
from typing import Any

from functions.adapters.aws_clients import acting_as, client
from functions.runtimes import aws_notifications
from functions.shop import datamodel as dm
from functions.shop.services import Services

log = logging.getLogger("shop.local.notifications")
# The notifications function: the one whose trigger is the queue (its role polls it).
FUNCTION = next(s.name for s in dm.SERVICES if s.trigger == "queue")
# The poller's thread: a test watching one request's SDK calls sets this one's aside.
THREAD = "notifications"


class NotificationWorker:
    """Long-polls one stack's queue, invokes the handler with the batch, and deletes only the
    messages it did not report as failed: failures are redelivered, then dead-lettered."""

    def __init__(self, queue_url: str, region: str, account: str, services: Services, stop: threading.Event) -> None:
        self.queue_url, self.services, self.stop = queue_url, services, stop
        self.queue_arn = f"arn:aws:sqs:{region}:{account}:{queue_url.rsplit('/', 1)[-1]}"
        self.region = region

    def run(self) -> None:
        sqs = client("sqs")
        while not self.stop.is_set():
            try:
                with acting_as(FUNCTION):  # the event source mapping polls with the function's role
                    msgs = sqs.receive_message(
                        QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
                    ).get("Messages", [])
            except Exception:
                if self.stop.is_set():
                    return
                log.exception("notification poll failed")
                self.stop.wait(0.5)
                continue
            if msgs:
                self._deliver(sqs, msgs)

    def _deliver(self, sqs: Any, msgs: list[dict[str, Any]]) -> None:
        failed = self.invoke(msgs)
        for m in msgs:
            if m["MessageId"] not in failed:  # failures stay: redelivered, then dead-lettered
                with acting_as(FUNCTION):
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def _record(self, m: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }

    def invoke(self, msgs: list[dict[str, Any]]) -> set[str]:
        """Call the Lambda handler with the event the event source mapping would send; return
        the ids it reported as failed (ReportBatchItemFailures)."""
        try:
            result = aws_notifications.handler(
                {"Records": [self._record(m) for m in msgs]}, None, services=self.services
            )
        except Exception:  # a crashed invocation fails the whole batch, as on Lambda
            log.exception("notifications handler crashed; the batch will be redelivered")
            return {m["MessageId"] for m in msgs}
        return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
