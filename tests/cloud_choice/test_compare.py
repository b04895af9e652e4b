"""`make compare`: the cost and capacity model (bench/compare.py) and its report docs/clouds.md."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from bench import compare
from bench.compare import DbCall, Measured, Prices


def res(typ: str, name: str = "r", **inputs) -> SimpleNamespace:
    return SimpleNamespace(type=typ, name=name, inputs=inputs, parent_type="shop:components:Network")


def hand_prices(**clouds) -> Prices:
    return Prices(
        {
            "hours_per_month": 10,
            "clouds": {c: {"region": "x", "prices": {k: {"usd": v} for k, v in p.items()}} for c, p in clouds.items()},
            "assumptions": {"db_call_ms": {"value": 4}, "run_billed_ms_min": {"value": 100}},
            "limits": {},
        }
    )


SMALL = Measured(
    mix={"browse": 4, "product": 2, "add_to_cart": 2, "checkout": 2},
    db_calls={
        "browse": [DbCall("Query", 3, read_kb=1)],
        "product": [DbCall("GetItem", 1, read_kb=1)],
        "add_to_cart": [DbCall("PutItem", items_written=1, write_kb=1)],
        "checkout": [DbCall("Query", 1, read_kb=1), DbCall("TransactWriteItems", items_written=2, write_kb=3)],
    },
    handler_us={"browse": 1000, "product": 1000, "add_to_cart": 1000, "checkout": 2000},
    page_files=2,
    page_bytes=500_000,
)


def test_only_the_storefronts_uploads_count_as_site_files():
    def obj(parent: str) -> SimpleNamespace:
        return SimpleNamespace(type="aws:s3/bucketObjectv2:BucketObjectv2", name="o", inputs={}, parent_type=parent)

    counts = compare.per_component(
        [obj("shop:components:StaticSite"), obj("shop:components:Api"), res("aws:ec2/vpc:Vpc")]
    )
    assert counts == {"site files": 1, "Api": 1, "Network": 1}, f"the API's truststore is no site file: {counts}"


def test_fixed_cost_of_a_small_aws_stack_by_hand():
    prices = hand_prices(
        aws={"nat_gateway_hour": 0.1, "public_ipv4_hour": 0.01, "waf_web_acl_month": 5, "waf_rule_month": 1,
             "kms_key_month": 1, "cloudwatch_alarm_month": 0.1, "cloudwatch_dashboard_month": 3}
    )  # fmt: skip
    stack = [
        res("aws:ec2/natGateway:NatGateway", "nat-0"),
        res("aws:ec2/eip:Eip", "nat-0"),
        res("aws:wafv2/webAcl:WebAcl", "cdn", rules=[{}, {}, {}]),
        res("aws:kms/key:Key", "key"),
        *[res("aws:cloudwatch/metricAlarm:MetricAlarm", f"a{i}") for i in range(5)],
        res("aws:lambda/function:Function", "fn", memorySize=512),  # per use: not a fixed cost
    ]
    lines = compare.fixed_costs("aws", stack, prices)
    # 10 h x 0.1 + 10 h x 0.01 + 5 + 3 rules x 1 + 1 + 5 alarms x 0.1 = 1 + 0.1 + 5 + 3 + 1 + 0.5
    assert compare.total(lines) == pytest.approx(10.6)
    assert [line.unit for line in lines] == [
        "nat_gateway_hour", "public_ipv4_hour", "waf_web_acl_month", "waf_rule_month", "kms_key_month",
        "cloudwatch_alarm_month",
    ]  # fmt: skip


def test_variable_cost_of_a_small_mix_on_aws_by_hand():
    prices = hand_prices(
        aws={"cloudfront_10k_https": 1, "cloudfront_gb_out": 1, "waf_million_requests": 1, "http_api_million_requests": 1,
             "lambda_million_requests": 1, "lambda_arm_gb_second": 1, "dynamodb_million_rru": 1,
             "dynamodb_million_wru": 1, "sns_million_publishes": 1, "sqs_million_requests": 1, "ses_1k_emails": 1}
    )  # fmt: skip
    stack = [res("aws:lambda/function:Function", "fn", memorySize=1024)]
    lines = {line.unit: line for line in compare.variable_per_1000("aws", stack, SMALL, prices)}
    # per order: browse 2, product 1, add_to_cart 1, checkout 1 -> 5 API requests; 1,000 orders:
    assert lines["http_api_million_requests"].quantity == 5000
    assert lines["lambda_million_requests"].quantity == 6000  # + the notifications consumer
    assert lines["cloudfront_10k_https"].quantity == 5000 + 2 * 1000  # + 2 page files per order
    assert lines["cloudfront_gb_out"].quantity == pytest.approx(0.5)  # 500 kB x 1,000
    # read units: browse 2 x 1 + product 1 x 1 + checkout 1 x 1 = 4 per order
    assert lines["dynamodb_million_rru"].quantity == 4000
    # write units: add_to_cart 1 x 1 + checkout transaction 2 x 3 = 7 per order
    assert lines["dynamodb_million_wru"].quantity == 7000
    # function time: 1 ms handler + 4 ms per call; browse 5, product 5, add 5, checkout 2 + 8 = 10 ms; at 1 GB:
    # (2 x 5 + 5 + 5 + 10) ms = 30 ms per order -> 30 GB-s per 1,000 orders
    assert lines["lambda_arm_gb_second"].quantity == pytest.approx(30)
    assert lines["ses_1k_emails"].usd == 1


def test_gcp_bills_at_least_100_ms_per_request_and_documents_not_requests():
    prices = hand_prices(
        gcp={k: 1 for k in ("cdn_10k_lookups", "cdn_gb_out", "cloud_armor_million_requests", "api_gateway_million_calls",
                            "run_million_requests", "run_vcpu_second", "run_gib_second", "firestore_100k_reads",
                            "firestore_100k_writes")}
    )  # fmt: skip
    fn = res(
        "gcp:cloudfunctionsv2/function:Function", "fn", serviceConfig={"availableMemory": "512Mi", "availableCpu": "2"}
    )
    lines = {line.unit: line for line in compare.variable_per_1000("gcp", [fn], SMALL, prices)}
    assert lines["run_vcpu_second"].quantity == pytest.approx(5 * 0.1 * 1000 * 2)  # 5 requests x 100 ms x 2 vCPU
    assert lines["run_gib_second"].quantity == pytest.approx(5 * 0.1 * 1000 * 0.5)
    assert lines["firestore_100k_reads"].quantity == (2 * 3 + 1 + 1) * 1000  # documents returned, not calls
    assert lines["firestore_100k_writes"].quantity == (1 + 2) * 1000


def test_the_throttle_below_the_target_rate_is_reported():
    stack = [
        res("aws:lambda/function:Function", "fn", memorySize=512),
        res(
            "aws:apigatewayv2/stage:Stage",
            "s",
            defaultRouteSettings={"throttlingRateLimit": 100, "throttlingBurstLimit": 200},
        ),
        res("aws:wafv2/webAcl:WebAcl", "cdn", rules=[]),
    ]
    prices = hand_prices(aws={})
    prices.data["limits"].update(
        {
            k: {"value": 1}
            for k in (
                "aws_lambda_account_concurrency",
                "aws_http_api_account_rps",
                "aws_dynamodb_on_demand_table_units",
            )
        }
    )
    cap = compare.capacity("aws", stack, SMALL, prices)
    # 1,000 shoppers / 3 s x 4/10 of requests = 133 browses/s > 100/s
    assert any("per-route throttle (100/s) is below the browse rate at the target (133/s)" in n for n in cap.notes)
    stack[1].inputs["defaultRouteSettings"]["throttlingRateLimit"] = 500
    assert not any("throttle" in n for n in compare.capacity("aws", stack, SMALL, prices).notes)


def test_the_mix_is_the_load_tests_and_the_calls_are_the_benchmarks():
    assert compare.shopper_mix() == {"browse": 6, "product": 2, "add_to_cart": 3, "checkout": 1}
    from bench.__main__ import round_trips

    rows = {row[0]: row[3].split(", ") for row in round_trips()}
    measured = compare.measured_db_calls()
    for op, row in compare.OPERATIONS.items():
        assert [c.name for c in measured[row]] == rows[row], op
    assert measured[compare.OPERATIONS["checkout"]][-1].items_written >= 4, "order + 3 stock updates at least"


def test_every_price_names_its_source_unit_and_region():
    data = json.loads(compare.PRICES.read_text())
    for cloud, c in data["clouds"].items():
        assert c["region"], cloud
        for key, p in c["prices"].items():
            assert p["source"].startswith("https://") and p["unit"] and p["usd"] > 0, (cloud, key)
    for key, limit in data["limits"].items():
        assert limit["source"].startswith("https://"), key
    for key, a in data["assumptions"].items():
        assert a["why"], key


def test_docs_clouds_md_is_what_make_compare_writes(stacks):
    built = {(c, s): stacks(c, s).resources for c in compare.CLOUDS for s in compare.STACKS}
    fresh = compare.render(built, compare.measure(), compare.Prices.load())
    assert compare.REPORT.read_text() == fresh, "docs/clouds.md is stale: run `make compare`"
