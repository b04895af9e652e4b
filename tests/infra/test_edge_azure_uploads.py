"""Azure admin image uploads go through Front Door: the browser PUTs to the shop's own origin,
Front Door's uploads route forwards to the uploads account's blob endpoint (Private Link,
group ``blob``, in prod) at exactly the blob the SAS is signed for, and the WAF admits only a
PUT of at most MAX_IMAGE_BYTES with an allow-listed image type. In prod the uploads account
refuses the internet; the functions reach it (user delegation keys) through a private
endpoint. Dev (Front Door Standard, no Private Link) keeps public storage origins."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from functions.adapters.azure_media import UPLOAD_PATH, AzureBlobMedia
from functions.shop import datamodel
from providers.azure import static_site
from tests.fakes.http import FakeTransport

from .azure_mocks import AZURE_PROD, build_azure_stack, front_door_origins, storage_account_id
from .conftest import BuiltStack

AZ = "azure-native:"
T_ACCOUNT = AZ + "storage:StorageAccount"
MAX = datamodel.MAX_IMAGE_BYTES


@pytest.fixture(scope="session", params=["dev", "prod"])
def az(request: pytest.FixtureRequest, az_dev: BuiltStack, az_prod: BuiltStack) -> BuiltStack:
    return az_dev if request.param == "dev" else az_prod


def _routes(stack: BuiltStack) -> dict[str, dict]:
    return {r.name.removeprefix("route-"): r.inputs for r in stack.of_type(AZ + "cdn:Route")}


# -- the uploads account refuses the internet in prod (the network rules themselves:
# test_edge_azure_site.py::test_prod_storage_accounts_refuse_the_internet) -----------------------


def test_prod_uploads_account_without_deployer_addresses_disables_public_network_access():
    config = {**AZURE_PROD, "azure": {**AZURE_PROD["azure"], "deployerIpRanges": []}}
    stack = build_azure_stack(config, "prod")
    for name in ("uploads", "site"):
        account = stack.one(T_ACCOUNT, name).inputs
        assert account["publicNetworkAccess"] == "Disabled", f"{name}: public network access must be Disabled"
        assert account["networkRuleSet"]["defaultAction"] == "Deny"


def test_prod_functions_reach_the_uploads_blob_endpoint_through_a_private_endpoint(az_prod: BuiltStack):
    endpoint = az_prod.one(AZ + "network:PrivateEndpoint", "pe-uploads-blob").inputs
    (conn,) = endpoint["privateLinkServiceConnections"]
    assert conn["privateLinkServiceId"] == storage_account_id(az_prod, "uploads")
    assert conn["groupIds"] == ["blob"], "user delegation keys come from the blob endpoint"
    subnet = az_prod.one(AZ + "network:Subnet", "snet-endpoints").outputs["name"]
    assert endpoint["subnet"]["id"].endswith("/" + subnet)
    name = az_prod.one(AZ + "network:PrivateEndpoint", "pe-uploads-blob").outputs["name"]
    (group,) = [
        g for g in az_prod.of_type(AZ + "network:PrivateDnsZoneGroup") if g.inputs["privateEndpointName"] == name
    ]
    zone = az_prod.one(AZ + "privatedns:PrivateZone", "dns-blob").outputs["name"]
    (config,) = group.inputs["privateDnsZoneConfigs"]
    assert config["privateDnsZoneId"].endswith("/" + zone), "the blob host must resolve privately in the VNet"


# -- Front Door: the uploads route and its private origins -----------------------------------


def test_prod_front_door_takes_uploads_to_the_blob_endpoint_over_private_link(az_prod: BuiltStack):
    uploads_id = storage_account_id(az_prod, "uploads")
    account = az_prod.one(T_ACCOUNT, "uploads").outputs["name"]
    origin = front_door_origins(az_prod)["uploads"]
    assert origin["hostName"] == origin["originHostHeader"] == f"{account}.blob.core.windows.net"
    link = origin.get("sharedPrivateLinkResource")
    assert link, "prod's upload origin must use Front Door Premium's Private Link, not the public endpoint"
    assert (link["groupId"], link["privateLink"]["id"]) == (static_site.BLOB_GROUP, uploads_id)
    assert link["privateLinkLocation"] == az_prod.config["region"] and link["requestMessage"]
    media = front_door_origins(az_prod)["media"].get("sharedPrivateLinkResource")
    assert media, "prod's /media/* origin (the uploads account's static website) must use Private Link"
    assert (media["groupId"], media["privateLink"]["id"]) == (static_site.STATIC_WEBSITE_GROUP, uploads_id)


def test_the_uploads_route_is_https_only_and_never_cached(az: BuiltStack):
    route = _routes(az)["uploads"]
    assert route["patternsToMatch"] == [UPLOAD_PATH + "*"]
    assert route["forwardingProtocol"] == "HttpsOnly" and route["httpsRedirect"] == "Enabled"
    assert "cacheConfiguration" not in route, "an upload must never be answered from (or stored in) the cache"
    group = az.one(AZ + "cdn:AFDOriginGroup", "og-uploads").outputs["name"]
    assert route["originGroup"]["id"].endswith("/" + group)


def test_dev_uploads_origin_is_the_public_blob_endpoint(az_dev: BuiltStack):
    """Front Door Standard has no Private Link: the gap README's security section states."""
    assert "sharedPrivateLinkResource" not in front_door_origins(az_dev)["uploads"]
    assert az_dev.one(T_ACCOUNT, "uploads").inputs["networkRuleSet"]["defaultAction"] == "Allow"


