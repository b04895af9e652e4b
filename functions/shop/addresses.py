"""Shipping addresses per country: which need a region, postal code formats, display.

Stdlib only (checkout and the notifications function import it).

Sources: the region requirement follows the address templates of Google's libaddressinput
data (https://chromium-i18n.appspot.com/ssl-address, field "require" containing "S"); the
postal code patterns are the national formats (USPS ZIP / ZIP+4, Canada Post, Royal Mail).
Countries absent from POSTAL_CODE_PATTERNS accept any postal code the model allows:
being wrong about a format would turn real customers away.
"""

from __future__ import annotations

import re

from .ports import Address

# Countries whose addresses need a state / province / prefecture (the "S" of libaddressinput).
REGION_REQUIRED: frozenset[str] = frozenset({"US", "CA", "AU", "BR", "MX", "IN", "JP", "CN"})

# What the region is called there, for messages and forms.
REGION_LABEL: dict[str, str] = {
    "US": "state",
    "CA": "province",
    "AU": "state",
    "BR": "state",
    "MX": "state",
    "IN": "state",
    "JP": "prefecture",
    "CN": "province",
}

POSTAL_CODE_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "US": (re.compile(r"^\d{5}(-?\d{4})?$"), "5 or 9 digits, e.g. 62704 or 62704-1234"),
    "CA": (re.compile(r"^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$"), "like K1A 0B1"),
    "GB": (
        re.compile(r"^([A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|GIR ?0AA)$", re.IGNORECASE),
        "a full postcode, like SW1A 1AA",
    ),
}

COUNTRY_NAMES: dict[str, str] = {
    "US": "United States",
    "CA": "Canada",
    "GB": "United Kingdom",
    "AU": "Australia",
    "BR": "Brazil",
    "MX": "Mexico",
    "IN": "India",
    "JP": "Japan",
    "CN": "China",
    "FR": "France",
    "DE": "Germany",
    "ES": "Spain",
    "IT": "Italy",
    "NL": "Netherlands",
    "IE": "Ireland",
}

# Countries that write "City, REGION POSTAL" on one line (North American / Australian style).
_CITY_REGION_POSTAL = frozenset({"US", "CA", "AU"})
# Countries that put the postal code on a line of its own after the city.
_POSTAL_OWN_LINE = frozenset({"GB", "IE"})


def problems(a: Address) -> list[tuple[str, str]]:
    """(field, message) for each rule the address breaks; field names are the API's."""
    found: list[tuple[str, str]] = []
    if a.country in REGION_REQUIRED and not (a.region or "").strip():
        found.append(("region", f"a {REGION_LABEL[a.country]} is required for addresses in {a.country}"))
    rule = POSTAL_CODE_PATTERNS.get(a.country)
    if rule is not None and not rule[0].match(a.postal_code.strip()):
        found.append(("postalCode", f"not a postal code of {a.country}: expected {rule[1]}"))
    return found


def lines(a: Address) -> list[str]:
    """The address as it is written on an envelope in its country."""
    out = [a.name, a.line1] + ([a.line2] if a.line2 else [])
    region = a.region or ""
    if a.country in _CITY_REGION_POSTAL:
        out.append(f"{a.city}, {' '.join(p for p in (region, a.postal_code) if p)}")
    elif a.country in _POSTAL_OWN_LINE:
        out += [a.city] + ([region] if region else []) + [a.postal_code.upper()]
    else:
        out.append(f"{a.postal_code} {a.city}")
        if region:
            out.append(region)
    out.append(COUNTRY_NAMES.get(a.country, a.country))
    if a.phone:
        out.append(f"Phone: {a.phone}")
    return out


def format_address(a: Address) -> str:
    return "\n".join(lines(a))
