"""The AWS part of the stack config.

AWS reads only the common keys (``shop:region``, ``shop:domainName``, ``shop:hostedZoneId``...,
components/config.py); there is no ``shop:aws`` section. ``AwsSettings`` is the typed place
for one should AWS ever need its own keys, and ``parse_aws_settings`` refuses any key it does
not know, so a setting meant for AWS is never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class AwsSettingsError(ValueError):
    """A key in the AWS settings section that AWS does not read."""


@dataclass(frozen=True)
class AwsSettings:
    """Settings only AWS reads: none today (see the module docstring)."""


def parse_aws_settings(raw: Mapping[str, object]) -> AwsSettings:
    unknown = sorted(raw)
    if unknown:
        raise AwsSettingsError(f"AWS reads no cloud-specific settings, but got {unknown}")
    return AwsSettings()
