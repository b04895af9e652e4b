"""The local emulator's speed-ups (functions/local/emulator.py) change cost, never answers."""

from __future__ import annotations

import http.client
import json
import os
import threading

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from functions.adapters.dynamodb_schema import create_table_kwargs  # noqa: E402
from functions.local import emulator, emulator_server  # noqa: E402
from functions.shop.datamodel import SHOP_TABLE  # noqa: E402


@pytest.fixture
def ddb(monkeypatch):
    for k, v in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(**create_table_kwargs(SHOP_TABLE, "t"))
        yield client


def _s(v: str) -> dict:
    return {"S": v}


def _fill(client) -> None:
    for n in range(60):
        client.put_item(TableName="t", Item={"PK": _s(f"PRODUCT#{n:02d}"), "SK": _s("PRODUCT"),
                                             "GSI1PK": _s(f"CATEGORY#c{n % 3}"), "GSI1SK": _s(f"name{n:02d}"),
                                             "stock": {"N": "5"}})  # fmt: skip
        client.put_item(TableName="t", Item={"PK": _s(f"USER#{n % 7}"), "SK": _s(f"CART#p{n:02d}")})


QUERIES = [
    {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :p", "ExpressionAttributeValues": {":p": _s("CATEGORY#c1")},
     "Limit": 7},
    {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :p AND begins_with(GSI1SK, :s)",
     "ExpressionAttributeValues": {":p": _s("CATEGORY#c2"), ":s": _s("name1")}, "ScanIndexForward": False},
    {"KeyConditionExpression": "PK = :p AND begins_with(SK, :c)",
     "ExpressionAttributeValues": {":p": _s("USER#3"), ":c": _s("CART#")}, "Limit": 4},
    {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": _s("USER#nobody")}},
]  # fmt: skip


def test_queries_answer_as_moto_does(ddb):
    _fill(ddb)

    def run():
        out = []
        for q in QUERIES:
            r = ddb.query(TableName="t", **q)
            out.append((r["Items"], r.get("LastEvaluatedKey")))
            if "LastEvaluatedKey" in r:  # and the next page
                r = ddb.query(TableName="t", ExclusiveStartKey=r["LastEvaluatedKey"], **q)
                out.append((r["Items"], r.get("LastEvaluatedKey")))
        return out

    before = run()
    emulator.fast_queries()
    assert run() == before
    assert any(items for items, _ in before)


def _stock(client, n: int) -> str | None:
    item = client.get_item(TableName="t", Key={"PK": _s(f"PRODUCT#{n:02d}"), "SK": _s("PRODUCT")}).get("Item")
    return item and item["stock"]["N"]


def test_a_failed_transaction_leaves_every_item_as_it_was(ddb):
    emulator.fast_transactions()
    _fill(ddb)
    items = [
        {"Update": {"TableName": "t", "Key": {"PK": _s("PRODUCT#01"), "SK": _s("PRODUCT")},
                    "UpdateExpression": "SET stock = stock - :q", "ConditionExpression": "stock >= :q",
                    "ExpressionAttributeValues": {":q": {"N": "1"}}}},
        {"Put": {"TableName": "t", "Item": {"PK": _s("USER#9"), "SK": _s("ORDER#1")},
                 "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Delete": {"TableName": "t", "Key": {"PK": _s("USER#1"), "SK": _s("CART#p01")}}},
        {"Update": {"TableName": "t", "Key": {"PK": _s("PRODUCT#02"), "SK": _s("PRODUCT")},
                    "UpdateExpression": "SET stock = stock - :q", "ConditionExpression": "stock >= :q",
                    "ExpressionAttributeValues": {":q": {"N": "9"}}}},  # only 5 left: the transaction fails
    ]  # fmt: skip
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as info:
        ddb.transact_write_items(TransactItems=items)
    reasons = [r["Code"] for r in info.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _stock(ddb, 1) == "5" and _stock(ddb, 2) == "5"
    assert "Item" not in ddb.get_item(TableName="t", Key={"PK": _s("USER#9"), "SK": _s("ORDER#1")})
    assert "Item" in ddb.get_item(TableName="t", Key={"PK": _s("USER#1"), "SK": _s("CART#p01")})
    assert ddb.query(TableName="t", KeyConditionExpression="PK = :p",
                     ExpressionAttributeValues={":p": _s("USER#9")})["Items"] == []  # fmt: skip

    items[3]["Update"]["ExpressionAttributeValues"][":q"] = {"N": "2"}
    ddb.transact_write_items(TransactItems=items)
    assert _stock(ddb, 1) == "4" and _stock(ddb, 2) == "3"
    assert "Item" in ddb.get_item(TableName="t", Key={"PK": _s("USER#9"), "SK": _s("ORDER#1")})
    assert "Item" not in ddb.get_item(TableName="t", Key={"PK": _s("USER#1"), "SK": _s("CART#p01")})


def test_user_lookup_by_email_follows_the_pool(monkeypatch):
    for k, v in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    emulator.fast_user_lookup()
    with moto.mock_aws():
        idp = boto3.client("cognito-idp")
        pool = idp.create_user_pool(PoolName="p", UsernameAttributes=["email"])["UserPool"]["Id"]
        app = idp.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                          ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]  # fmt: skip
        for n in range(3):
            idp.sign_up(ClientId=app, Username=f"u{n}@example.com", Password="Passw0rd-x!")
            idp.admin_confirm_sign_up(UserPoolId=pool, Username=f"u{n}@example.com")

        def login(email):
            return idp.initiate_auth(ClientId=app, AuthFlow="USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": email, "PASSWORD": "Passw0rd-x!"})  # fmt: skip

        sub = idp.admin_get_user(UserPoolId=pool, Username="u1@example.com")["Username"]
        assert login("u1@example.com")["AuthenticationResult"]["AccessToken"]
        with pytest.raises(idp.exceptions.UsernameExistsException):
            idp.sign_up(ClientId=app, Username="u1@example.com", Password="Passw0rd-x!")
        idp.admin_update_user_attributes(UserPoolId=pool, Username=sub,
                                         UserAttributes=[{"Name": "email", "Value": "new@example.com"}])  # fmt: skip
        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.admin_get_user(UserPoolId=pool, Username="u1@example.com")
        assert idp.admin_get_user(UserPoolId=pool, Username="new@example.com")["Username"] == sub
        idp.admin_delete_user(UserPoolId=pool, Username="new@example.com")
        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.admin_get_user(UserPoolId=pool, Username="new@example.com")


def test_the_emulator_server_keeps_connections_open_and_reads_whole_bodies():
    seen = []

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"], body))
        start_response("200 OK", [("Content-Type", "application/json"), ("Connection", "close")])
        return [json.dumps({"n": len(seen)}).encode()]

    server = emulator_server.make_server(0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        conn.request("POST", "/a%20b?x=1", body=b"hello")
        first = conn.getresponse()
        assert first.status == 200 and json.loads(first.read()) == {"n": 1}
        sock = conn.sock
        conn.putrequest("PUT", "/chunked")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n")
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read()) == {"n": 2}
        conn.request("HEAD", "/h")
        third = conn.getresponse()
        assert third.status == 200 and third.read() == b""
        assert conn.sock is sock  # one connection for all three
        assert seen == [("POST", "/a b", "x=1", b"hello"), ("PUT", "/chunked", "", b"abcde"), ("HEAD", "/h", "", b"")]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(os.name != "posix", reason="process emulator")
def test_dispatch_listing_is_cached():
    emulator.fast_dispatch()
    from moto import backends

    assert "dynamodb" in backends.list_of_moto_modules()
    assert list(backends.list_of_moto_modules()) == list(backends.list_of_moto_modules())
