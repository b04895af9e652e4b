"""`make compare`: the three clouds side by side, from the program's own resource graphs.

Builds the dev and prod stacks of each cloud under the infrastructure tests' Pulumi mocks,
prices what they create with the list prices of bench/prices.json, and writes
docs/clouds.md. Figures the project measures come from the benchmark code and report:
database calls per operation and the items each call reads or writes from
``bench.__main__.round_trips`` (run on moto), handler time per request from
docs/benchmarks.md, the shopper mix from bench/locustfile.py, page weight from site/.
"""

from __future__ import annotations

import ast
import json
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
PRICES = ROOT / "bench" / "prices.json"
REPORT = ROOT / "docs" / "clouds.md"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
CLOUDS = ("aws", "azure", "gcp")
STACKS = ("dev", "prod")
ORDER_VOLUMES = (10_000, 100_000, 1_000_000)
TARGET_SHOPPERS = 1000
THINK_SECONDS = {"1-5 s think time": 3.0, "10-30 s think time": 20.0}  # means of the bench's two scenarios

# The shopper's locust tasks and the round_trips() row that measures each.
OPERATIONS = {
    "browse": "browse: GET /api/products?category=",
    "product": "product: GET /api/products/{id}",
    "add_to_cart": "cart change: PUT /api/cart/items/{id} (returns the cart)",
    "checkout": "checkout of 3 line(s): POST /api/orders",  # 3 cart changes per order in the mix
}
READ_CALLS = {"Query", "GetItem", "BatchGetItem", "TransactGetItems", "Scan"}
WRITE_CALLS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class ResourceLike(Protocol):
    type: str
    name: str
    inputs: dict[str, Any]
    parent_type: str | None


# -- measured inputs -------------------------------------------------------------------------


def shopper_mix(locustfile: Path = LOCUSTFILE) -> dict[str, int]:
    """Task weights of the load test's shopper (@task(n) per method), read from its source."""
    mix: dict[str, int] = {}
    for node in ast.walk(ast.parse(locustfile.read_text())):
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and getattr(dec.func, "id", "") == "task":
                    mix[node.name] = int(ast.literal_eval(dec.args[0])) if dec.args else 1
    return mix


def handler_microseconds(report: Path = BENCHMARKS) -> dict[str, float]:
    """Median in-process handler time per route for this shop (docs/benchmarks.md section 2)."""
    found: dict[str, float] = {}
    for line in report.read_text().splitlines():
        m = re.match(r"\| (GET|POST) (\S+) \| this shop [^|]*\| (\d+(?:\.\d+)?) \|", line)
        if m:
            found[f"{m[1]} {m[2]}"] = float(m[3])
    if not found:
        raise ValueError(f"{report}: no 'this shop' rows in the per-request table")
    return found


@dataclass(frozen=True)
class DbCall:
    name: str
    items_read: int = 0
    items_written: int = 0
    read_kb: int = 0  # sum over items of ceil(size / 4 KB)
    write_kb: int = 0  # sum over items of ceil(size / 1 KB)


def _item_bytes(item: Mapping[str, Any]) -> int:
    """Approximate DynamoDB item size: attribute names plus their JSON-typed values."""
    return len(json.dumps(item, separators=(",", ":")))


def _measure(name: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> DbCall:
    if name in ("Query", "Scan"):
        items = response.get("Items", [])
        return DbCall(name, max(1, len(items)), read_kb=max(1, math.ceil(sum(map(_item_bytes, items)) / 4096)))
    if name == "GetItem":
        item = response.get("Item") or {}
        return DbCall(name, 1, read_kb=max(1, math.ceil(_item_bytes(item) / 4096)))
    if name == "BatchGetItem":
        items = [i for table in response.get("Responses", {}).values() for i in table]
        return DbCall(name, len(items), read_kb=sum(max(1, math.ceil(_item_bytes(i) / 4096)) for i in items))
    if name == "PutItem":
        return DbCall(name, items_written=1, write_kb=math.ceil(_item_bytes(params["Item"]) / 1024))
    if name == "TransactWriteItems":
        written = [next(iter(t.values())) for t in params["TransactItems"]]
        sizes = [_item_bytes(w.get("Item") or w.get("Key") or {}) for w in written]
        return DbCall(name, items_written=len(written), write_kb=sum(max(1, math.ceil(s / 1024)) for s in sizes))
    return DbCall(name, items_written=1 if name in WRITE_CALLS else 0, write_kb=1 if name in WRITE_CALLS else 0)


def measured_db_calls() -> dict[str, list[DbCall]]:
    """Run the benchmark's round_trips() on moto, recording what each database call read and wrote."""
    from botocore.client import BaseClient

    from bench.__main__ import round_trips

    recorded: list[DbCall] = []
    original = BaseClient._make_api_call

    def record(self: Any, name: str, params: dict) -> Any:
        response = original(self, name, params)
        if name in READ_CALLS | WRITE_CALLS:
            recorded.append(_measure(name, params, response))
        return response

    BaseClient._make_api_call = record  # type: ignore[method-assign]
    try:
        rows = round_trips()
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
    return _split_by_row(rows, recorded)


def _split_by_row(rows: Sequence[tuple], recorded: list[DbCall]) -> dict[str, list[DbCall]]:
    """round_trips() rows name their calls in order; the recorded calls end with them."""
    by_row: dict[str, list[DbCall]] = {}
    names = [c.name for c in recorded]
    cursor = len(recorded)
    for row in reversed(rows):
        label, expected = row[0], [n.strip() for n in row[3].split(",") if n.strip()]
        start = _rfind(names[:cursor], expected)
        by_row[label] = recorded[start : start + len(expected)]
        cursor = start
    return by_row


def _rfind(names: list[str], seq: list[str]) -> int:
    for start in range(len(names) - len(seq), -1, -1):
        if names[start : start + len(seq)] == seq:
            return start
    raise ValueError(f"calls {seq} not found among the recorded calls")


def site_weight(site: Path = ROOT / "site") -> tuple[int, int]:
    """(files, bytes) a first page view loads at most: the storefront's HTML, CSS and JS, uncompressed."""
    files = [p for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".css", ".js")]
    return len(files), sum(p.stat().st_size for p in files)


