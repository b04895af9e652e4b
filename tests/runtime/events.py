"""Realistic AWS events, copied from the shapes API Gateway (HTTP API, payload 2.0) and the
SQS event source mapping really deliver, with only the values parameterised."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
POOL = "us-east-1_AbCdEfGhI"
CLIENT_ID = "4mc1vq1qk2t3a0b1c2d3e4f5g6"


def claims(sub: str = "7d6a1f0e-1234-4c4b-9a55-0f1e2d3c4b5a", groups: Any = None, **extra: str) -> dict[str, str]:
    """Claims of a Cognito access token as the HTTP API JWT authorizer forwards them:
    every value a string, arrays flattened to "[a b]"."""
    out = {
        "auth_time": "1764041700",
        "client_id": CLIENT_ID,
        "event_id": "0f0c7e2a-5b5b-4f3e-9a55-1a2b3c4d5e6f",
        "exp": "1764045300",
        "iat": "1764041700",
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}",
        "jti": "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716",
        "origin_jti": "6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2918",
        "scope": "aws.cognito.signin.user.admin",
        "sub": sub,
        "token_use": "access",
        "username": sub,
    }
    if groups is not None:
        out["cognito:groups"] = groups
    out.update(extra)
    return out


def http_event(
    method: str,
    route_path: str,
    raw_path: str | None = None,
    *,
    path_params: dict[str, str] | None = None,
    query: str = "",
    body: str | bytes | None = None,
    base64_body: bool = False,
    jwt_claims: dict | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
    route_key: str | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    raw_path = raw_path or route_path
    hdrs = {
        "accept": "application/json",
        "content-length": str(len(body or b"")),
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-6745a8e4-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        hdrs["content-type"] = "application/json"
    hdrs.update(headers or {})
    if base64_body and body is not None:
        raw = body if isinstance(body, bytes) else body.encode()
        body = base64.b64encode(raw).decode()
    elif isinstance(body, bytes):
        body = body.decode()
    qsp: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        k, _, v = part.partition("=")
        qsp[k] = f"{qsp[k]},{v}" if k in qsp else v  # API Gateway joins repeated keys with commas
    key = route_key or f"{method} {route_path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": hdrs,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0",
            },
            "requestId": request_id or "Q1w2E3r4IAMEbcA=",
            "routeKey": key,
            "stage": stage,
            "time": "25/Nov/2026:03:35:04 +0000",
            "timeEpoch": 1764041704000,
        },
        "isBase64Encoded": base64_body,
    }
    if qsp:
        event["queryStringParameters"] = qsp
    if path_params:
        event["pathParameters"] = path_params
    if body is not None:
        event["body"] = body
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": jwt_claims, "scopes": None}}
    return event


def sns_envelope(message: str, topic: str = "order-events") -> str:
    """An SQS message body when the subscription has raw message delivery off."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic}",
            "Message": message,
            "Timestamp": "2026-11-25T03:35:04.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE==",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {"type": {"Type": "String", "Value": "OrderPlaced"}},
        }
    )


def sqs_record(body: str, message_id: str | None = None, receive_count: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1764041704000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1764041704010",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:notifications",
        "awsRegion": REGION,
    }
