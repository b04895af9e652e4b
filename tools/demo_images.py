"""Draw a distinct SVG picture for every product of the demo catalog.

    python tools/demo_images.py            # functions/local/demo_catalog.json -> site/img/products/
    python tools/demo_images.py --check    # exit 1 if an image is missing or out of date

Each picture is a soft gradient in its category's colour, a few shapes placed by a hash
of the product id (so every product looks different but the output is reproducible),
the product's initials in a badge and its name underneath. No downloads, stdlib only;
rerunning rewrites the same bytes.
"""

from __future__ import annotations

import argparse
import colorsys
import hashlib
import json
import random
import sys
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "functions" / "local" / "demo_catalog.json"
OUT = ROOT / "site" / "img" / "products"
SIZE = 400

# Pleasant, distinct hues (degrees); a category keeps its hue across runs.
HUES = (232, 12, 152, 38, 268, 190, 340, 88, 210, 300)


def _hex(h: float, s: float, lightness: float) -> str:
    r, g, b = colorsys.hls_to_rgb((h % 360) / 360, lightness, s)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def category_hue(category: str, categories: list[str]) -> int:
    """Known categories take the palette in order; unknown ones hash into it."""
    if category in categories:
        return HUES[categories.index(category) % len(HUES)]
    return HUES[_digest(category) % len(HUES)]


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[1][0]).upper()


def wrap(text: str, width: int = 22, lines: int = 2) -> list[str]:
    out: list[str] = []
    current = ""
    for word in text.split():
        if len(current) + len(word) + (1 if current else 0) <= width:
            current = f"{current} {word}".strip()
        else:
            out.append(current)
            current = word
    out.append(current)
    out = [line for line in out if line]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return out


def draw(product_id: str, name: str, category: str, hue: int) -> str:
    rnd = random.Random(_digest(product_id))
    light, mid, deep = _hex(hue, 0.75, 0.93), _hex(hue, 0.55, 0.8), _hex(hue, 0.55, 0.36)
    shapes = []
    for i in range(rnd.randint(4, 6)):
        h2 = hue + rnd.choice((-40, -20, 0, 20, 40))
        fill = _hex(h2, 0.6, rnd.uniform(0.6, 0.8))
        opacity = round(rnd.uniform(0.35, 0.7), 2)
        x, y = rnd.randint(-40, SIZE), rnd.randint(-40, SIZE - 120)
        kind = rnd.choice(("circle", "rect", "blob", "ring"))
        if kind == "circle":
            shapes.append(f'<circle cx="{x}" cy="{y}" r="{rnd.randint(30, 110)}" fill="{fill}" opacity="{opacity}"/>')
        elif kind == "rect":
            w = rnd.randint(60, 160)
            shapes.append(
                f'<rect x="{x}" y="{y}" width="{w}" height="{w}" rx="{w // 5}" fill="{fill}" opacity="{opacity}" '
                f'transform="rotate({rnd.randint(-30, 30)} {x + w // 2} {y + w // 2})"/>'
            )
        elif kind == "ring":
            shapes.append(
                f'<circle cx="{x}" cy="{y}" r="{rnd.randint(40, 90)}" fill="none" stroke="{fill}" '
                f'stroke-width="{rnd.randint(10, 22)}" opacity="{opacity}"/>'
            )
        else:
            r = rnd.randint(50, 100)
            pts = " ".join(
                f"{x + round(r * rnd.uniform(0.7, 1.2) * c)},{y + round(r * rnd.uniform(0.7, 1.2) * s)}"
                for c, s in ((1, 0), (0.5, 0.87), (-0.5, 0.87), (-1, 0), (-0.5, -0.87), (0.5, -0.87))
            )
            shapes.append(f'<polygon points="{pts}" fill="{fill}" opacity="{opacity}" stroke-linejoin="round"/>')
        if i == 0:
            shapes.append(f'<circle cx="{SIZE - x // 2}" cy="{y // 2 + 40}" r="18" fill="#fff" opacity="0.6"/>')
    label_lines = wrap(name)
    text_y = 330 if len(label_lines) == 1 else 318
    label = "".join(
        f'<text x="200" y="{text_y + i * 30}" text-anchor="middle" font-family="system-ui, -apple-system, Segoe UI, '
        f'Roboto, sans-serif" font-size="24" font-weight="600" fill="{deep}">{escape(line)}</text>'
        for i, line in enumerate(label_lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" '
        f'role="img" aria-label="{escape(name)}">'
        f'<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{light}"/><stop offset="1" stop-color="{mid}"/></linearGradient></defs>'
        f'<rect width="{SIZE}" height="{SIZE}" fill="url(#bg)"/>'
        f"{''.join(shapes)}"
        f'<rect x="0" y="280" width="{SIZE}" height="120" fill="#fff" opacity="0.82"/>'
        f'<circle cx="200" cy="150" r="74" fill="{deep}"/>'
        f'<circle cx="200" cy="150" r="74" fill="none" stroke="#fff" stroke-width="6" opacity="0.9"/>'
        f'<text x="200" y="150" dy="0.35em" text-anchor="middle" font-family="system-ui, -apple-system, Segoe UI, '
        f'Roboto, sans-serif" font-size="60" font-weight="700" fill="#fff">{escape(initials(name))}</text>'
        f"{label}"
        f'<text x="200" y="385" text-anchor="middle" font-family="system-ui, sans-serif" font-size="14" '
        f'letter-spacing="2" fill="{deep}" opacity="0.85">{escape(category.upper())}</text>'
        "</svg>\n"
    )


def load_catalog(path: Path) -> tuple[list[dict], list[str]]:
    """Accepts {"categories": [...], "products": [...]} or a bare list of products."""
    data = json.loads(path.read_text(encoding="utf-8"))
    products = data.get("products", []) if isinstance(data, dict) else data
    cats = data.get("categories", []) if isinstance(data, dict) else []
    cat_ids = [c.get("categoryId") or c.get("id") if isinstance(c, dict) else str(c) for c in cats]
    if not cat_ids:
        cat_ids = sorted({p.get("category", "") for p in products})
    return products, [c for c in cat_ids if c]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, default=CATALOG)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="report missing or stale images, write nothing")
    args = ap.parse_args(argv)
    products, categories = load_catalog(args.catalog)
    args.out.mkdir(parents=True, exist_ok=True)
    stale = []
    for p in products:
        pid = p.get("productId") or p.get("id")
        if not pid:
            continue
        category = p.get("category", "")
        svg = draw(pid, p.get("name", pid), category, category_hue(category, categories))
        target = args.out / f"{pid}.svg"
        if target.exists() and target.read_text(encoding="utf-8") == svg:
            continue
        stale.append(target)
        if not args.check:
            target.write_text(svg, encoding="utf-8")
    verb = "out of date" if args.check else "written"
    print(f"{len(products)} products, {len(stale)} images {verb} in {args.out}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