@dataclass(frozen=True)
class Measured:
    mix: Mapping[str, int]
    db_calls: Mapping[str, Sequence[DbCall]]  # per OPERATIONS key
    handler_us: Mapping[str, float]  # per operation
    page_files: int
    page_bytes: int
    emails_per_order: int = 1

    @property
    def requests_per_order(self) -> int:
        return sum(self.mix[op] for op in OPERATIONS) // self.mix["checkout"]

    def per_order(self, op: str) -> float:
        return self.mix[op] / self.mix["checkout"]


def measure() -> Measured:
    calls = measured_db_calls()
    handler = handler_microseconds()
    route_of = {"browse": "GET /api/products", "product": "GET /api/products", "add_to_cart": "POST /api/orders"}
    files, size = site_weight()
    mix = shopper_mix()
    lines = mix["add_to_cart"] // mix["checkout"]
    if OPERATIONS["checkout"] != f"checkout of {lines} line(s): POST /api/orders":
        raise ValueError(f"the mix checks out {lines}-line carts: measure that checkout in OPERATIONS")
    return Measured(
        mix=mix,
        db_calls={op: calls[row] for op, row in OPERATIONS.items()},
        handler_us={op: handler[route_of.get(op, "POST /api/orders")] for op in OPERATIONS},
        page_files=files,
        page_bytes=size,
    )


# -- prices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    data: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path = PRICES) -> Prices:
        return cls(json.loads(path.read_text()))

    def __call__(self, cloud: str, key: str) -> float:
        return float(self.data["clouds"][cloud]["prices"][key]["usd"])

    def assumption(self, key: str) -> float:
        return float(self.data["assumptions"][key]["value"])

    def limit(self, key: str) -> float:
        return float(self.data["limits"][key]["value"])

    @property
    def hours(self) -> float:
        return float(self.data["hours_per_month"])


@dataclass(frozen=True)
class Line:
    item: str
    quantity: float
    unit: str  # the price key
    usd: float


# -- fixed monthly cost at zero traffic ------------------------------------------------------


def _count(resources: Iterable[ResourceLike], typ: str) -> list[ResourceLike]:
    """Resources of one type by name: the program registers some in a varying order."""
    return sorted((r for r in resources if r.type == typ), key=lambda r: r.name)


def _mem_gib(value: str) -> float:
    m = re.fullmatch(r"(\d+)(Mi|Gi|M|G)", value)
    if not m:
        raise ValueError(f"unknown memory size {value!r}")
    return int(m[1]) / (1024 if m[2].startswith("M") else 1)


def fixed_aws(rs: Sequence[ResourceLike], price: Callable[[str], float], hours: float) -> list[Line]:
    lines = []
    for r in _count(rs, "aws:ec2/natGateway:NatGateway"):
        lines.append(Line(f"NAT gateway {r.name}", hours, "nat_gateway_hour", hours * price("nat_gateway_hour")))
    for r in _count(rs, "aws:ec2/eip:Eip"):
        lines.append(Line(f"Elastic IP {r.name}", hours, "public_ipv4_hour", hours * price("public_ipv4_hour")))
    for r in _count(rs, "aws:wafv2/webAcl:WebAcl"):
        rules = len(r.inputs.get("rules") or [])
        lines.append(Line(f"WAF web ACL {r.name}", 1, "waf_web_acl_month", price("waf_web_acl_month")))
        lines.append(Line(f"WAF rules of {r.name}", rules, "waf_rule_month", rules * price("waf_rule_month")))
    for r in _count(rs, "aws:kms/key:Key"):
        lines.append(Line(f"KMS key {r.name}", 1, "kms_key_month", price("kms_key_month")))
    alarms = len(_count(rs, "aws:cloudwatch/metricAlarm:MetricAlarm"))
    lines.append(Line("CloudWatch alarms", alarms, "cloudwatch_alarm_month", alarms * price("cloudwatch_alarm_month")))
    for r in _count(rs, "aws:cloudwatch/dashboard:Dashboard"):
        lines.append(Line(f"dashboard {r.name}", 1, "cloudwatch_dashboard_month", price("cloudwatch_dashboard_month")))
    return lines


