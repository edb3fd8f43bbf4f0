"""SMTP submission with aiosmtplib: always TLS (or localhost), errors sorted by what to do next.

Three kinds of failure, three exceptions (all DeliveryError):

    TemporaryDeliveryError      retry this message later
    └── SmtpUnreachable         the server could not be reached or dropped us: later messages
                                of the same batch would fail the same way, so stop the batch
    PermanentDeliveryError      this message will never go (5xx reply, kept for the user)
    └── SmtpSettingsError       the settings are wrong (login refused, no STARTTLS, certificate
                                not trusted, plaintext to a remote host): no message can go
                                until the user fixes digest.toml, so messages stay *pending*
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from types import TracebackType

import aiosmtplib

from digest.config import Smtp
from digest.errors import PermanentDeliveryError, TemporaryDeliveryError
from digest.models import Outgoing

log = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
HINT = "check [delivery.smtp] in digest.toml"


class SmtpUnreachable(TemporaryDeliveryError):
    """Connecting failed, timed out or the connection was cut."""


class SmtpSettingsError(PermanentDeliveryError):
    """The configured server refuses our settings; retrying unchanged will not help."""


class SmtpClient:
    """Sends through one SMTP server; ``async with`` it to reuse one connection for a batch.

    The message bytes are sent as built (``sendmail`` with an explicit envelope), so
    aiosmtplib never re-flattens them with its own policy.
    """

    def __init__(self, smtp: Smtp, password: str | None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.smtp = smtp
        self._password = password
        self._tls_context = tls_context
        self._client: aiosmtplib.SMTP | None = None
        self._batch = False

    @property
    def where(self) -> str:
        return f"{self.smtp.host}:{self.smtp.port}"

    async def __aenter__(self) -> SmtpClient:
        self._batch = True
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self._batch = False
        await self._disconnect(polite=exc is None)

    async def send(self, message: Outgoing) -> dict[str, str]:
        """Deliver; return the refused recipients with the server's replies.

        Raises TemporaryDeliveryError or PermanentDeliveryError (see the module docstring).
        """
        seconds = self.smtp.timeout.total_seconds()
        try:
            client = await self._connected()
            errors, _reply = await asyncio.wait_for(
                client.sendmail(message.sender, list(message.recipients), message.raw),
                timeout=seconds * 4)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            await self._disconnect(polite=False)
            raise self._translate(exc) from exc
        if not self._batch:
            await self._disconnect(polite=True)
        return {address: f"{reply.code} {reply.message}" for address, reply in errors.items()}

    async def check_login(self) -> str:
        """Connect, secure and log in, then quit; say what worked."""
        try:
            await self._connected()
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            await self._disconnect(polite=False)
            raise self._translate(exc) from exc
        await self._disconnect(polite=True)
        who = f" as {self.smtp.username}" if self.smtp.username else ""
        return f"login to {self.where}{who} ({self.smtp.security}): ok"

    # connection ---------------------------------------------------------------------
    def _check_settings(self) -> None:
        if self.smtp.security == "none" and self.smtp.host.lower() not in LOCAL_HOSTS:
            raise SmtpSettingsError(
                f"refusing to send via {self.where} without TLS: security = \"none\" is only "
                f"allowed for localhost — use \"starttls\" or \"tls\" ({HINT})")
        if self.smtp.username and not self._password:
            raise SmtpSettingsError(
                f"no SMTP password for {self.smtp.username} at {self.where}: set the "
                f"environment variable or file named by password_env / password_file ({HINT})")

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        self._check_settings()
        username = self.smtp.username
        client = aiosmtplib.SMTP(
            hostname=self.smtp.host, port=self.smtp.port,
            username=username, password=self._password if username else None,
            use_tls=self.smtp.security == "tls",
            start_tls=self.smtp.security == "starttls",  # never None: that may go plaintext
            tls_context=self._tls_context, timeout=self.smtp.timeout.total_seconds())
        try:
            await asyncio.wait_for(client.connect(),
                                   timeout=self.smtp.timeout.total_seconds() * 2)
        except BaseException:
            client.close()  # a login or STARTTLS failure inside connect() leaves a socket open
            raise
        self._client = client
        return client

    async def _disconnect(self, *, polite: bool) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        if polite:
            try:
                await client.quit()
                return
            except (aiosmtplib.SMTPException, OSError) as exc:
                log.debug("QUIT to %s failed: %s", self.where, exc)
        client.close()

    # errors -------------------------------------------------------------------------
    def _translate(self, exc: BaseException) -> TemporaryDeliveryError | PermanentDeliveryError:
        """One library error → one of our errors, with the server's reply and a hint."""
        if isinstance(exc, SmtpSettingsError | SmtpUnreachable):
            return exc
        prefix = f"could not deliver via {self.where}"
        if _is_certificate_error(exc):
            return SmtpSettingsError(
                f"{prefix}: the server's TLS certificate is not trusted: {_cause(exc)} ({HINT})")
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return SmtpSettingsError(
                f"login to {self.where} as {self.smtp.username} refused: {exc.code} "
                f"{exc.message} — check the username and password ({HINT})")
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            replies = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            if any(400 <= r.code < 500 for r in exc.recipients):
                return TemporaryDeliveryError(f"{prefix}: every recipient refused: {replies}")
            return PermanentDeliveryError(f"{prefix}: every recipient refused: {replies}")
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return self._translate_reply(exc, prefix)
        if isinstance(exc, aiosmtplib.SMTPNotSupported):
            return SmtpSettingsError(f"{prefix}: {exc.message} ({HINT})")
        if isinstance(exc, TimeoutError | asyncio.TimeoutError):
            return SmtpUnreachable(f"{prefix}: timed out — is the server up? ({HINT})")
        if isinstance(exc, ConnectionRefusedError) or _cause_is(exc, ConnectionRefusedError):
            return SmtpUnreachable(f"{prefix}: connection refused — {HINT}")
        if isinstance(exc, ConnectionError | OSError):
            return SmtpUnreachable(f"{prefix}: {_cause(exc)} — {HINT}")
        if isinstance(exc, aiosmtplib.SMTPException):
            return SmtpSettingsError(f"{prefix}: {exc.message} ({HINT})")
        return SmtpUnreachable(f"{prefix}: {exc}")

    def _translate_reply(self, exc: aiosmtplib.SMTPResponseException,
                         prefix: str) -> TemporaryDeliveryError | PermanentDeliveryError:
        reply = f"{exc.code} {exc.message}"
        if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
            return SmtpUnreachable(f"{prefix}: the server turned us away: {reply}")
        if 400 <= exc.code < 500:
            return TemporaryDeliveryError(f"{prefix}: {reply}")
        if isinstance(exc, aiosmtplib.SMTPSenderRefused):
            return SmtpSettingsError(f"{prefix}: sender {exc.sender} refused: {reply} — check "
                                     "[delivery] from in digest.toml")
        return PermanentDeliveryError(f"{prefix}: {reply}")


def _cause(exc: BaseException) -> str:
    """The most specific reason in an exception chain, as text."""
    inner = exc.__cause__ or exc.__context__
    text = str(inner) if inner is not None and str(inner) else str(exc)
    return text or type(exc).__name__


def _cause_is(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_certificate_error(exc: BaseException) -> bool:
    return _cause_is(exc, ssl.SSLCertVerificationError)
