"""The adapters one invocation works with, built once per container by each runtime."""

from __future__ import annotations

from dataclasses import dataclass

from .ports import Identity, Media, Notifier, PaymentProcessor, Store
from .processed_events import ProcessedEvents
from .push import PushSender


@dataclass
class Services:
    store: Store
    notifier: Notifier
    identity: Identity
    media: Media
    currency: str = "USD"  # the shop's currency (datamodel.ENV_CURRENCY)
    # The notifications consumer's dedupe record; every cloud wires its own. None: no
    # dedupe (a redelivered event is e-mailed again).
    processed_events: ProcessedEvents | None = None
    payments: PaymentProcessor | None = None  # the memory services use the simulated processor
    push: PushSender | None = None