def fixed_azure(rs: Sequence[ResourceLike], price: Callable[[str], float], hours: float) -> list[Line]:
    lines = []
    for r in _count(rs, "azure-native:cdn:Profile"):
        key = "front_door_premium_month" if "Premium" in r.inputs["sku"]["name"] else "front_door_standard_month"
        lines.append(Line(f"Front Door {r.inputs['sku']['name']} {r.name}", 1, key, price(key)))
    for r in _count(rs, "azure-native:network:NatGateway"):
        lines.append(Line(f"NAT gateway {r.name}", hours, "nat_gateway_hour", hours * price("nat_gateway_hour")))
    for r in _count(rs, "azure-native:network:PublicIPAddress"):
        lines.append(Line(f"public IP {r.name}", hours, "public_ip_hour", hours * price("public_ip_hour")))
    for r in _count(rs, "azure-native:servicebus:Namespace"):
        sku = r.inputs["sku"]["name"]
        if sku not in ("Standard", "Premium"):
            raise ValueError(f"no price for Service Bus {sku}")
        key = f"service_bus_{sku.lower()}_hour"
        lines.append(Line(f"Service Bus {sku} {r.name}", hours, key, hours * price(key)))
    for r in _count(rs, "azure-native:network:PrivateEndpoint"):
        cost = hours * price("private_endpoint_hour")
        lines.append(Line(f"private endpoint {r.name}", hours, "private_endpoint_hour", cost))
    for r in _count(rs, "azure-native:privatedns:PrivateZone"):
        lines.append(Line(f"private DNS zone {r.name}", 1, "private_dns_zone_month", price("private_dns_zone_month")))
    for r in _count(rs, "azure-native:notificationhubs:Namespace"):
        sku = r.inputs["sku"]["name"]
        if sku != "Free":
            key = f"notification_hubs_{sku.lower()}_month"
            lines.append(Line(f"Notification Hubs {sku} {r.name}", 1, key, price(key)))
    alerts = len(_count(rs, "azure-native:monitor:MetricAlert"))
    lines.append(Line("metric alerts", alerts, "metric_alert_month", alerts * price("metric_alert_month")))
    return lines


def fixed_gcp(rs: Sequence[ResourceLike], price: Callable[[str], float], hours: float) -> list[Line]:
    lines = []
    rules = len(_count(rs, "gcp:compute/globalForwardingRule:GlobalForwardingRule"))
    if rules > 5:
        raise ValueError("more than 5 forwarding rules: add the per-rule price beyond five")
    if rules:
        cost = hours * price("forwarding_rules_first5_hour")
        lines.append(Line(f"load balancer forwarding rules ({rules})", hours, "forwarding_rules_first5_hour", cost))
    for r in _count(rs, "gcp:compute/securityPolicy:SecurityPolicy"):
        n = len(r.inputs.get("rules") or [])
        lines.append(
            Line(f"Cloud Armor policy {r.name}", 1, "cloud_armor_policy_month", price("cloud_armor_policy_month"))
        )
        lines.append(
            Line(f"Cloud Armor rules of {r.name}", n, "cloud_armor_rule_month", n * price("cloud_armor_rule_month"))
        )
    connector_vms = 0
    for r in _count(rs, "gcp:vpcaccess/connector:Connector"):
        n, machine = int(r.inputs["minInstances"]), r.inputs["machineType"]
        key = f"{machine.replace('-', '_')}_hour"
        connector_vms += n
        lines.append(Line(f"VPC connector {r.name}: {n} x {machine}", n * hours, key, n * hours * price(key)))
    if _count(rs, "gcp:compute/routerNat:RouterNat") and connector_vms:
        cost = connector_vms * hours * price("cloud_nat_vm_hour")
        lines.append(
            Line(f"Cloud NAT for {connector_vms} connector VMs", connector_vms * hours, "cloud_nat_vm_hour", cost)
        )
    for r in _count(rs, "gcp:compute/address:Address"):
        lines.append(Line(f"static IP {r.name}", hours, "static_ip_hour", hours * price("static_ip_hour")))
    for r in _count(rs, "gcp:kms/cryptoKey:CryptoKey"):
        lines.append(Line(f"KMS key {r.name}", 1, "kms_key_version_month", price("kms_key_version_month")))
    secrets = len(_count(rs, "gcp:secretmanager/secret:Secret"))
    lines.append(Line("secrets", secrets, "secret_version_month", secrets * price("secret_version_month")))
    seconds = hours * 3600
    for r in _count(rs, "gcp:cloudfunctionsv2/function:Function"):
        svc = r.inputs["serviceConfig"]
        warm = int(svc.get("minInstanceCount") or 0)
        if warm:
            cpu, gib = float(svc.get("availableCpu") or 1), _mem_gib(svc["availableMemory"])
            per_second = cpu * price("run_idle_vcpu_second") + gib * price("run_gib_second")
            cost = warm * seconds * per_second
            lines.append(
                Line(f"warm instance of {r.name} ({cpu:g} vCPU, {gib:g} GiB)", warm, "run_idle_vcpu_second", cost)
            )
    return lines


