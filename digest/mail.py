"""Rendered texts to a safe RFC 5322 message (multipart/alternative), self-checked.

Header values that may come from articles (the subject) are cleaned before use, and every
built message is parsed again and refused unless it has exactly the headers we set: this
Python (3.11.7) still has CVE-2024-6923, where an encoded CR/LF such as
``=?UTF-8?Q?Hi=0D=0ABcc:_evil@example.net?=`` in a Subject is written out as a real header.
"""

from __future__ import annotations

import email
import hashlib
import re
import unicodedata
from collections import Counter
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, parseaddr
from typing import Literal, cast

from digest.errors import MessageError
from digest.models import Outgoing, RenderedMail

MAX_SUBJECT = 200

# Serialising with this policy gives CRLF line endings and does not fold long subjects in a
# way that loses spaces between encoded words (LIBRARIES §4, "Folding bug").
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)
# The message's own policy: bodies with lines up to 998 octets stay readable 8bit text.
BUILD_POLICY = policy.default.clone(max_line_length=998)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_header(text: str, limit: int = MAX_SUBJECT) -> str:
    """One safe header line: no control or bidi characters, no encoded words, short.

    ``=?`` starts an RFC 2047 encoded word; a zero-width space after ``=`` defuses it while
    the reader still sees ``=?``.
    """
    text = _INVISIBLE.sub("", _CONTROL.sub(" ", text))
    text = " ".join(text.split()).replace("=?", "=\u200b?")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def slug(name: str, limit: int = 40) -> str:
    """``"Morning briefing"`` → ``"morning-briefing"``; ASCII letters, digits and hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return text[:limit].strip("-") or "digest"


def sender_domain(sender: str) -> str:
    """The domain of ``"News Digest <digest@example.org>"``; ``localhost`` when it has none."""
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2].strip().lower()
    return domain if re.fullmatch(r"[a-z0-9.-]+", domain) else "localhost"


def make_message_id(kind: str, name: str, key: str, sender: str) -> str:
    """A stable Message-ID: the same digest run always gets the same id.

    ``key`` names the run (for example the digest name and its new watermark), so a message
    rebuilt after a crash is recognisable as a resend of the very same digest.
    """
    token = hashlib.sha256(f"{kind}\0{name}\0{key}".encode()).hexdigest()[:20]
    return f"<{slug(kind, 20)}.{slug(name)}.{token}@{sender_domain(sender)}>"


def build_message(rendered: RenderedMail, *, kind: str, name: str, sender: str,
                  recipients: tuple[str, ...], message_id: str, date: datetime,
                  boundary: str | None = None) -> Outgoing:
    """Build and re-parse the message; raise MessageError when a header was smuggled in."""
    if kind not in ("digest", "alert"):
        raise MessageError(f"unknown message kind {kind!r}")
    _check_plain(message_id, "Message-ID")
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message_id):
        raise MessageError(f"malformed Message-ID {message_id!r}")
    if not recipients:
        raise MessageError(f"{kind} {name!r} has no recipients")
    subject = clean_header(rendered.subject)
    headers = _headers(kind=kind, name=name, sender=sender, recipients=recipients,
                       subject=subject, message_id=message_id, date=date)
    msg = EmailMessage(policy=BUILD_POLICY)
    for header, value in headers.items():
        try:
            msg[header] = value
        except (ValueError, TypeError, IndexError) as exc:
            raise MessageError(f"{kind} {name!r}: bad {header} header {value!r}: {exc}") from exc
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    if boundary is not None:
        msg.set_boundary(boundary)
    raw = msg.as_bytes(policy=WIRE_POLICY)
    check_raw(raw, list(headers), subject, f"{kind} {name!r}")
    return Outgoing(message_id=message_id, kind=cast(Literal["digest", "alert"], kind),
                    name=name, sender=_bare_address(sender), recipients=recipients,
                    subject=subject, raw=raw, created=date)


def _headers(*, kind: str, name: str, sender: str, recipients: tuple[str, ...], subject: str,
             message_id: str, date: datetime) -> dict[str, str]:
    for address in (sender, *recipients):
        _check_plain(address, "address")
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    list_name = clean_header(name, 100).replace("\\", "\\\\").replace('"', '\\"')
    return {
        "From": sender,
        "To": ", ".join(recipients),
        "Subject": subject,
        "Date": format_datetime(date),
        "Message-ID": message_id,
        "List-Id": f'"{list_name}" <{slug(name)}.digest.{sender_domain(sender)}>',
        "Auto-Submitted": "auto-generated",
        "X-Digest-Kind": kind,
    }


def _check_plain(value: str, what: str) -> None:
    if _CONTROL.search(value) or "=?" in value:
        raise MessageError(f"refusing {what} with control characters or encoded words: "
                           f"{value!r}")


def _bare_address(sender: str) -> str:
    """The envelope address of ``"Name <user@host>"``."""
    try:
        return Address(addr_spec=parseaddr(sender)[1]).addr_spec
    except (ValueError, IndexError) as exc:
        raise MessageError(f"bad sender address {sender!r}") from exc


def check_raw(raw: bytes, expected: list[str], subject: str, what: str = "message") -> None:
    """Parse the bytes as a mail client would and compare with what we meant to send."""
    parsed = email.message_from_bytes(raw, policy=policy.default)
    want = Counter(name.lower() for name in [*expected, "MIME-Version", "Content-Type"])
    got = Counter(name.lower() for name in parsed)
    if got != want:
        extra = sorted((got - want).elements())
        missing = sorted((want - got).elements())
        raise MessageError(f"{what}: the built message has unexpected headers "
                           f"(extra {extra}, missing {missing}); refusing to send it")
    decoded = str(parsed["Subject"])
    if "\r" in decoded or "\n" in decoded or decoded != subject:
        raise MessageError(f"{what}: the subject does not survive a round trip: {decoded!r}")
    _check_parts(parsed, what)


def _check_parts(parsed: Message, what: str) -> None:
    parts = [part.get_content_type() for part in parsed.iter_parts()] \
        if isinstance(parsed, EmailMessage) else []
    if parsed.get_content_type() != "multipart/alternative" or parts != ["text/plain",
                                                                          "text/html"]:
        raise MessageError(f"{what}: unexpected MIME structure {parsed.get_content_type()} "
                           f"{parts}")
