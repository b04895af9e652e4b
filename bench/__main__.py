"""`make bench`: cold start, per-request overhead, database round trips and artifact sizes.

Every figure is measured beside reference points taken in the same run (absolute times on a
shared machine drift); the report goes to docs/benchmarks.md.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from bench import lighthouse

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stats(xs: list[float]) -> tuple[float, float, float]:
    return statistics.median(xs), min(xs), max(xs)


# 1. cold start ------------------------------------------------------------------------
COLD = {
    "AWS entrypoint (functions.runtimes.aws_http)": "import functions.runtimes.aws_http",
    "Azure entrypoint (functions.runtimes.azure_http)": "import functions.runtimes.azure_http",
    "GCP entrypoint (functions.runtimes.gcp_http)": "import functions.runtimes.gcp_http",
    "AWS entrypoint + first-request imports (api, models, catalog)": "import functions.runtimes.aws_http, functions.shop.api, functions.shop.models, functions.shop.catalog",
    "reference: bare python": "pass",
    "reference: import boto3": "import boto3",
    "reference: FastAPI + Mangum hello world": "import bench.refs as r; r.fastapi_handler()",
    "reference: Powertools APIGatewayHttpResolver hello world": "import bench.refs as r; r.powertools_handler()",
}


def cold_start() -> list[tuple[str, float, float, float]]:
    rows = []
    for label, code in COLD.items():
        times = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
            times.append((time.perf_counter() - t0) * 1000)
        rows.append((label, *stats(times)))
        log(f"cold start {label}: {rows[-1][1]:.0f} ms")
    return rows


# 2. per-request overhead ----------------------------------------------------------------
def _event(method: str, path: str, body: dict | None = None, claims: dict | None = None) -> dict:
    ctx = {
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
        "requestId": "bench",
        "routeKey": f"{method} {path}",
        "stage": "$default",
    }
    if claims:
        ctx["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "idempotency-key": "k"},
        "isBase64Encoded": False,
        "body": json.dumps(body) if body is not None else None,
        "requestContext": ctx,
    }


def per_request() -> list[tuple[str, str, float, float, float]]:
    from bench.refs import fastapi_handler, powertools_handler
    from functions.adapters.memory import memory_services
    from functions.runtimes import aws_http
    from functions.shop import ports

    services = memory_services(deliver=False)
    services.store.put_category(ports.Category("books", "Books"))
    for i in range(40):
        services.store.create_product(
            ports.Product(f"p{i:02d}", f"Product {i}", "d", "books", 1000 + i, "USD", 10**9, None)
        )
    address = {
        "shippingAddress": {
            "name": "A",
            "line1": "1",
            "city": "c",
            "region": "IL",
            "postalCode": "62704",
            "country": "US",
        }
    }
    claims = {"sub": "bench-user", "cognito:groups": "[]"}
    keys = iter(range(10**9))

    def shop_products():
        return aws_http.handler(_event("GET", "/api/products"), None, services_factory=lambda: services)

    def shop_order():
        services.store.set_cart_line("bench-user", "p01", 1)
        ev = _event("POST", "/api/orders", address, claims)
        ev["headers"]["idempotency-key"] = f"k{next(keys)}"
        r = aws_http.handler(ev, None, services_factory=lambda: services)
        assert r["statusCode"] == 201, r
        return r

    fa, pt = fastapi_handler(), powertools_handler()
    cases = {
        ("GET /api/products", "this shop (AWS entrypoint, memory store)"): shop_products,
        ("GET /api/products", "reference: FastAPI + Mangum"): lambda: fa(_event("GET", "/api/products"), None),
        ("GET /api/products", "reference: Powertools resolver"): lambda: pt(_event("GET", "/api/products"), None),
        ("POST /api/orders", "this shop (validation + checkout, memory store)"): shop_order,
        ("POST /api/orders", "reference: FastAPI + Mangum (validation only)"): lambda: fa(
            _event("POST", "/api/orders", address), None
        ),
        ("POST /api/orders", "reference: Powertools resolver (no validation)"): lambda: pt(
            _event("POST", "/api/orders", address), None
        ),
    }
    rows = []
    for (route, label), fn in cases.items():
        for _ in range(50):
            fn()
        samples = []
        for _ in range(RUNS):
            n = 300
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples.append((time.perf_counter() - t0) / n * 1e6)
        rows.append((route, label, *stats(samples)))
        log(f"per request {route} {label}: {rows[-1][2]:.0f} µs")
    return rows


# 3. round trips -----------------------------------------------------------------------------
def round_trips() -> list[tuple[str, int, str]]:
    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"})
    from moto import mock_aws

    with mock_aws():
        import boto3

        from functions.adapters.dynamodb_schema import create_table_kwargs
        from functions.adapters.dynamodb_store import DynamoDBStore
        from functions.adapters.memory import MemoryIdentity, MemoryMedia, MemoryNotifier
        from functions.shop import ports
        from functions.shop.api import handle
        from functions.shop.datamodel import SHOP_TABLE
        from functions.shop.http import Request
        from functions.shop.services import Services

        client = boto3.client("dynamodb")
        client.create_table(**create_table_kwargs(SHOP_TABLE, "bench"))
        calls: list[str] = []
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        store = DynamoDBStore("bench", client=client)
        services = Services(store, MemoryNotifier(), MemoryIdentity(), MemoryMedia())
        store.put_category(ports.Category("books", "Books"))
        for i in range(5):
            store.create_product(ports.Product(f"p{i}", f"P{i}", "d", "books", 100, "USD", 100, None))
        who = ports.Principal("u1")
        addr = json.dumps(
            {
                "shippingAddress": {
                    "name": "A",
                    "line1": "1",
                    "city": "c",
                    "region": "IL",
                    "postalCode": "62704",
                    "country": "US",
                }
            }
        ).encode()
        ops = [
            ("browse: GET /api/products?category=", "1", Request("GET", "/api/products", query={"category": "books"})),
            (
                "browse by price in a range: ?category=&sort=price&minPrice=&maxPrice=",
                "1",
                Request(
                    "GET",
                    "/api/products",
                    query={"category": "books", "sort": "price", "minPrice": "50", "maxPrice": "150"},
                ),
            ),
            (
                "browse in stock, newest first: ?sort=newest&inStock=true",
                "1",
                Request("GET", "/api/products", query={"sort": "newest", "inStock": "true"}),
            ),
            (
                "browse all filters: ?category=&sort=-price&minPrice=&inStock=true",
                "1",
                Request(
                    "GET",
                    "/api/products",
                    query={"category": "books", "sort": "-price", "minPrice": "1", "inStock": "true"},
                ),
            ),
            ("product: GET /api/products/{id}", "1", Request("GET", "/api/products/p1")),
            (
                "cart change: PUT /api/cart/items/{id} (returns the cart)",
                "1 write (+ reads for the response)",
                Request("PUT", "/api/cart/items/p1", body=b'{"quantity": 2}', principal=who),
            ),
            ("cart view: GET /api/cart", "2 (cart + prices)", Request("GET", "/api/cart", principal=who)),
            (
                "guest cart merge of 3 lines: POST /api/cart/merge",
                "2 reads + 1 write per line that grows",
                Request(
                    "POST",
                    "/api/cart/merge",
                    body=json.dumps({"items": [{"productId": f"p{i}", "quantity": 1} for i in (1, 2, 3)]}).encode(),
                    principal=who,
                ),
            ),
        ]
        rows = []
        for label, bound, req in ops:
            calls.clear()
            assert handle(req, services).status < 400
            rows.append((label, len(calls), bound, ", ".join(calls)))
        for n in (1, 3, 5):
            store.clear_cart("u1")
            for i in range(n):  # through the API, as a shopper does: each line keeps its catalog snapshot
                put = Request("PUT", f"/api/cart/items/p{i}", body=b'{"quantity": 1}', principal=who)
                assert handle(put, services).status == 200
            calls.clear()
            r = handle(
                Request("POST", "/api/orders", body=addr, principal=who, headers={"idempotency-key": f"n{n}"}), services
            )
            assert r.status == 201, r.body
            rows.append(
                (f"checkout of {n} line(s): POST /api/orders", len(calls), "1 read + 1 transaction", ", ".join(calls))
            )
        for row in rows:
            log(f"round trips {row[0]}: {row[1]}")
        return rows


# 5. artifact sizes ---------------------------------------------------------------------------
def artifact_sizes() -> list[tuple[str, int]]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted((ROOT / "functions").rglob("*.py")):
            if "local" not in path.relative_to(ROOT).parts:
                z.write(path, path.relative_to(ROOT))
    rows = [("code package (functions/ without local/, zipped; same on every cloud)", len(buf.getvalue()))]
    try:
        from providers.aws.packaging import build_layer

        layer = build_layer(ROOT / "requirements" / "runtime.txt", "3.12")
        size = sum(f.stat().st_size for f in Path(layer).rglob("*") if f.is_file())
        rows.append(("AWS dependency layer (pydantic for arm64 / Python 3.12, unzipped)", size))
    except Exception as exc:  # no package index: say so instead of failing the whole report
        rows.append((f"AWS dependency layer: not built ({type(exc).__name__})", 0))
    import tempfile

    from components.specs import CodePackage

    code = CodePackage(ROOT / "functions", ("local", "tests"), ROOT / "requirements" / "runtime.txt", "3.12")
    with tempfile.TemporaryDirectory() as tmp:
        from providers.gcp.packaging import write_zip as gcp_zip

        rows.append(
            (
                "GCP source archive (main.py + requirements.txt + functions/, zipped; Cloud Build installs "
                "the requirements)",
                gcp_zip(code, Path(tmp) / "gcp.zip").stat().st_size,
            )
        )
        try:
            from providers.azure.packaging import write_zip as azure_zip

            rows.append(
                (
                    "Azure package (function_app.py + functions/ + dependencies for linux x86_64 / "
                    "Python 3.12, zipped)",
                    azure_zip(code, Path(tmp) / "azure.zip").stat().st_size,
                )
            )
        except Exception as e:  # no PyPI access: the row says so
            log(f"azure package not built: {e}")
            rows.append((f"Azure package: not built here ({type(e).__name__})", 0))
    for label, size in rows:
        log(f"artifact {label}: {size:,} bytes")
    return rows


# 4. load ------------------------------------------------------------------------------------
LOAD_USERS = int(os.environ.get("BENCH_USERS", "1000"))
LOAD_SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
# (label, think time "min,max" in seconds): the pace, then a storefront's usual pace
LOAD_SCENARIOS = (("1-5 s think time", "1,5"), ("10-30 s think time", "10,30"))


def _all_orders(base: str, session) -> list[dict]:
    out = []
    for status in ("PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"):
        cursor = None
        while True:
            params = {"status": status, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = session.get(base + "/api/admin/orders", params=params, timeout=30).json()
            out += page["items"]
            cursor = page["nextCursor"]
            if not cursor:
                break
    return out


def _all_products(base: str, session) -> dict[str, int]:
    stock, cursor = {}, None
    while True:
        page = session.get(
            base + "/api/products", params={"limit": 100, **({"cursor": cursor} if cursor else {})}, timeout=30
        ).json()
        stock.update({p["productId"]: p["stock"] for p in page["items"]})
        cursor = page["nextCursor"]
        if not cursor:
            return stock


def load(think: str) -> tuple[list[list[str]], list[str]]:
    import csv
    import tempfile

    import requests

    from functions.local.stack import LocalStack

    with LocalStack(port=0) as shop, tempfile.TemporaryDirectory() as tmp:
        admin = requests.Session()
        from tests.fakes import mfa  # admins answer the MFA challenge (enrolling on first use)

        token = mfa.sign_in(shop.base_url, shop.admin_email, shop.admin_password)["accessToken"]
        admin.headers["Authorization"] = f"Bearer {token}"
        before = _all_products(shop.base_url, admin)
        log(
            f"load: {LOAD_USERS} shoppers, think {think} s, for {LOAD_SECONDS}s against {shop.base_url} "
            "(progress every 10 s)"
        )
        cmd = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(LOAD_USERS),
            "-r",
            str(max(1, LOAD_USERS // 20)),
            "-t",
            f"{LOAD_SECONDS}s",
            "--host",
            shop.base_url,
            "--csv",
            f"{tmp}/load",
            "--only-summary",
            "--stop-timeout",
            "10",
        ]
        env = {**os.environ, "BENCH_THINK": think}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        start = time.monotonic()
        while proc.poll() is None:
            time.sleep(10)
            log(f"load: {time.monotonic() - start:.0f}s elapsed")
        with open(f"{tmp}/load_stats.csv") as f:
            rows = list(csv.DictReader(f))
        orders = _all_orders(shop.base_url, admin)
        after = _all_products(shop.base_url, admin)
    placed = next(
        (int(r["Request Count"]) - int(r["Failure Count"]) for r in rows if r["Name"] == "POST /api/orders"), 0
    )
    sold: dict[str, int] = {}
    for o in orders:
        if o["status"] != "CANCELLED":
            for li in o["items"]:
                sold[li["productId"]] = sold.get(li["productId"], 0) + li["quantity"]
    table = [
        [
            r["Name"],
            r["Request Count"],
            r["Failure Count"],
            r["50%"],
            r["95%"],
            r["99%"],
            f"{float(r['Requests/s']):.1f}",
        ]
        for r in rows
    ]
    for r in table:
        log(f"load {think}: {' | '.join(r)}")
    checks = [
        f"orders stored: {len(orders)}; 201 or 409 answers to POST /api/orders: {placed} (409s are sold-out "
        "or empty-cart answers, so stored <= answered)",
        f"products with negative stock: {sum(1 for v in after.values() if v < 0)}",
        "stock + units sold unchanged for every product: "
        + str(all(after.get(p, 0) + sold.get(p, 0) == before[p] for p in before)),
    ]
    return table, checks


# 4b. what limits the local stack: the emulator's cost per call, by table size ------------------
def emulator_cost() -> list[tuple[str, str, float]]:
    """(call, column, median ms): moto as shipped at growing table sizes, then with the local
    stack's fixes (functions/local/emulator.py) at the largest size. As shipped, moto answers
    a Query by sorting every item of the table and backs up every table a transaction names,
    so its cost grows with what the load test writes; DynamoDB's Query costs what it returns."""
    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    rows = []
    with mock_aws():
        import boto3

        from functions.adapters.dynamodb_schema import create_table_kwargs
        from functions.shop.datamodel import SHOP_TABLE

        c = boto3.client("dynamodb")
        c.create_table(**create_table_kwargs(SHOP_TABLE, "cost"))
        orders = iter(range(10**9))
        ops = {
            "Query GSI1 (browse a category, 6 results)": lambda: c.query(
                TableName="cost", IndexName="GSI1", KeyConditionExpression="GSI1PK = :p",
                ExpressionAttributeValues={":p": {"S": "CATEGORY#c0"}}, Limit=12),
            "Query by key (a cart, 1 line)": lambda: c.query(
                TableName="cost", KeyConditionExpression="PK = :p",
                ExpressionAttributeValues={":p": {"S": "USER#7"}}),
            "GetItem (a product)": lambda: c.get_item(TableName="cost", Key={"PK": {"S": "PRODUCT#1"},
                                                                               "SK": {"S": "PRODUCT"}}),
            "TransactWriteItems (an order + a stock update)": lambda: c.transact_write_items(TransactItems=[
                {"Put": {"TableName": "cost", "Item": {"PK": {"S": "USER#bench"}, "SK": {"S": f"ORDER#{next(orders)}"}},
                         "ConditionExpression": "attribute_not_exists(PK)"}},
                {"Update": {"TableName": "cost", "Key": {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "PRODUCT"}},
                            "UpdateExpression": "SET stock = stock - :q", "ConditionExpression": "stock >= :q",
                            "ExpressionAttributeValues": {":q": {"N": "1"}}}}]),
        }  # fmt: skip

        def measure(column: str) -> None:
            for label, fn in ops.items():
                times = []
                for _ in range(RUNS * 5):
                    t0 = time.perf_counter()
                    fn()
                    times.append((time.perf_counter() - t0) * 1000)
                rows.append((label, column, statistics.median(times)))
                log(f"emulator {label}, {column}: {rows[-1][2]:.2f} ms")

        n = 0
        for size in (40, 1000, 5000):
            while n < size:  # 36 products in 6 categories, then carts and orders as a load test writes
                item = ({"PK": {"S": f"PRODUCT#{n}"}, "SK": {"S": "PRODUCT"}, "GSI1PK": {"S": f"CATEGORY#c{n % 6}"},
                         "GSI1SK": {"S": f"name{n}"}, "stock": {"N": str(10**9)}} if n < 36 else
                        {"PK": {"S": f"USER#{n}"}, "SK": {"S": "CART#p1"}, "quantity": {"N": "1"}})  # fmt: skip
                c.put_item(TableName="cost", Item=item)
                n += 1
            measure(f"{size:,} items")
        from functions.local import emulator

        emulator.fast_queries()
        emulator.fast_transactions()
        measure("5,000 items, local stack")
    return rows