FIXED = {"aws": fixed_aws, "azure": fixed_azure, "gcp": fixed_gcp}


def fixed_costs(cloud: str, resources: Sequence[ResourceLike], prices: Prices) -> list[Line]:
    return FIXED[cloud](resources, lambda key: prices(cloud, key), prices.hours)


# -- variable cost per 1,000 orders ----------------------------------------------------------


def function_ms(m: Measured, op: str, db_call_ms: float) -> float:
    """Time a function runs for one request: measured handler time + its database calls."""
    return m.handler_us[op] / 1000 + len(m.db_calls[op]) * db_call_ms


def _per_order(m: Measured, fn: Callable[[str], float]) -> float:
    return sum(m.per_order(op) * fn(op) for op in OPERATIONS)


def _function_memory_gb(cloud: str, resources: Sequence[ResourceLike]) -> float:
    if cloud == "aws":
        return float(_count(resources, "aws:lambda/function:Function")[0].inputs["memorySize"]) / 1024
    if cloud == "azure":
        app = _count(resources, "azure-native:web:WebApp")[0]
        return float(app.inputs["functionAppConfig"]["scaleAndConcurrency"]["instanceMemoryMB"]) / 1024
    fn = _count(resources, "gcp:cloudfunctionsv2/function:Function")[0]
    return _mem_gib(fn.inputs["serviceConfig"]["availableMemory"])


def variable_per_1000(cloud: str, resources: Sequence[ResourceLike], m: Measured, prices: Prices) -> list[Line]:
    """Cost lines for 1,000 orders of the stated shopper mix on this stack."""
    p = lambda key: prices(cloud, key)  # noqa: E731
    k = 1000
    api = m.requests_per_order * k
    invocations = api + k  # + the notifications consumer, once per order
    gb = _function_memory_gb(cloud, resources)
    page_gb = m.page_bytes * k / 1e9
    db_ms = prices.assumption("db_call_ms")
    reads = k * _per_order(m, lambda op: sum(c.items_read for c in m.db_calls[op]))
    writes = k * _per_order(m, lambda op: sum(c.items_written for c in m.db_calls[op]))
    lines: list[Line] = []
    if cloud == "aws":
        rru = k * _per_order(m, lambda op: sum(c.read_kb for c in m.db_calls[op]))
        wru = k * _per_order(
            m, lambda op: sum(c.write_kb * (2 if c.name.startswith("Transact") else 1) for c in m.db_calls[op])
        )
        gb_s = k * _per_order(m, lambda op: math.ceil(function_ms(m, op, db_ms)) / 1000 * gb)
        cdn_requests = api + m.page_files * k
        lines += [
            Line("CloudFront HTTPS requests (API + page files)", cdn_requests, "cloudfront_10k_https",
                 cdn_requests / 1e4 * p("cloudfront_10k_https")),
            Line("CloudFront data out (page weight)", page_gb, "cloudfront_gb_out", page_gb * p("cloudfront_gb_out")),
            Line("WAF requests inspected", cdn_requests, "waf_million_requests", cdn_requests / 1e6 * p("waf_million_requests")),
            Line("HTTP API requests", api, "http_api_million_requests", api / 1e6 * p("http_api_million_requests")),
            Line("Lambda invocations", invocations, "lambda_million_requests", invocations / 1e6 * p("lambda_million_requests")),
            Line(f"Lambda GB-seconds ({gb:g} GB, 1 ms billing)", gb_s, "lambda_arm_gb_second", gb_s * p("lambda_arm_gb_second")),
            Line("DynamoDB read request units", rru, "dynamodb_million_rru", rru / 1e6 * p("dynamodb_million_rru")),
            Line("DynamoDB write request units", wru, "dynamodb_million_wru", wru / 1e6 * p("dynamodb_million_wru")),
            Line("SNS publishes", k, "sns_million_publishes", k / 1e6 * p("sns_million_publishes")),
            Line("SQS requests (receive + delete)", 2 * k, "sqs_million_requests", 2 * k / 1e6 * p("sqs_million_requests")),
            Line("SES e-mails", m.emails_per_order * k, "ses_1k_emails", m.emails_per_order * p("ses_1k_emails")),
        ]  # fmt: skip
    elif cloud == "azure":
        query_ru, write_ru = prices.assumption("cosmos_query_ru"), prices.assumption("cosmos_write_ru_per_kb")
        ru = k * _per_order(
            m,
            lambda op: sum(
                (query_ru if c.name == "Query" else c.items_read) + c.write_kb * write_ru for c in m.db_calls[op]
            ),
        )
        billed = prices.assumption("flex_billed_ms_min")
        gb_s = k * _per_order(m, lambda op: max(billed, function_ms(m, op, db_ms)) / 1000 * gb)
        lines += [
            Line("API Management calls", api, "apim_consumption_million_calls", api / 1e6 * p("apim_consumption_million_calls")),
            Line("Flex Consumption executions", invocations, "flex_million_executions", invocations / 1e6 * p("flex_million_executions")),
            Line(f"Flex Consumption GB-seconds ({gb:g} GB)", gb_s, "flex_gb_second", gb_s * p("flex_gb_second")),
            Line("Cosmos DB request units", ru, "cosmos_serverless_million_ru", ru / 1e6 * p("cosmos_serverless_million_ru")),
            Line("Communication Services e-mails", m.emails_per_order * k, "acs_email", m.emails_per_order * k * p("acs_email")),
        ]  # fmt: skip
    else:
        billed = prices.assumption("run_billed_ms_min")
        seconds = k * _per_order(m, lambda op: max(billed, function_ms(m, op, db_ms)) / 1000)
        fn = _count(resources, "gcp:cloudfunctionsv2/function:Function")[0].inputs["serviceConfig"]
        cpu = float(fn.get("availableCpu") or 1)
        lookups = m.page_files * k
        lines += [
            Line("Cloud CDN cache lookups (page files)", lookups, "cdn_10k_lookups", lookups / 1e4 * p("cdn_10k_lookups")),
            Line("Cloud CDN egress (page weight)", page_gb, "cdn_gb_out", page_gb * p("cdn_gb_out")),
            Line("Cloud Armor requests (API)", api, "cloud_armor_million_requests", api / 1e6 * p("cloud_armor_million_requests")),
            Line("API Gateway calls", api, "api_gateway_million_calls", api / 1e6 * p("api_gateway_million_calls")),
            Line("function requests", invocations, "run_million_requests", invocations / 1e6 * p("run_million_requests")),
            Line(f"function vCPU-seconds ({cpu:g} vCPU, 100 ms billing)", seconds * cpu, "run_vcpu_second", seconds * cpu * p("run_vcpu_second")),
            Line(f"function GiB-seconds ({gb:g} GiB)", seconds * gb, "run_gib_second", seconds * gb * p("run_gib_second")),
            Line("Firestore document reads", reads, "firestore_100k_reads", reads / 1e5 * p("firestore_100k_reads")),
            Line("Firestore document writes", writes, "firestore_100k_writes", writes / 1e5 * p("firestore_100k_writes")),
        ]  # fmt: skip
    return lines


