"""The adapters one invocation works with, built once per container by each runtime."""

from __future__ import annotations

from dataclasses import dataclass

from .ports import Identity, Media, Notifier, PaymentProcessor, Store


@dataclass
class Services:
    store: Store
    notifier: Notifier
    identity: Identity
    media: Media
    currency: str = "USD"  # the shop's currency (datamodel.ENV_CURRENCY)
    payments: PaymentProcessor | None = None  # the memory services use the simulated processor
