"""Section 7 of docs/benchmarks.md: Lighthouse on the storefront, phone and desktop.

Lighthouse is an npm package and a browser run (about 20 s a page here), so `make bench` runs
it only when asked: `BENCH_LIGHTHOUSE=<folder where `npm install lighthouse` was run>`
(optionally `BENCH_LIGHTHOUSE_RUNS`, default 3: the median run by performance is reported).
Without it the section is carried over from the previous report unchanged.

By hand: `.venv/bin/python -m bench.lighthouse` prints the table for a fresh local stack.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import tempfile
from pathlib import Path

HEADING = "## 7. Storefront (Lighthouse)"
CHROME = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FORM_FACTORS = ("mobile", "desktop")


def pages(products: list[dict], categories: list[dict]) -> list[str]:
    """Home, a category, a product and sign-in: every layout the storefront has for visitors."""
    return ["/", f"/c/{categories[0]['categoryId']}", f"/p/{products[0]['productId']}", "/signin"]


def run_once(lighthouse_dir: Path, url: str, form_factor: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [
            "npx", "lighthouse", url, "--quiet", "--output=json", f"--output-path={out}",
            "--chrome-flags=--headless=new --no-sandbox", "--only-categories=" + ",".join(CATEGORIES),
            *(["--preset=desktop"] if form_factor == "desktop" else []),
        ]  # fmt: skip
        subprocess.run(cmd, cwd=lighthouse_dir, env={**os.environ, "CHROME_PATH": CHROME}, check=True, timeout=180)
        report = json.loads(out.read_text())
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    audits = report["audits"]
    return {
        **scores,
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
    }


def measure(lighthouse_dir: Path, base_url: str, paths: list[str], runs: int) -> list[dict]:
    rows = []
    for path in paths:
        for ff in FORM_FACTORS:
            results = sorted(
                (run_once(lighthouse_dir, base_url + path, ff) for _ in range(runs)), key=lambda r: r["performance"]
            )
            median = results[len(results) // 2]
            rows.append(
                {"path": path, "ff": ff, **median, "spread": (results[0]["performance"], results[-1]["performance"])}
            )
    return rows


def table(rows: list[dict]) -> list[str]:
    out = [
        "| Page | form factor | performance | CLS | LCP ms | accessibility | best practices | SEO |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| `{r['path']}` | {r['ff']} | {r['performance']} | {r['cls']:.3f} | {r['lcp']:.0f} | "
            f"{r['accessibility']} | {r['best-practices']} | {r['seo']} |"
        )
    return out


def previous_section(report: str) -> list[str]:
    m = re.search(rf"^{re.escape(HEADING)}$.*?(?=^## |\Z)", report, re.S | re.M)
    return [*m.group(0).rstrip("\n").split("\n"), ""] if m else []


def section(previous_report: str) -> list[str]:
    folder = os.environ.get("BENCH_LIGHTHOUSE")
    if not folder:
        return previous_section(previous_report)
    runs = int(os.environ.get("BENCH_LIGHTHOUSE_RUNS", "3"))
    return [HEADING, "", *_measured(Path(folder), runs), ""]


def _measured(folder: Path, runs: int) -> list[str]:
    import requests

    from functions.local.stack import LocalStack

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stack = LocalStack(port=port)
    stack.start()
    try:
        base = stack.base_url
        products = requests.get(base + "/api/products?limit=1", timeout=10).json()["items"]
        categories = requests.get(base + "/api/categories", timeout=10).json()["items"]
        rows = measure(folder, base, pages(products, categories), runs)
    finally:
        stack.stop()
    worst = min(r["performance"] for r in rows)
    return [
        f"Lighthouse against a fresh local stack (Debian's chromium, headless; median of {runs} runs by "
        f"performance). Lowest performance score: {worst}; largest CLS: {max(r['cls'] for r in rows):.3f}.",
        "",
        *table(rows),
    ]


if __name__ == "__main__":
    folder = os.environ.get("BENCH_LIGHTHOUSE")
    if not folder:
        raise SystemExit("set BENCH_LIGHTHOUSE to a folder where `npm install lighthouse` was run")
    print("\n".join(_measured(Path(folder), int(os.environ.get("BENCH_LIGHTHOUSE_RUNS", "3")))))