def total(lines: Iterable[Line]) -> float:
    return sum(line.usd for line in lines)


# -- capacity --------------------------------------------------------------------------------


@dataclass
class Capacity:
    settings: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def target_load(m: Measured) -> dict[str, dict[str, float]]:
    """Requests per second per operation at TARGET_SHOPPERS for each think-time scenario."""
    weights = sum(m.mix[op] for op in OPERATIONS)
    return {
        label: {op: TARGET_SHOPPERS / think * m.mix[op] / weights for op in OPERATIONS}
        for label, think in THINK_SECONDS.items()
    }


def capacity(cloud: str, rs: Sequence[ResourceLike], m: Measured, prices: Prices) -> Capacity:
    cap = Capacity()
    db_ms = prices.assumption("db_call_ms")
    peak = target_load(m)["1-5 s think time"]
    rps = sum(peak.values())
    busy = sum(r * function_ms(m, op, db_ms) / 1000 for op, r in peak.items())  # concurrent executions needed
    busiest = max(peak, key=lambda op: peak[op])
    cap.notes.append(
        f"At {TARGET_SHOPPERS:,} shoppers with 1-5 s think time: {rps:.0f} requests/s, {peak[busiest]:.0f}/s on "
        f"{busiest}; {busy:.1f} functions busy at once on average (requests/s x function time)."
    )
    cap.notes.append(
        "The firewall's rate limit is per client IP: a shopper sends about 100 requests in 5 minutes at 1-5 s "
        "think time, but shoppers behind one NAT, or a load test from one machine, share one IP and are blocked."
    )
    if cloud == "aws":
        fn = _count(rs, "aws:lambda/function:Function")
        reserved = [
            int(f.inputs["reservedConcurrentExecutions"]) for f in fn if f.inputs.get("reservedConcurrentExecutions")
        ]
        stage = _count(rs, "aws:apigatewayv2/stage:Stage")[0].inputs.get("defaultRouteSettings") or {}
        waf = _count(rs, "aws:wafv2/webAcl:WebAcl")[0].inputs
        limit = next((r["statement"]["rateBasedStatement"]["limit"] for r in waf["rules"]
                      if (r.get("statement") or {}).get("rateBasedStatement")), None)  # fmt: skip
        cap.settings += [
            ("Lambda reserved concurrency per function", f"{reserved[0]}" if reserved else "none (account pool)"),
            ("Lambda account concurrency (default quota)", f"{prices.limit('aws_lambda_account_concurrency'):,.0f}"),
            ("HTTP API throttle (stage default, applied to each route)",
             f"{stage.get('throttlingRateLimit', 'none'):g}/s, burst {stage.get('throttlingBurstLimit', 'none'):g}"),
            ("HTTP API account quota", f"{prices.limit('aws_http_api_account_rps'):,.0f}/s"),
            ("DynamoDB on-demand per table (default quota)", f"{prices.limit('aws_dynamodb_on_demand_table_units'):,.0f} RRU/WRU per s"),
            ("WAF rate limit per client IP", f"{int(limit):,} requests / 5 min" if limit else "none"),
        ]  # fmt: skip
        pool = reserved[0] if reserved else prices.limit("aws_lambda_account_concurrency")
        where = "reserved for each function" if reserved else "in the account pool all functions share"
        cap.notes.append(f"Concurrency needed at that load: {busy:.1f} on average, against {pool:,.0f} {where}.")
        rate = stage.get("throttlingRateLimit")
        if rate and peak[busiest] > rate:
            cap.notes.append(
                f"The stage's per-route throttle ({rate:g}/s) is below the {busiest} rate at the target "
                f"({peak[busiest]:.0f}/s): raise `throttlingRateLimit` before a 1-5 s think-time peak, or "
                "shoppers get 429s."
            )
    elif cloud == "azure":
        app = _count(rs, "azure-native:web:WebApp")[0].inputs["functionAppConfig"]["scaleAndConcurrency"]
        cap.settings += [
            ("Flex Consumption maximum instances per app", f"{app['maximumInstanceCount']:g}"),
            ("Flex Consumption instance memory", f"{app['instanceMemoryMB']:g} MB"),
            ("Cosmos DB", "serverless (per-container RU/s ceiling; no provisioned throughput)"),
            ("API Management", "Consumption tier (no published request-rate guarantee)"),
        ]
        cap.notes.append(
            f"Executions in flight at that load: {busy:.1f} on average; each app may scale to "
            f"{app['maximumInstanceCount']:g} instances (per-instance HTTP concurrency: the platform default)."
        )
    else:
        fn = _count(rs, "gcp:cloudfunctionsv2/function:Function")[0].inputs["serviceConfig"]
        conn = _count(rs, "gcp:vpcaccess/connector:Connector")[0].inputs
        armor = _count(rs, "gcp:compute/securityPolicy:SecurityPolicy")[0].inputs["rules"]
        throttle = next((r["rateLimitOptions"]["rateLimitThreshold"] for r in armor if r["action"] == "throttle"), None)
        slots = int(fn["maxInstanceCount"]) * int(fn["maxInstanceRequestConcurrency"])
        billed = prices.assumption("run_billed_ms_min")
        in_flight = sum(r * max(billed, function_ms(m, op, db_ms)) / 1000 for op, r in peak.items())
        cap.notes.append(
            f"Requests in flight at that load, counting {billed:g} ms each: {in_flight:.0f} across the functions, "
            f"against {slots:,} per function ({in_flight / int(fn['maxInstanceRequestConcurrency']):.1f} instances "
            "in all at full concurrency)."
        )
        cap.settings += [
            ("function instances x requests per instance",
             f"{fn['maxInstanceCount']:g} x {fn['maxInstanceRequestConcurrency']:g} = {slots:,} concurrent requests"),
            ("warm instances per HTTP function", f"{fn.get('minInstanceCount') or 0:g}"),
            ("VPC connector instances", f"{conn['minInstances']:g}-{conn['maxInstances']:g} x {conn['machineType']}"),
            ("Firestore writes (soft limit)", f"{prices.limit('gcp_firestore_writes_per_second'):,.0f}/s per database"),
            ("Cloud Armor throttle per client IP",
             f"{int(throttle['count']):,} requests / {throttle['intervalSec']:g} s" if throttle else "none"),
        ]  # fmt: skip
    return cap


