"""Rendered texts to a safe RFC 5322 message (multipart/alternative), self-checked."""

from __future__ import annotations

from datetime import datetime

from digest.models import Outgoing, RenderedMail


def build_message(rendered: RenderedMail, *, kind: str, name: str, sender: str,
                  recipients: tuple[str, ...], message_id: str, date: datetime,
                  boundary: str | None = None) -> Outgoing:
    """Build and re-parse the message; raise MessageError when a header was smuggled in."""
    raise NotImplementedError


def make_message_id(kind: str, name: str, key: str, sender: str) -> str:
    """A stable Message-ID: the same digest run always gets the same id."""
    raise NotImplementedError
