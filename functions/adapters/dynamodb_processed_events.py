"""ProcessedEvents on the shop's DynamoDB table (datamodel.SHOP_TABLE):

    PK=EVENT#<eventId>  SK=EVENT  state, holder, leaseUntil, expiresAt (the table's TTL attribute)

The notifications function may touch only these items (its IAM grant is conditioned on
dynamodb:LeadingKeys = EVENT#*). A claim is one conditional PutItem; DynamoDB's TTL deletes a record up to days after
expiresAt, so every condition also treats an expired record as absent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from functions.shop import datamodel as dm
from functions.shop.processed_events import BUSY, CLAIMED, DONE

from .dynamodb_store import DynamoDBTable

_NAMES = {"#pk": "PK", "#st": "state", "#h": "holder", "#l": "leaseUntil", "#x": "expiresAt"}


def _key(event_id: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": f"{dm.PROCESSED_EVENT_KEY_PREFIX}{event_id}"}, "SK": {"S": "EVENT"}}


def _num(value: float) -> dict[str, str]:
    return {"N": f"{value:.3f}"}


class DynamoDBProcessedEvents(DynamoDBTable):
    def __init__(self, table_name: str, client: Any = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(table_name, client)
        self._clock = clock

    def _item(self, event_id: str, state: str, holder: str, lease_until: float, now: float) -> dict:
        return {
            **_key(event_id),
            "state": {"S": state},
            "holder": {"S": holder},
            "leaseUntil": _num(lease_until),
            "expiresAt": {"N": str(int(now + dm.PROCESSED_EVENTS_TTL_SECONDS))},
        }

    def claim(self, event_id: str, holder: str, *, lease_seconds: int = dm.PROCESSED_EVENT_LEASE_SECONDS) -> str:
        from botocore.exceptions import ClientError

        now = self._clock()
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item=self._item(event_id, CLAIMED, holder, now + lease_seconds, now),
                ConditionExpression=(
                    "attribute_not_exists(#pk) OR #x < :now OR (#st = :claimed AND (#l < :now OR #h = :holder))"
                ),
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":now": _num(now), ":claimed": {"S": CLAIMED}, ":holder": {"S": holder}},
            )
            return CLAIMED
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        # Lost to a live record: DONE, or someone else's unexpired claim.
        item = self._call("get_item", TableName=self.table, Key=_key(event_id), ConsistentRead=True).get("Item")
        return DONE if item and item["state"]["S"] == DONE else BUSY

    def done(self, event_id: str, holder: str) -> None:
        now = self._clock()
        self._call("put_item", TableName=self.table, Item=self._item(event_id, DONE, holder, now, now))

    def release(self, event_id: str, holder: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call(
                "delete_item",
                TableName=self.table,
                Key=_key(event_id),
                ConditionExpression="#st = :claimed AND #h = :holder",
                ExpressionAttributeNames={"#st": "state", "#h": "holder"},
                ExpressionAttributeValues={":claimed": {"S": CLAIMED}, ":holder": {"S": holder}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
