"""Order events to SNS, emails through SES."""

from __future__ import annotations

from functions.shop.ports import OrderEvent

from .aws_clients import client


class SnsSesNotifier:
    def __init__(self, topic_arn: str, sender: str, configuration_set: str | None = None) -> None:
        self.topic_arn = topic_arn
        self.sender = sender
        self.configuration_set = configuration_set

    def publish_order_event(self, event: OrderEvent) -> None:
        from functions.shop.notifications import event_to_json

        client("sns").publish(
            TopicArn=self.topic_arn,
            Message=event_to_json(event),
            MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}},
        )

    def send_email(self, to: str, subject: str, text: str) -> None:
        kwargs = {}
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        client("ses").send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
            **kwargs,
        )
