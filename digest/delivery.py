"""Handing messages over: maildir, stdout, smtp; and flushing the outbox with retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from digest.models import Outgoing


@dataclass(frozen=True, slots=True)
class Receipt:
    """Where a message went; ``refused`` holds recipients the server turned down."""

    where: str  # "maildir /path/new/…", "smtp host:port", "stdout"
    refused: dict[str, str]


class Transport(Protocol):
    async def send(self, message: Outgoing) -> Receipt:
        """Deliver or raise TemporaryDeliveryError / PermanentDeliveryError."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    message: Outgoing
    status: str  # sent | retry | failed
    detail: str  # Receipt.where or the error


async def flush_outbox(store: object, transport: Transport, now: datetime) -> list[Outcome]:
    """Send every due message; each leaves the outbox only once the transport accepted it."""
    raise NotImplementedError