# 6. API fuzzing, full size ---------------------------------------------------------------
FUZZ_EXAMPLES = int(os.environ.get("BENCH_FUZZ_EXAMPLES", "100"))


def fuzz() -> tuple[int, dict[str, int], int, str]:
    """(requests, status class -> count, pytest exit code, failures summary) of the schemathesis
    suite run with FUZZ_EXAMPLES examples per operation against a fresh local stack."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        counts = Path(tmp) / "fuzz.tsv"
        env = {**os.environ, "SHOP_FUZZ_EXAMPLES": str(FUZZ_EXAMPLES), "SHOP_FUZZ_COUNT_FILE": str(counts)}
        env.pop("AWS_ENDPOINT_URL", None)
        log(f"fuzz: schemathesis, {FUZZ_EXAMPLES} examples per operation (a minute or two)")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e/test_api_fuzz.py"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        lines = counts.read_text().splitlines() if counts.exists() else []
    classes: dict[str, int] = {}
    for line in lines:
        status = line.rsplit("\t", 1)[-1]
        classes[status[0] + "xx"] = classes.get(status[0] + "xx", 0) + 1
    failed = [ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    log(f"fuzz: {len(lines)} requests, {classes}, exit {proc.returncode}")
    return len(lines), classes, proc.returncode, "; ".join(failed[:5])


def _verdict(label: str, rows: list[list[str]]) -> str:
    agg = next((r for r in rows if r[0] == "Aggregated"), None)
    if agg is None:
        return f"{label}: no requests"
    failures, p95, rps = int(agg[2]), float(agg[4]), agg[6]
    met = failures == 0 and p95 < 1000
    return f"{label}: {'met' if met else '**not met**'} (p95 {p95:.0f} ms, {failures} failures, {rps} req/s)"


def _load_section(results: list[tuple[str, list[list[str]], list[str]]]) -> list[str]:
    out = [
        f"locust, {LOAD_USERS} shoppers for {LOAD_SECONDS} s (ramp {LOAD_USERS // 20}/s) against a fresh local "
        "stack each time: the threaded local gateway + the AWS entrypoints + moto in its own process, on this "
        "machine, loopback, the load generator included. Mix per shopper: browse 6, product 2, add to cart 3, "
        "checkout 1; anonymous until the first add to cart, which signs up and signs in (bench/locustfile.py). "
        "Times in ms. Rerun: `BENCH_USERS=1000 BENCH_SECONDS=60 make bench`.",
        "",
    ]
    for label, rows, checks in results:
        out += [f"### {LOAD_USERS} shoppers, {label}", "",
                "| Route | requests | failures | p50 | p95 | p99 | req/s |", "|---|---|---|---|---|---|---|",
                *["| " + " | ".join(r) + " |" for r in rows], "", *[f"- {c}" for c in checks], ""]  # fmt: skip
    return out


_MOCK_BUILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from tests.infra import conftest as c
from tests.infra.azure_mocks import AZURE_DEV, AZURE_PROD, build_azure_stack
from tests.infra.gcp_mocks import GCP_DEV, GCP_PROD, build_gcp_stack
builds = {{
    ("aws", "dev"): lambda: c.build_stack(c.DEV_CONFIG, "dev"),
    ("aws", "prod"): lambda: c.build_stack(c.PROD_CONFIG, "prod"),
    ("azure", "dev"): lambda: build_azure_stack(AZURE_DEV, "dev"),
    ("azure", "prod"): lambda: build_azure_stack(AZURE_PROD, "prod"),
    ("gcp", "dev"): lambda: build_gcp_stack(GCP_DEV, "dev"),
    ("gcp", "prod"): lambda: build_gcp_stack(GCP_PROD, "prod"),
}}
built = builds[({cloud!r}, {stack!r})]()
print(json.dumps([len(built.resources), built.seconds]))
"""


