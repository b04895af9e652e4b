"""Another team's Pulumi program that embeds the shop: its settings are a StackConfig built in
code (no shop:* stack config), and it changes the DynamoDB table through a transformation on
the "database" component instead of editing the providers.

Setup: `pip install -e <path to this repository>` in this program's virtualenv (README.md here).
"""

from __future__ import annotations

import pulumi

from components.config import StackConfig
from components.program import build


def shop_config() -> StackConfig:
    """The shop's settings, from this program's own config (namespace of this project)."""
    own = pulumi.Config()
    return StackConfig(
        cloud="aws",
        region=own.get("region") or "eu-west-1",
        environment="dev",
        alert_email=own.get("alertEmail") or "oncall@example.com",
        sender_email=own.get("senderEmail") or "shop@example.com",
        owner="checkout-team",
        tags={"costCenter": "checkout-42"},
    )


def stream_changes(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """Our data platform reads the table's change stream: turn it on (new and old images)."""
    if args.type_ != "aws:dynamodb/table:Table":
        return None
    props = {**args.props, "stream_enabled": True, "stream_view_type": "NEW_AND_OLD_IMAGES"}
    return pulumi.ResourceTransformationResult(props, args.opts)


def main() -> None:
    shop = build(config=shop_config(), transformations={"database": [stream_changes]})
    pulumi.export("shopUrl", shop.site_url)


if __name__ == "__main__":
    main()
