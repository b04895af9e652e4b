"""Order-events topic, the notifications queue with its dead-letter queue, and the sender e-mail identity."""

from __future__ import annotations

import pulumi

from components.specs import NotificationsArgs, NotificationsResult
from providers.base import CloudProvider


class Notifications(pulumi.ComponentResource):
    """Order-events topic, the notifications queue with its dead-letter queue, and the sender e-mail identity."""

    result: NotificationsResult

    def __init__(
        self, name: str, args: NotificationsArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Notifications", name, None, opts)
        self.result = provider.notifications(args, self)
        self.register_outputs(
            {
                "topic": self.result.topic_ref,
                "queue": self.result.queue_ref,
                "deadLetterQueue": self.result.dead_letter_queue_ref,
            }
        )
