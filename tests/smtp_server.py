"""A real SMTP server for tests: aiosmtpd on a free 127.0.0.1 port, TLS from a trustme CA.

    from tests.smtp_server import SMTP_WARNINGS, smtp_server

    pytestmark = SMTP_WARNINGS          # aiosmtpd's own warnings, ignored for these tests

    with smtp_server(security="starttls", users={"u": "p"}) as server:
        smtp = server.smtp_config(username="u")      # a digest.config.Smtp pointing at it
        ... deliver with tls_context=server.client_context() ...
        assert server.handler.received[0].message["Subject"] == "..."

Failures on demand, set on ``server.handler`` before or between sends:
    refuse = {"busy@example.com": "450 4.2.1 Mailbox busy"}   RCPT refused for an address
    mail_replies / data_replies = ["451 4.3.0 Try later"]     the next MAIL / DATA fail, in turn
    cut_data = 1                                              the next DATA: connection dropped
    hang_data = 5.0                                           DATA answered only after 5 s
``server.stop()`` then ``server.start()`` brings the same server down and up on the same port.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal, cast

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from digest.config import Smtp

Security = Literal["starttls", "tls", "none"]

SMTP_WARNINGS = [
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return cast(int, sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    sender: str
    recipients: tuple[str, ...]
    content: bytes  # the raw message as it arrived
    login: str | None  # the authenticated user, if any
    tls: bool  # whether the session was encrypted (STARTTLS; implicit TLS is not seen)

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.content, policy=policy.default))


@dataclass
class Handler:
    """Records what arrives and fails on demand (see the module docstring)."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    mail_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    cut_data: int = 0
    hang_data: float = 0.0

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.cut_data:
            self.cut_data -= 1
            assert server.transport is not None
            server.transport.close()
            return "421 4.3.0 Connection cut"
        if self.hang_data:
            await asyncio.sleep(self.hang_data)
        if self.data_replies:
            return self.data_replies.pop(0)
        content = envelope.original_content or b""
        login = session.auth_data.login.decode() if isinstance(session.auth_data,
                                                                LoginPassword) else None
        self.received.append(Received(
            sender=str(envelope.mail_from), recipients=tuple(envelope.rcpt_tos),
            content=content, login=login, tls=session.ssl is not None))
        return "250 2.0.0 Message accepted"


class SmtpServer:
    """One aiosmtpd Controller, restartable on the same port."""

    def __init__(self, *, security: Security, users: dict[str, str] | None,
                 ca: trustme.CA | None = None, port: int | None = None) -> None:
        self.security = security
        self.users = users
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.ca = ca or trustme.CA()
        self.handler = Handler()
        self._controller: Controller | None = None

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (pass as tls_context)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def smtp_config(self, **overrides: Any) -> Smtp:
        """``[delivery.smtp]`` pointing at this server."""
        values: dict[str, Any] = {"host": self.host, "port": self.port,
                                  "security": self.security, "timeout": timedelta(seconds=5)}
        values.update(overrides)
        return Smtp(**values)

    def _server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
        return context

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, data: object) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and self.users is not None
              and self.users.get(data.login.decode()) == data.password.decode())
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def start(self) -> SmtpServer:
        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port}
        if self.users is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        if self.security == "starttls":
            kwargs.update(tls_context=self._server_context(), require_starttls=True)
        elif self.security == "tls":
            # aiosmtpd does not see implicit TLS, so it would not offer AUTH (aiosmtpd#281)
            kwargs.update(ssl_context=self._server_context(), server_hostname="localhost",
                          auth_require_tls=False)
        elif self.users is not None:
            kwargs.update(auth_require_tls=False)
        self._controller = Controller(self.handler, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server(*, security: Security = "starttls", users: dict[str, str] | None = None,
                ca: trustme.CA | None = None, port: int | None = None) -> Iterator[SmtpServer]:
    """A running server for the ``with`` block; stopped afterwards even on failure."""
    server = SmtpServer(security=security, users=users, ca=ca, port=port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
