"""How each cloud delivers the storefront: content-hashed files cached for a year, entry
points revalidated, and the CDN answering real paths (/p/<id>, /c/<id>) with the app.

The publishing itself (providers/site_files.build_site) is checked on the real site/ and on
small sites written here; the CDN configuration of each cloud is evaluated the way that CDN
applies it (CloudFront Function run by node, Front Door rules in order, the URL map's path
rules), on the programs built under mocks.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from functions.shop.routes import SITE_HOST_HEADER, SITEMAP_PATH
from providers.site_files import (
    ENTRY,
    IMMUTABLE,
    IMMUTABLE_SECONDS,
    REVALIDATE,
    SHORT,
    SPA_ROUTES,
    build_site,
    is_hashed,
    write_site,
)

from .conftest import BuiltStack

SITE = Path(__file__).resolve().parents[2] / "site"
HASHED = re.compile(r"\.[0-9a-f]{12}\.(js|css)$")
ROUTES = ("/p/kite", "/c/books", "/p/wall-clock", "/c/toys", "/cart", "/signin", "/orders/o-1", "/admin/orders")
S3_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
GCS_OBJECT = "gcp:storage/bucketObject:BucketObject"
AZ = "azure-native:"

# -- publishing (cloud-neutral) -----------------------------------------------------------


def test_scripts_and_styles_get_hashed_names_and_a_year_of_caching():
    files = {f.key: f for f in build_site(SITE)}
    sources = [p.relative_to(SITE).as_posix() for p in SITE.rglob("*") if p.is_file()]
    code = [k for k in sources if k.endswith((".js", ".css"))]
    assert code, "the site has no scripts or stylesheets"
    for key in code:
        assert key not in files, f"{key} is published under its plain name"
    published = [k for k in files if k.endswith((".js", ".css"))]
    assert len(published) == len(code)
    for key in published:
        assert HASHED.search(key) and is_hashed(key), key
        assert files[key].cache_control == IMMUTABLE
    assert files[ENTRY].cache_control == REVALIDATE
    assert files["robots.txt"].cache_control == SHORT
    assert files["img/placeholder.svg"].cache_control == SHORT


def test_every_reference_names_a_published_file():
    files = {f.key: f for f in build_site(SITE)}
    html = files[ENTRY].read().decode()
    refs = re.findall(r'(?:href|src)="/([^"]+\.(?:js|css))"', html)
    assert any(r.startswith("js/app.") for r in refs) and any(r.startswith("css/styles.") for r in refs)
    assert all(r in files for r in refs), [r for r in refs if r not in files]
    for key, f in files.items():
        if not key.endswith(".js"):
            continue
        for spec in re.findall(r"""(?:from\s*|import\s*\(\s*|import\s+)["'](\.{1,2}/[^"']+)["']""", f.read().decode()):
            target = (Path("/" + key).parent / spec).resolve().as_posix().lstrip("/")
            assert target in files and is_hashed(target), f"{key} imports {spec}: not a published hashed file"


def _site(tmp_path: Path, leaf: str) -> dict[str, str]:
    (tmp_path / "js" / "views").mkdir(parents=True)
    (tmp_path / "index.html").write_text('<script type="module" src="/js/app.js"></script>')
    (tmp_path / "js" / "util.js").write_text(leaf)
    (tmp_path / "js" / "app.js").write_text('import { x } from "./util.js";\nimport("./views/a.js");\n')
    (tmp_path / "js" / "views" / "a.js").write_text('import { x } from "../util.js";\n')
    (tmp_path / "js" / "other.js").write_text("export const y = 1;\n")
    return {f.key.split(".")[0]: f.key for f in build_site(tmp_path)}


def test_changing_a_module_renames_it_and_everything_that_imports_it(tmp_path):
    before = _site(tmp_path / "a", "export const x = 1;\n")
    after = _site(tmp_path / "b", "export const x = 2;\n")
    for changed in ("js/util", "js/app", "js/views/a"):
        assert before[changed] != after[changed], f"{changed} kept its name although what it runs changed"
    assert before["js/other"] == after["js/other"], "an unrelated module was renamed"
    assert before["index"] == after["index"] == "index.html"
    app = next(f for f in build_site(tmp_path / "b") if f.key.startswith("js/app.")).read().decode()
    assert (
        f'"./{after["js/util"].removeprefix("js/")}"' in app and f'"./{after["js/views/a"].removeprefix("js/")}"' in app
    )


def test_the_build_can_be_written_out_for_an_upload_by_hand(tmp_path):
    files = write_site(SITE, tmp_path / "out")
    written = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert written == {f.key for f in files}
    index = next(f for f in files if f.key == ENTRY)
    assert (tmp_path / "out" / ENTRY).read_bytes() == index.read()


def test_a_circular_import_is_refused(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text('import "./b.js";')
    (tmp_path / "js" / "b.js").write_text('import "./a.js";')
    with pytest.raises(ValueError, match="circular"):
        build_site(tmp_path)


def test_an_import_of_a_missing_module_is_refused(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text('import "./gone.js";')
    with pytest.raises(ValueError, match=r"gone\.js"):
        build_site(tmp_path)


# -- AWS: S3 objects + CloudFront Function ---------------------------------------------------


def test_aws_uploads_hashed_files_immutable_and_entry_points_revalidated(dev: BuiltStack):
    objects = {o.inputs["key"]: o.inputs for o in dev.of_type(S3_OBJECT)}
    code = [k for k in objects if k.endswith((".js", ".css"))]
    assert code and all(HASHED.search(k) for k in code), code
    assert all(objects[k]["cacheControl"] == IMMUTABLE for k in code)
    assert objects["index.html"]["cacheControl"] == REVALIDATE
    assert objects["config.json"]["cacheControl"] == REVALIDATE
    assert objects["robots.txt"]["cacheControl"] == SHORT


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_cloudfront_answers_real_paths_with_the_app(dev: BuiltStack):
    code = dev.one("aws:cloudfront/function:Function", "spa-routing").inputs["code"]
    asset = next(k for k in (o.inputs["key"] for o in dev.of_type(S3_OBJECT)) if k.startswith("js/app."))
    cases = {**{path: "/index.html" for path in ROUTES}, f"/{asset}": f"/{asset}", "/robots.txt": "/robots.txt"}
    calls = "\n".join(f"console.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);" for uri in cases)
    out = subprocess.run(["node", "-e", code + "\n" + calls], capture_output=True, text=True, check=True).stdout.split()
    assert dict(zip(cases, out, strict=True)) == cases


# -- Azure: Front Door rule set on the site route ---------------------------------------------


def _front_door(rules: list[dict], path: str) -> tuple[str, str | None]:
    """(path sent to the origin, Cache-Control sent to the browser) after the rules run in
    order, as Front Door applies them: request path without its leading slash, file
    extension of the last segment, every matching rule's actions, later ones overwriting."""
    request_path = path.lstrip("/")
    last = request_path.rsplit("/", 1)[-1]
    extension = last.rsplit(".", 1)[1] if "." in last else ""
    origin_path, cache = path, None
    for rule in sorted(rules, key=lambda r: r["order"]):
        if all(_matches(c, request_path, extension) for c in rule["conditions"]):
            for action in rule["actions"]:
                p = action["parameters"]
                if action["name"] == "ModifyResponseHeader" and p["headerName"].lower() == "cache-control":
                    cache = p["value"]
                elif action["name"] == "UrlRewrite":
                    origin_path = p["destination"] + (
                        path[len(p["sourcePattern"]) :] if p.get("preserveUnmatchedPath") else ""
                    )
    return origin_path, cache


def _matches(condition: dict, request_path: str, extension: str) -> bool:
    p = condition["parameters"]
    value = {"UrlPath": request_path, "UrlFileExtension": extension}[condition["name"]]
    if "Lowercase" in p.get("transforms", []):
        value = value.lower()
    values, op = p.get("matchValues", []), p["operator"]
    hit = {
        "Any": lambda: True,
        "Equal": lambda: value in values,
        "RegEx": lambda: any(re.search(v, value) for v in values),
        "LessThan": lambda: len(value) < int(values[0]),
    }[op]()
    return hit != bool(p.get("negateCondition"))


def _rules(stack: BuiltStack, route: str) -> list[dict]:
    """The delivery rules of a Front Door route: every rule set attached to it but the
    security-headers one (tests/infra/test_edge_azure.py holds that)."""
    attached = {r.name: r.inputs for r in stack.of_type(AZ + "cdn:Route")}[route]["ruleSets"]
    names = [
        s.outputs["name"]
        for s in stack.of_type(AZ + "cdn:RuleSet")
        if s.name != "rules-headers" and any(a["id"].endswith("/" + s.outputs["name"]) for a in attached)
    ]
    assert len(names) == 1, f"{route}: expected one delivery rule set, found {names}"
    return [r.inputs for r in stack.of_type(AZ + "cdn:Rule") if r.inputs["ruleSetName"] == names[0]]


def test_front_door_answers_real_paths_with_the_app_and_caches_by_name(az_dev: BuiltStack):
    rules = _rules(az_dev, "route-site")
    assert rules
    api_actions = {a["name"] for r in _rules(az_dev, "route-api") for a in r["actions"]}
    assert api_actions == {"ModifyRequestHeader"}, "the API route must never be rewritten or cached"

    blobs = [b.inputs["blobName"] for b in az_dev.of_type(AZ + "storage:Blob")]
    asset = next(b for b in blobs if b.startswith("js/app."))
    for path in ROUTES:
        assert _front_door(rules, path) == ("/index.html", REVALIDATE), path
    assert _front_door(rules, "/" + asset) == ("/" + asset, IMMUTABLE)
    assert _front_door(rules, "/css/" + next(b for b in blobs if b.startswith("css/")).split("/")[1])[1] == IMMUTABLE
    assert _front_door(rules, "/index.html") == ("/index.html", REVALIDATE)
    assert _front_door(rules, "/config.json") == ("/config.json", REVALIDATE)
    assert _front_door(rules, "/img/products/kite.svg") == ("/img/products/kite.svg", SHORT)
    year = next(r for r in rules if r["ruleName"] == "HashedImmutable")
    override = next(a for a in year["actions"] if a["name"] == "RouteConfigurationOverride")
    assert override["parameters"]["cacheConfiguration"]["cacheDuration"] == "365.00:00:00"


# -- GCP: URL map + backend bucket ------------------------------------------------------------


def _url_map_rule(matcher: dict, path: str) -> dict | None:
    """The path rule the URL map picks: the longest matching pattern (exact, or prefix/*)."""
    best, best_len = None, -1
    for rule in matcher.get("pathRules", []):
        for pattern in rule["paths"]:
            hit = path.startswith(pattern[:-1]) if pattern.endswith("/*") else path == pattern
            if hit and len(pattern) > best_len:
                best, best_len = rule, len(pattern)
    return best


def test_url_map_answers_real_paths_with_the_app(gcp_dev: BuiltStack):
    url_map = gcp_dev.one("gcp:compute/uRLMap:URLMap", "urlmap").inputs
    site = gcp_dev.one("gcp:compute/backendService:BackendService", "backend-site")
    matcher = url_map["pathMatchers"][0]
    for path in ROUTES:
        rule = _url_map_rule(matcher, path)
        assert rule is not None, f"{path} has no path rule: the bucket would answer 403/404"
        assert rule["service"].endswith("/backendServices/" + site.outputs["name"]), path
        policy = rule["customErrorResponsePolicy"]
        assert policy["errorService"] == rule["service"]
        (error_rule,) = policy["errorResponseRules"]
        # the private bucket's XML API answers a missing object 403 (the reader cannot list)
        assert error_rule["matchResponseCodes"] == ["403", "404"]
        assert error_rule["path"] == "/index.html" and error_rule["overrideResponseCode"] == 200
    api = _url_map_rule(matcher, "/api/products")
    assert api is not None and "/backendServices/backend-api" in api["service"]
    assert "customErrorResponsePolicy" not in api
    assert _url_map_rule(matcher, "/js/app.0123456789ab.js") is None, "files must keep their honest 404"
    assert set(SPA_ROUTES) <= {p for r in matcher["pathRules"] for p in r["paths"]}


def test_gcs_objects_and_cloud_cdn_keep_the_year_of_caching(gcp_dev: BuiltStack):
    objects = {o.inputs["name"]: o.inputs for o in gcp_dev.of_type(GCS_OBJECT)}
    code = [k for k in objects if k.endswith((".js", ".css"))]
    assert code and all(HASHED.search(k) and objects[k]["cacheControl"] == IMMUTABLE for k in code)
    assert objects["index.html"]["cacheControl"] == REVALIDATE
    policy = gcp_dev.one("gcp:compute/backendService:BackendService", "backend-site").inputs["cdnPolicy"]
    # Cloud CDN clamps max-age to these: they must not cut the year short.
    assert policy["clientTtl"] >= IMMUTABLE_SECONDS and policy["maxTtl"] >= IMMUTABLE_SECONDS


# -- the sitemap's host, on every cloud --------------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_cloudfront_passes_the_visitors_host_to_the_sitemap_only(dev: BuiltStack):
    d = dev.one("aws:cloudfront/distribution:Distribution").inputs
    sitemap, api = d["orderedCacheBehaviors"]
    assert sitemap["pathPattern"] == SITEMAP_PATH and sitemap["targetOriginId"] == "api"
    assert sorted(sitemap["allowedMethods"]) == ["GET", "HEAD", "OPTIONS"]
    assert not api.get("functionAssociations")
    (assoc,) = sitemap["functionAssociations"]
    fn = next(
        f for f in dev.of_type("aws:cloudfront/function:Function") if f.outputs.get("arn") == assoc["functionArn"]
    )
    call = "console.log(JSON.stringify(handler({request: {uri: '/api/sitemap.xml', headers: {host: {value: 'shop.example.com'}}}}).headers));"
    out = subprocess.run(["node", "-e", fn.inputs["code"] + "\n" + call], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)[SITE_HOST_HEADER.lower()] == {"value": "shop.example.com"}


def test_front_door_passes_the_visitors_host_to_the_sitemap(az_dev: BuiltStack):
    (rule,) = _rules(az_dev, "route-api")
    (condition,) = rule["conditions"]
    assert condition["name"] == "UrlPath" and condition["parameters"]["matchValues"] == ["api/sitemap.xml"]
    (action,) = rule["actions"]
    params = action["parameters"]
    assert action["name"] == "ModifyRequestHeader" and params["headerName"] == SITE_HOST_HEADER
    assert params["value"] == "{hostname}" and params["headerAction"] == "Overwrite"


def test_load_balancer_passes_the_visitors_host_to_the_api(gcp_dev: BuiltStack):
    headers = gcp_dev.one("gcp:compute/backendService:BackendService", "backend-api").inputs["customRequestHeaders"]
    if isinstance(headers, dict):  # a secret (the gateway's key travels in the same list)
        headers = headers["value"]
    assert f"{SITE_HOST_HEADER}: {{tls_sni_hostname}}" in headers