# -- resources -------------------------------------------------------------------------------

FILE_OBJECTS = {
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "azure-native:storage:Blob",
    "gcp:storage/bucketObject:BucketObject",
}


def per_component(resources: Sequence[ResourceLike]) -> Counter[str]:
    """Cloud resources per component (the storefront's file uploads counted apart; other objects,
    such as function packages or the mTLS truststore, stay with their component)."""
    counts: Counter[str] = Counter()
    for r in resources:
        if r.type.startswith(("shop:", "pulumi:")):
            continue
        component = (r.parent_type or "").removeprefix("shop:components:") or "(root)"
        counts["site files" if r.type in FILE_OBJECTS and component == "StaticSite" else component] += 1
    return counts


def types_per_component(resources: Sequence[ResourceLike]) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for r in resources:
        if r.type.startswith(("shop:", "pulumi:")) or r.type in FILE_OBJECTS:
            continue
        found[(r.parent_type or "").removeprefix("shop:components:") or "(root)"][r.type.split(":")[-1]] += 1
    return found


# -- report ----------------------------------------------------------------------------------


def qty(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.3g}"


def usd(x: float) -> str:
    return f"{x:,.2f}" if x >= 0.005 or x == 0 else "<0.01"


def render(built: Mapping[tuple[str, str], Sequence[ResourceLike]], m: Measured, prices: Prices) -> str:
    out: list[str] = []
    w = out.append
    keys = [(c, s) for c in CLOUDS for s in STACKS]
    fixed = {key: fixed_costs(key[0], built[key], prices) for key in keys}
    var = {key: variable_per_1000(key[0], built[key], m, prices) for key in keys}
    w("# The three clouds side by side")
    w("")
    w("Generated by `make compare` (bench/compare.py) from the dev and prod stacks the Pulumi program builds "
      "under the infrastructure tests' mocks; do not edit. Prices: bench/prices.json, public list prices "
      "in USD as known up to 2025 for one reference region per cloud (see below), **to be re-checked** "
      "on each source page before a decision. Free tiers are ignored; taxes, support plans and data "
      "stored (tiny for a shop's catalog and orders) are left out.")  # fmt: skip
    w("")
    w("## Summary")
    w("")
    w("| Stack | fixed USD/month at zero traffic | variable USD per 1,000 orders | "
      + " | ".join(f"USD/month at {n:,} orders" for n in ORDER_VOLUMES) + " |")  # fmt: skip
    w("|---|---|---|" + "---|" * len(ORDER_VOLUMES))
    for key in keys:
        f, v = total(fixed[key]), total(var[key])
        w(
            f"| {key[0]} {key[1]} | {usd(f)} | {usd(v)} | "
            + " | ".join(usd(f + v * n / 1000) for n in ORDER_VOLUMES)
            + " |"
        )
    w("")
    w("Shopper mix per order (the load test's task weights, bench/locustfile.py): "
      + ", ".join(f"{m.per_order(op):g} {op.replace('_', ' ')}" for op in OPERATIONS)
      + f" (of the {m.per_order('add_to_cart'):g}-line cart)"
        + f"; {m.requests_per_order} API requests, one storefront page load ({m.page_files} HTML/CSS/JS files, "
      f"{m.page_bytes:,} bytes uncompressed: an upper bound), {m.emails_per_order} confirmation e-mail, one "
      "order event through the topic/queue to the notifications function.")  # fmt: skip
    w("")
    _resources_section(w, built, keys)
    _fixed_section(w, fixed, keys, prices)
    _variable_section(w, var, keys, m, prices)
    _capacity_section(w, built, keys, m, prices)
    _sources_section(w, prices)
    return "\n".join(out) + "\n"


