"""NoSQL tables built from the shared TableSpecs (keys, indexes, TTL), encrypted with the stack key."""

from __future__ import annotations

import pulumi

from components.specs import DatabaseArgs, DatabaseResult
from providers.base import CloudProvider


class Database(pulumi.ComponentResource):
    """NoSQL tables built from the shared TableSpecs (keys, indexes, TTL), encrypted with the stack key."""

    result: DatabaseResult

    def __init__(
        self, name: str, args: DatabaseArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Database", name, None, opts)
        self.result = provider.database(args, self)
        self.register_outputs({"tableNames": dict(self.result.table_names)})
