"""The shop's functions: one per datamodel.SERVICES entry, same code package, own grants."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.specs import (
    AuthResult,
    DatabaseResult,
    FunctionsArgs,
    FunctionsResult,
    NotificationsResult,
    StaticSiteResult,
)
from functions.shop import datamodel
from functions.shop.expiry import DEFAULT_EXPIRY_HOURS, EXPIRY_HOURS_SETTING
from providers.base import CloudProvider

# Every ENV_* name the datamodel declares: the environment must set each one.
ENV_NAMES: frozenset[str] = frozenset(
    value for key, value in vars(datamodel).items() if key.startswith("ENV_") and isinstance(value, str)
)


def function_environment(
    *,
    cloud: str,
    currency: str,
    parameters_path: str,
    media_base_url: str,
    database: DatabaseResult,
    notifications: NotificationsResult,
    auth: AuthResult,
    site: StaticSiteResult,
    order_expiry_hours: int = DEFAULT_EXPIRY_HOURS,
) -> Mapping[str, pulumi.Input[str]]:
    """Every ENV_* variable the handlers read, from the neutral results (same on every cloud)."""
    return {
        datamodel.ENV_CLOUD: cloud,
        datamodel.ENV_TABLE: database.table_names[datamodel.SHOP_TABLE.name],
        datamodel.ENV_TOPIC: notifications.topic_ref,
        datamodel.ENV_BUCKET: site.bucket_name,
        datamodel.ENV_MEDIA_BASE_URL: media_base_url,
        datamodel.ENV_SENDER: notifications.sender_email,
        datamodel.ENV_USER_POOL: auth.user_pool_id,
        datamodel.ENV_USER_POOL_CLIENT: auth.client_id,
        datamodel.ENV_CURRENCY: currency,
        datamodel.ENV_PARAMETERS_PATH: parameters_path,
        EXPIRY_HOURS_SETTING: str(order_expiry_hours),
    }


class Functions(pulumi.ComponentResource):
    """One function per service; each identity allows only that service's grants."""

    result: FunctionsResult

    def __init__(
        self, name: str, args: FunctionsArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Functions", name, None, opts)
        missing = set(ENV_NAMES) - set(args.environment)
        if missing:
            raise ValueError(f"function environment lacks {sorted(missing)}: every handler reads them")
        self.result = provider.functions(args, self)
        self.register_outputs({"functionNames": {s: f.name for s, f in self.result.functions.items()}})