def _resources_section(w: Callable[[str], None], built: Mapping, keys: list[tuple[str, str]]) -> None:
    counts = {key: per_component(built[key]) for key in keys}
    components = [*sorted({c for cnt in counts.values() for c in cnt} - {"site files"}), "site files"]
    w("## Resources per component")
    w("")
    w("Cloud resources the program creates (component resources and providers not counted; `site files` "
      "are the storefront's uploaded files, one resource each).")  # fmt: skip
    w("")
    w("| Component | " + " | ".join(f"{c} {s}" for c, s in keys) + " |")
    w("|---|" + "---|" * len(keys))
    for comp in components:
        w(f"| {comp} | " + " | ".join(str(counts[key][comp]) for key in keys) + " |")
    w("| **total** | " + " | ".join(str(sum(counts[key].values())) for key in keys) + " |")
    w("")
    w("What each component is made of, prod stacks (resource type x count):")
    w("")
    for cloud in CLOUDS:
        w(f"- **{cloud}**")
        for comp, types in sorted(types_per_component(built[(cloud, "prod")]).items()):
            w(f"  - {comp}: " + ", ".join(f"{t} x{n}" for t, n in sorted(types.items())))
    w("")


def _fixed_section(w: Callable[[str], None], fixed: Mapping, keys: list, prices: Prices) -> None:
    w("## Fixed monthly cost at zero traffic")
    w("")
    w(f"Resource by resource, {prices.hours:g} hours a month. Everything not listed bills per use "
      "(functions, gateways, databases, queues, e-mail) or costs nothing at rest.")  # fmt: skip
    w("")
    for key in keys:
        w(f"### {key[0]} {key[1]}: {usd(total(fixed[key]))} USD/month")
        w("")
        w("| Item | quantity | price key | USD/month |")
        w("|---|---|---|---|")
        for line in fixed[key]:
            w(f"| {line.item} | {qty(line.quantity)} | `{line.unit}` | {usd(line.usd)} |")
        w("")