def _forwarded_path(route: dict, path: str) -> str:
    """Front Door's forwarding with an origin path: the route's matched prefix is replaced by it."""
    (pattern,) = route["patternsToMatch"]
    prefix = pattern.removesuffix("/*")
    assert path.startswith(prefix + "/"), f"{path} is not on the uploads route {pattern}"
    return route["originPath"] + path[len(prefix) :]


class _Credential:
    def token(self, scope: str) -> str:
        return "token"


KEY_XML = (
    b"<UserDelegationKey><SignedOid>oid</SignedOid><SignedTid>tid</SignedTid>"
    b"<SignedStart>2026-11-25T00:00:00Z</SignedStart><SignedExpiry>2026-11-25T02:00:00Z</SignedExpiry>"
    b"<SignedService>b</SignedService><SignedVersion>2022-11-02</SignedVersion><Value>a2traw==</Value>"
    b"</UserDelegationKey>"
)


def test_the_path_the_browser_puts_to_reaches_the_blob_the_sas_is_signed_for(az: BuiltStack):
    transport = FakeTransport().on(
        "POST", "https://acct.blob.core.windows.net/?restype=service&comp=userdelegationkey", 200, KEY_XML
    )
    media = AzureBlobMedia(
        account="acct", container="$web", public_base_url="/" + datamodel.MEDIA_PREFIX, credential=_Credential(),
        transport=transport, clock=lambda: datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
    )  # fmt: skip
    form = media.presign_upload("products/p 1/x.png", "image/png", MAX, 300)
    url = urllib.parse.urlsplit(form.url)
    assert not url.netloc, "the upload URL is on the shop's own origin, not the storage host"
    forwarded = urllib.parse.unquote(_forwarded_path(_routes(az)["uploads"], url.path))
    assert forwarded == "/$web/" + datamodel.MEDIA_PREFIX + "products/p 1/x.png"
    assert form.image_url == "/" + datamodel.MEDIA_PREFIX + "products/p%201/x.png", "read back under /media/*"


# -- the WAF on the upload path ----------------------------------------------------------------


def _transform(value: str, transforms: list[str]) -> str:
    for t in transforms:
        value = {"Lowercase": str.lower, "UrlDecode": urllib.parse.unquote, "Trim": str.strip}[t](value)
    return value


def _matches(cond: dict, method: str, uri: str, headers: Mapping[str, str]) -> bool:
    """One Front Door match condition; a missing header matches no operator (so a negated
    condition on it is true)."""
    variable = cond["matchVariable"]
    if variable == "RequestHeader":
        found = {k.lower(): v for k, v in headers.items()}.get(cond["selector"].lower())
    else:
        found = {"RequestMethod": method, "RequestUri": uri, "QueryString": urllib.parse.urlsplit(uri).query}.get(
            variable
        )
    hit = False
    if found is not None:
        value = _transform(found, cond.get("transforms") or [])
        test = {
            "Equal": lambda v: value == v,
            "Contains": lambda v: v in value,
            "RegEx": lambda v: re.search(v, value) is not None,
        }[cond["operator"]]
        hit = any(test(v) for v in cond["matchValue"])
    return hit != bool(cond.get("negateCondition"))


