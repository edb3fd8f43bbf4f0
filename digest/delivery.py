"""Handing messages over: maildir, stdout, smtp; and flushing the outbox with retries.

A message leaves the outbox only after a transport accepted it. What happens on failure:

    TemporaryDeliveryError  retry with capped exponential backoff (1m, 5m, 15m, 1h, 3h, 6h …);
                            after ``max_age`` since the message was built it is marked failed
    SmtpSettingsError       the SMTP settings are wrong (login refused, no STARTTLS, untrusted
                            certificate): the message is *not* at fault, so it stays pending
                            (with backoff) and goes once the user fixes digest.toml
    PermanentDeliveryError  marked failed at once, the server's reply kept for `digest status`

Delivery is at-least-once: a crash between the server's "250" and ``mark_sent`` sends the same
message again, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import email
import logging
import mailbox
import os
import ssl
import sys
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol, TextIO

from digest.config import GIVE_UP_AFTER, Config, Smtp, maildir_path, smtp_password
from digest.errors import (
    ConfigError,
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from digest.models import Outgoing
from digest.smtp import SmtpClient, SmtpSettingsError, SmtpUnreachable
from digest.store import OutboxEntry, Store

log = logging.getLogger(__name__)

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
           timedelta(hours=1), timedelta(hours=3), timedelta(hours=6))
MAX_AGE = GIVE_UP_AFTER


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
    refused: tuple[str, ...] = ()  # recipients the server turned down (status sent)
    error: DeliveryError | None = None  # what went wrong (status retry or failed)


# transports -----------------------------------------------------------------------------
class MaildirTransport:
    """Each message becomes one file in ``path/new``: any mail client can open the folder.

    The Maildir's directories are created 0700 by ``mailbox``; files are made 0600 and
    fsynced before the message counts as delivered.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, message: Outgoing) -> Receipt:
        return await asyncio.to_thread(self._write, message)

    def _write(self, message: Outgoing) -> Receipt:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            box = mailbox.Maildir(self.path, factory=None, create=True)
            key = box.add(message.raw.replace(b"\r\n", b"\n"))  # Maildir files use LF
            # bytes go to new/ under their key (mailbox.Maildir.add without Maildir info)
            written = self.path / "new" / key
            os.chmod(written, 0o600)
            fd = os.open(written, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise TemporaryDeliveryError(
                f"could not write to the Maildir {self.path}: {exc.strerror or exc} — check "
                "[delivery] maildir in digest.toml and the free space") from exc
        return Receipt(where=f"maildir {written}", refused={})


class StdoutTransport:
    """Writes the plain-text part (or, with ``raw=True``, the whole message) to ``stream``."""

    def __init__(self, stream: TextIO, *, raw: bool = False) -> None:
        self.stream = stream
        self.raw = raw

    async def send(self, message: Outgoing) -> Receipt:
        self.stream.write(_raw_text(message) if self.raw else plain_text(message))
        self.stream.flush()
        return Receipt(where="stdout", refused={})


def plain_text(message: Outgoing) -> str:
    """The message as a reader of its text/plain part sees it, with its subject on top."""
    parsed = email.message_from_bytes(message.raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)  # policy.default always builds EmailMessage
    body = parsed.get_body(preferencelist=("plain",))
    text = body.get_content().replace("\r\n", "\n") if body is not None else ""
    return f"Subject: {parsed['Subject']}\nTo: {parsed['To']}\n\n{text.rstrip()}\n"


def _raw_text(message: Outgoing) -> str:
    return message.raw.decode("utf-8", "replace").replace("\r\n", "\n")


class SmtpTransport:
    """SMTP submission; ``async with`` it to send a batch over one connection."""

    def __init__(self, smtp: Smtp, password: str | None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.client = SmtpClient(smtp, password, tls_context)

    async def __aenter__(self) -> SmtpTransport:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.client.__aexit__(exc_type, exc, tb)

    async def send(self, message: Outgoing) -> Receipt:
        refused = await self.client.send(message)
        return Receipt(where=f"smtp {self.client.where}", refused=refused)


def transport_for(config: Config, *, stdout: TextIO | None = None,
                  tls_context: ssl.SSLContext | None = None) -> Transport:
    """The transport ``[delivery]`` asks for."""
    delivery = config.delivery
    if delivery.method == "stdout":
        return StdoutTransport(stdout or sys.stdout)
    if delivery.method == "smtp":
        if delivery.smtp is None:
            raise ConfigError('method = "smtp" needs a [delivery.smtp] table',
                              path=str(config.path), key="delivery.smtp")
        return SmtpTransport(delivery.smtp, smtp_password(delivery.smtp), tls_context)
    return MaildirTransport(maildir_path(config))


async def check_smtp_login(config: Config, *,
                           tls_context: ssl.SSLContext | None = None) -> str:
    """For `digest check --smtp`: connect, secure, log in; "login to host:port as user: ok".

    Raises DeliveryError (SmtpSettingsError, SmtpUnreachable …) saying what to check.
    """
    smtp = config.delivery.smtp
    if smtp is None:
        raise ConfigError("there is no [delivery.smtp] table to check", path=str(config.path),
                          key="delivery.smtp")
    return await SmtpClient(smtp, smtp_password(smtp), tls_context).check_login()


# the outbox -----------------------------------------------------------------------------
def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try (1-based), capped at six hours."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


async def flush_outbox(store: Store, transport: Transport, now: datetime, *,
                       max_age: timedelta = MAX_AGE, force: bool = False) -> list[Outcome]:
    """Send every due message, oldest first; each leaves the outbox only once accepted.

    ``force`` sends every pending message whatever its backoff (``digest once``: the user
    asked for a run now). Transports that are async context managers (SMTP) are entered
    once, so a batch shares one connection. When the server cannot be reached or refuses
    our settings, the rest of the batch waits for the next run instead of failing one by one.
    """
    entries = store.outbox("pending") if force else store.due_entries(now)
    outcomes: list[Outcome] = []
    if not entries:
        return outcomes
    async with AsyncExitStack() as stack:
        if isinstance(transport, AbstractAsyncContextManager):
            await stack.enter_async_context(transport)
        stop: DeliveryError | None = None
        for entry in entries:
            if stop is not None:
                outcomes.append(_retry(store, entry, stop, now, max_age))
                continue
            outcome = await _send_one(store, transport, entry, now, max_age)
            outcomes.append(outcome)
            if outcome.status == "retry" and isinstance(outcome.error,
                                                        SmtpUnreachable | SmtpSettingsError):
                stop = outcome.error
    return outcomes


async def _send_one(store: Store, transport: Transport, entry: OutboxEntry, now: datetime,
                    max_age: timedelta) -> Outcome:
    message = entry.message
    try:
        receipt = await transport.send(message)
    except SmtpSettingsError as exc:
        log.error("%s %s: %s (kept in the outbox)", message.kind, message.message_id, exc)
        return _retry(store, entry, exc, now, max_age)
    except TemporaryDeliveryError as exc:
        log.warning("%s %s: %s", message.kind, message.message_id, exc)
        return _retry(store, entry, exc, now, max_age)
    except PermanentDeliveryError as exc:
        log.error("%s %s failed: %s", message.kind, message.message_id, exc)
        store.mark_failed(message.message_id, str(exc))
        return Outcome(message, "failed", str(exc), error=exc)
    store.mark_sent(message.message_id, now, receipt.refused)
    for address, reply in receipt.refused.items():
        log.warning("%s %s: recipient %s refused: %s", message.kind, message.message_id,
                    address, reply)
    log.info("%s %s delivered: %s", message.kind, message.message_id, receipt.where)
    return Outcome(message, "sent", receipt.where, tuple(receipt.refused))


def _retry(store: Store, entry: OutboxEntry, error: DeliveryError, now: datetime,
           max_age: timedelta) -> Outcome:
    """Back off, or give up once the message is older than ``max_age``."""
    message = entry.message
    if now - message.created >= max_age:
        reason = (f"gave up after {entry.attempts + 1} attempts over "
                  f"{_days(now - message.created)}: {error}")
        store.mark_failed(message.message_id, reason)
        return Outcome(message, "failed", reason, error=error)
    next_try = now + backoff(entry.attempts + 1)
    store.mark_retry(message.message_id, str(error), next_try)
    when = next_try.astimezone(timezone.utc)
    return Outcome(message, "retry", f"{error} (next try {when:%Y-%m-%d %H:%M} UTC)",
                   error=error)


def _days(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"