def _variable_section(w: Callable[[str], None], var: Mapping, keys: list, m: Measured, prices: Prices) -> None:
    w("## Variable cost per 1,000 orders")
    w("")
    w("Measured inputs, per operation of the mix: database calls and the items they read and write, from "
      "`round_trips()` of the benchmark (DynamoDB on moto, docs/benchmarks.md section 3); handler time "
      "from docs/benchmarks.md section 2 (cart changes take the checkout route's figure, the one write "
      "route measured there).")  # fmt: skip
    w("")
    w(
        "| Operation | per order | database calls | items read | items written | read units (4 KB) | write units (1 KB) | handler µs |"
    )
    w("|---|---|---|---|---|---|---|---|")
    for op in OPERATIONS:
        calls = m.db_calls[op]
        w(f"| {op.replace('_', ' ')} | {m.per_order(op):g} | {', '.join(c.name for c in calls)} | "
          f"{sum(c.items_read for c in calls)} | {sum(c.items_written for c in calls)} | "
          f"{sum(c.read_kb for c in calls)} | {sum(c.write_kb for c in calls)} | {m.handler_us[op]:g} |")  # fmt: skip
    w("")
    w("Assumptions (not measurable here; bench/prices.json `assumptions`):")
    w("")
    for key, a in prices.data["assumptions"].items():
        w(f"- `{key}` = {a['value']}: {a['why']}.")
    w("- DynamoDB reads are priced as strongly consistent (eventually consistent ones cost half); a "
      "transactional write costs two write units per item. Cosmos DB and Firestore are priced for the "
      "same logical reads and writes (their adapters implement the same store port; not measured there).")  # fmt: skip
    w("- Not priced: API response bytes (not measured), log ingestion (per GB, depends on log volume), "
      "NAT data processing (the functions' outbound calls are small; AWS reaches DynamoDB and S3 "
      "through gateway endpoints), KMS requests (the services cache data keys), identity (billed per "
      "monthly active user, not per order; free tiers: Cognito Lite/Essentials 10,000, Entra External "
      "ID 50,000, Identity Platform 50,000), GCP's e-mail relay (a third party: SendGrid or SMTP).")  # fmt: skip
    note = prices.data["clouds"]["azure"].get("not_priced")
    if note:
        w(f"- Azure: {note}")
    w("")
    for key in keys:
        w(f"### {key[0]} {key[1]}: {usd(total(var[key]))} USD per 1,000 orders")
        w("")
        w("| Item | quantity per 1,000 orders | price key | USD |")
        w("|---|---|---|---|")
        for line in var[key]:
            w(f"| {line.item} | {qty(line.quantity)} | `{line.unit}` | {usd(line.usd)} |")
        w("")


def _capacity_section(w: Callable[[str], None], built: Mapping, keys: list, m: Measured, prices: Prices) -> None:
    w(f"## Capacity and limits vs {TARGET_SHOPPERS:,} concurrent shoppers")
    w("")
    for label, rates in target_load(m).items():
        w(f"- {label} (mean {THINK_SECONDS[label]:g} s between requests): {sum(rates.values()):.0f} requests/s: "
          + ", ".join(f"{op.replace('_', ' ')} {r:.0f}/s" for op, r in rates.items()) + ".")  # fmt: skip
    w("- Function time per request (handler + database calls x `db_call_ms`): "
      + ", ".join(f"{op.replace('_', ' ')} {function_ms(m, op, prices.assumption('db_call_ms')):.1f} ms" for op in OPERATIONS)
      + ". The local stack's measured throughput on 2 shared cores is in docs/benchmarks.md section 4.")  # fmt: skip
    w("")
    for key in keys:
        cap = capacity(key[0], built[key], m, prices)
        w(f"### {key[0]} {key[1]}")
        w("")
        w("| Setting or limit | value |")
        w("|---|---|")
        for name, value in cap.settings:
            w(f"| {name} | {value} |")
        w("")
        for note in cap.notes:
            w(f"- {note}")
        w("")


def _sources_section(w: Callable[[str], None], prices: Prices) -> None:
    w("## Price sources")
    w("")
    w(prices.data["_about"])
    w("")
    for cloud in CLOUDS:
        c = prices.data["clouds"][cloud]
        w(f"- **{cloud}**, region: {c['region']}; as of {c['as_of']}: " + "; ".join(
            f"`{k}` {v['usd']:g} USD per {v['unit']} ({v['source']})" for k, v in c["prices"].items()) + ".")  # fmt: skip
    w(
        "- Limits: "
        + "; ".join(f"{v['value']:,} {v['unit']} ({v['source']})" for v in prices.data["limits"].values())
        + "."
    )


# -- entry point -----------------------------------------------------------------------------


def build_all() -> dict[tuple[str, str], Sequence[ResourceLike]]:
    """The six stacks under the infrastructure tests' mocks."""
    sys.path.insert(0, str(ROOT))
    from tests.infra.azure_mocks import AZURE_DEV, AZURE_PROD, build_azure_stack
    from tests.infra.conftest import DEV_CONFIG, PROD_CONFIG, build_stack
    from tests.infra.gcp_mocks import GCP_DEV, GCP_PROD, build_gcp_stack

    builders = {
        ("aws", "dev"): lambda: build_stack(DEV_CONFIG, "dev"),
        ("aws", "prod"): lambda: build_stack(PROD_CONFIG, "prod"),
        ("azure", "dev"): lambda: build_azure_stack(AZURE_DEV, "dev"),
        ("azure", "prod"): lambda: build_azure_stack(AZURE_PROD, "prod"),
        ("gcp", "dev"): lambda: build_gcp_stack(GCP_DEV, "dev"),
        ("gcp", "prod"): lambda: build_gcp_stack(GCP_PROD, "prod"),
    }
    return {key: build().resources for key, build in builders.items()}


def main() -> None:
    report = render(build_all(), measure(), Prices.load())
    REPORT.write_text(report)
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