def _blocked_by(stack: BuiltStack, method: str, uri: str, headers: Mapping[str, str]) -> list[str]:
    rules = stack.one(AZ + "frontdoor:Policy").inputs["customRules"]["rules"]
    return [
        r["name"]
        for r in rules
        if r["ruleType"] == "MatchRule" and all(_matches(c, method, uri, headers) for c in r["matchConditions"])
    ]


GOOD = {"Content-Length": "1024", "x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "image/png"}
PUT_URI = UPLOAD_PATH + "products/p1/x.png?sp=c&sig=abc"


@pytest.mark.parametrize(
    ("method", "headers", "rule"),
    [
        ("POST", GOOD, "UploadPutOnly"),
        ("GET", {}, "UploadPutOnly"),
        ("DELETE", GOOD, "UploadPutOnly"),
        ("PUT", {**GOOD, "Content-Length": None}, "UploadLengthRequired"),
        ("PUT", {**GOOD, "Content-Length": "12abc"}, "UploadLengthRequired"),
        ("PUT", {**GOOD, "Content-Length": str(MAX + 1)}, "UploadSizeCap"),
        ("PUT", {**GOOD, "Content-Length": str(10 * MAX)}, "UploadSizeCap"),
        ("PUT", {**GOOD, "Content-Length": "0"}, "UploadSizeCap"),
        ("PUT", {**GOOD, "x-ms-blob-content-type": "image/svg+xml"}, "UploadImageTypesOnly"),
        ("PUT", {**GOOD, "x-ms-blob-content-type": "text/html"}, "UploadImageTypesOnly"),
        ("PUT", {**GOOD, "x-ms-blob-content-type": None}, "UploadImageTypesOnly"),
    ],
)
def test_the_waf_refuses_an_upload_that_breaks_a_rule(az: BuiltStack, method: str, headers: dict, rule: str):
    sent = {k: v for k, v in headers.items() if v is not None}
    blocked = _blocked_by(az, method, PUT_URI, sent)
    assert rule in blocked, f"{method} {sent} must be blocked by {rule} (blocked by {blocked})"


def test_the_waf_admits_a_put_of_an_allowed_image_up_to_the_cap(az: BuiltStack):
    for content_type in datamodel.IMAGE_TYPES:
        for size in ("1", str(MAX), str(MAX - 1), "999"):
            headers = {**GOOD, "Content-Length": size, "x-ms-blob-content-type": content_type}
            assert _blocked_by(az, "PUT", PUT_URI, headers) == [], (content_type, size)
    # A case-changed path is still the uploads path (Front Door routes paths case-insensitively).
    assert _blocked_by(az, "POST", PUT_URI.upper(), GOOD) != []
    # Other paths are untouched by the upload rules.
    assert _blocked_by(az, "GET", "/" + datamodel.MEDIA_PREFIX + "products/p1/x.png", {}) == []
    assert _blocked_by(az, "POST", "/api/cart", {"Content-Length": str(10 * MAX)}) == []


def test_upload_rules_are_evaluated_before_the_rate_limits(az: BuiltStack):
    rules = {r["name"]: r for r in az.one(AZ + "frontdoor:Policy").inputs["customRules"]["rules"]}
    uploads = [r for n, r in rules.items() if n.startswith("Upload")]
    assert len(uploads) == 4 and all(r["action"] == "Block" and r["enabledState"] == "Enabled" for r in uploads)
    assert max(r["priority"] for r in uploads) < rules["RateLimitSignInPerClientIp"]["priority"]
    for r in uploads:
        path = r["matchConditions"][0]
        assert (path["matchVariable"], path["operator"], path["matchValue"]) == (
            "RequestUri",
            "Contains",
            [UPLOAD_PATH],
        )
        assert all(len(v) <= 256 for c in r["matchConditions"] for v in c["matchValue"]), "Front Door's value limit"