def mock_builds() -> list[tuple[str, str, int, float, float, float]]:
    """The whole program under Pulumi's mocks, per cloud and stack, each in a fresh interpreter
    (what a `pulumi preview` costs in Python before any provider is asked)."""
    rows = []
    for cloud in ("aws", "azure", "gcp"):
        for stack in ("dev", "prod"):
            runs = []
            for _ in range(min(RUNS, 3)):  # about 5 s a build
                code = _MOCK_BUILD.format(root=str(ROOT), cloud=cloud, stack=stack)
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            m, lo, hi = stats([secs for _, secs in runs])
            rows.append((cloud, stack, runs[0][0], m, lo, hi))
            log(f"mock build {cloud}/{stack}: {runs[0][0]} resources, {m:.2f} s")
    return rows


def main() -> None:
    log(f"{os.cpu_count()} cores, {RUNS} runs per figure")
    cold, req, trips, sizes = cold_start(), per_request(), round_trips(), artifact_sizes()
    emulator = emulator_cost()
    builds = mock_builds()
    loads = [(label, *load(think)) for label, think in LOAD_SCENARIOS] if LOAD_USERS else []
    fuzz_n, fuzz_classes, fuzz_rc, fuzz_failed = fuzz() if FUZZ_EXAMPLES else (0, {}, 0, "")
    boto = next(r[1] for r in cold if r[0] == "reference: import boto3")
    emu = {(label, size): ms for label, size, ms in emulator}
    browse = "Query GSI1 (browse a category, 6 results)"
    out = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}; each figure is the median of {RUNS} runs with min-max spread. "
        "Rerun one section: `.venv/bin/python -m bench` (env `BENCH_RUNS`, `BENCH_USERS`, `BENCH_SECONDS`, "
        "`BENCH_FUZZ_EXAMPLES`).",
        "",
        "## Targets",
        "",
        "| Target (architecture) | Where it stands | Why |",
        "|---|---|---|",
        "| sub-second latency | handler work is ~0.1 ms per request (section 2); checkout is 2 database round "
        "trips (section 3); cold start 0.3x `import boto3` (section 1) | in the cloud a request is gateway + "
        "function + 1-2 DynamoDB calls; the local stack's latencies under load (section 4) are requests queueing "
        "for 2 shared cores |",
        f"| {LOAD_USERS:,} concurrent users (target 1,000+), p95 under 1 s | "
        + "; ".join(_verdict(label, rows) for label, rows, _ in loads)
        + " (section 4) | on 2 cores the load generator, the gateway with the handlers and SDK clients, and the "
        "emulator share the CPU, and each is one Python process (one GIL): at 1-5 s think time 1,000 shoppers ask "
        "for more CPU per second than the machine has, so requests queue. Lambda, API Gateway and DynamoDB "
        "on-demand scale out per request instead |",
        "| 99.9% uptime | **not measurable here** | a property of the deployed services (multi-AZ Lambda, "
        "API Gateway, DynamoDB, S3/CloudFront) and of the alarms that page on errors; no single instance in the "
        "design. Fault injection (tests/reliability) shows failures end as retryable 503s, never partial orders |",
        "",
        '## 1. Cold start (fresh interpreter, `python -c "import …"`, wall time)',
        "",
        "| Module | median ms | min-max | x boto3 import |",
        "|---|---|---|---|",
        *[f"| {label} | {m:.0f} | {lo:.0f}-{hi:.0f} | {m / boto:.2f} |" for label, m, lo, hi in cold],
        "",
        "## 2. Per-request overhead (event in → response out, in process)",
        "",
        "| Route | App | median µs | min-max |",
        "|---|---|---|---|",
        *[f"| {route} | {label} | {m:.0f} | {lo:.0f}-{hi:.0f} |" for route, label, m, lo, hi in req],
        "",
        "## 3. Database round trips per operation (DynamoDB, counted on the botocore client)",
        "",
        "| Operation | calls | data-model lower bound | calls made |",
        "|---|---|---|---|",
        *[f"| {label} | {n} | {bound} | {names} |" for label, n, bound, names in trips],
        "",
        "Checkout is at the bound: each cart line keeps the catalog entry (name, price, currency) it was set "
        "with, so checkout reads only the cart and its one transaction re-verifies stock *and* that the catalog "
        "still says the same; if it moved (price change, product deleted, stock short), the read-then-write path "
        "answers exactly (extra reads on that path only; tests/unit/test_checkout_round_trips.py). Above the bound, "
        "honestly: a cart change reads the cart and its products in one batch before its single write, because "
        "it answers 404 for an unknown product, enforces the 25-line limit and returns the cart at live prices.",
        "",
        "## 4. Load",
        "",
        *_load_section(loads),
        "What the load runs found, and what changed because of them:",
        "- **+40 ms per response** from Nagle's algorithm: the local gateway and the emulator wrote headers and "
        "body separately, so every keep-alive response waited for a delayed ACK (`/api/health` took 44 ms "
        "unloaded, 1 ms after `disable_nagle_algorithm`).",
        "- **moto 5.2's response serializer** made each DynamoDB call 2.3x slower than 5.1 (4.5 vs 2.0 ms for a "
        "category query): pinned `moto<5.2`.",
        "- **one core for everything**: gateway, handlers, SDK clients and moto shared one GIL; the emulator "
        "now runs in its own process (`functions/local/emulator.py`).",
        "- **moto's cost grew with the table** (4b): every Query sorted the whole table and every "
        "TransactWriteItems deep-copied it (half the emulator's CPU under load); the emulator now reads only a "
        "Query's candidates and backs up only the items a transaction touches (same answers: "
        "tests/unit/test_local_emulator.py).",
        "- **a TCP connection and a thread per SDK call**: werkzeug's server answers `Connection: close`; the "
        "emulator now serves keep-alive connections from one event-loop thread (moto's writes are serialized by "
        "construction; SQS long polls get a thread each). moto also listed its own package directory (~190 "
        "system calls) under a global lock on every request: listed once now.",
        "- **Cognito sign-in scanned every user** (several times per sign-in): 6.9 ms at 1,500 users, 1.7 ms "
        "with the e-mail remembered.",
        "- **GIL hand-over**: with a thread per connection, each SDK call inside an invocation waited up to 5 ms "
        "for the GIL after its socket I/O; the local stack sets a 0.5 ms switch interval "
        "(`SHOP_LOCAL_SWITCH_INTERVAL`): 107 -> 212 requests/s at 1,000 shoppers.",
        "- what is left is CPU: 2 cores for locust, the gateway + handlers + boto3, and moto.",
        "",
        "### 4b. The emulator's cost per call, moto as shipped and as the local stack runs it",
        "",
        "| Call (moto, in process) | " + " | ".join(dict.fromkeys(col for _, col, _ in emulator)) + " |",
        "|---|" + "---|" * len(dict.fromkeys(col for _, col, _ in emulator)),
        *[
            f"| {label} | "
            + " | ".join(f"{emu[(label, col)]:.2f} ms" for col in dict.fromkeys(c for _, c, _ in emulator))
            + " |"
            for label in dict.fromkeys(lbl for lbl, _, _ in emulator)
        ],
        "",
        f"As shipped, moto sorts the whole table for every Query ({emu[(browse, '40 items')]:.1f} ms at 40 items, "
        f"{emu[(browse, '5,000 items')]:.1f} ms at 5,000) and a load run writes thousands of carts and orders; "
        f"the local stack's emulator answers the same Query in {emu[(browse, '5,000 items, local stack')]:.1f} ms "
        "at 5,000 items. DynamoDB's Query reads only the partition it names.",
        "",
        "## 5. Artifact size",
        "",
        "| Artifact | bytes |",
        "|---|---|",
        *[f"| {label} | {size:,} |" for label, size in sizes],
        "",
        "## 6. Pulumi program under mocks (resources and build time per cloud and stack)",
        "",
        "The whole program built by Pulumi's Python mocks in a fresh interpreter (imports included), as "
        "tests/infra does. Tests assert what the graph contains, never how long it took; the time is here.",
        "",
        "| Cloud | Stack | resources | median s | min-max |",
        "|---|---|---|---|---|",
        *[f"| {cloud} | {stack} | {n} | {m:.2f} | {lo:.2f}-{hi:.2f} |" for cloud, stack, n, m, lo, hi in builds],
        "",
        "## 7. API fuzzing, full size",
        "",
        f"schemathesis over the generated OpenAPI 3.1 document ({FUZZ_EXAMPLES} examples per operation in its "
        "fuzzing phase, plus its coverage phase's boundary cases), against a fresh local stack as the admin user (tests/e2e/test_api_fuzz.py; `make test` runs "
        "the same suite with 6 per operation). Checks: no 5xx, every response matches its documented schema.",
        "",
        "| requests | " + " | ".join(sorted(fuzz_classes)) + " | result |",
        "|---|" + "---|" * len(fuzz_classes) + "---|",
        f"| {fuzz_n} | "
        + " | ".join(str(fuzz_classes[k]) for k in sorted(fuzz_classes))
        + " | "
        + ("passed: no 5xx, no schema violation" if fuzz_rc == 0 else f"**failed** (exit {fuzz_rc}): {fuzz_failed}")
        + " |",
        "",
    ]
    out += lighthouse.section(REPORT.read_text() if REPORT.exists() else "")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(out))
    log(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
