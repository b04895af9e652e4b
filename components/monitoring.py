"""Alarms on functions, API, database and dead-letter queue, sent to the alert e-mail; a dashboard."""

from __future__ import annotations

import pulumi

from components.specs import MonitoringArgs, MonitoringResult
from providers.base import CloudProvider


class Monitoring(pulumi.ComponentResource):
    """Alarms on functions, API, database and dead-letter queue, sent to the alert e-mail; a dashboard."""

    result: MonitoringResult

    def __init__(
        self, name: str, args: MonitoringArgs, provider: CloudProvider, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shop:components:Monitoring", name, None, opts)
        self.result = provider.monitoring(args, self)
        self.register_outputs({"alarmTopic": self.result.alarm_topic_ref, "dashboard": self.result.dashboard_name})
