"""Building messages: what a mail client sees after parsing the bytes we would send."""

from __future__ import annotations

import email
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from typing import cast

import pytest

from digest.errors import MessageError
from digest.mail import build_message, check_raw, clean_header, make_message_id
from digest.models import Outgoing, RenderedMail

DATE = datetime(2024, 3, 1, 7, 0, tzinfo=timezone.utc)
SENDER = "News Digest <digest@localhost>"
INJECTION = "=?UTF-8?Q?Hi=0D=0ABcc:_evil@example.net?="


def build(subject: str = "Morning briefing: 2 stories", *, text: str = "Kim Jong Un visits\n",
          html: str = "<p>Kim Jong Un visits</p>",
          recipients: tuple[str, ...] = ("you@example.com", "me@example.org"),
          name: str = "Morning briefing", boundary: str | None = "==digest-boundary==",
          ) -> Outgoing:
    return build_message(RenderedMail(subject=subject, text=text, html=html), kind="digest",
                         name=name, sender=SENDER, recipients=recipients,
                         message_id=make_message_id("digest", name, "run-1", SENDER),
                         date=DATE, boundary=boundary)


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(raw, policy=policy.default))


def test_headers_a_mail_client_sees() -> None:
    msg = parse(build().raw)
    assert msg["From"] == SENDER
    assert msg["To"] == "you@example.com, me@example.org"
    assert msg["Subject"] == "Morning briefing: 2 stories"
    assert msg["Date"] == "Fri, 01 Mar 2024 07:00:00 +0000"
    assert msg["List-Id"] == '"Morning briefing" <morning-briefing.digest.localhost>'
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Digest-Kind"] == "digest"
    assert msg["Message-ID"].startswith("<digest.morning-briefing.")
    assert msg["Message-ID"].endswith("@localhost>")
    assert msg.get_all("Bcc") is None


def test_outgoing_carries_the_envelope() -> None:
    out = build()
    assert out.sender == "digest@localhost"
    assert out.recipients == ("you@example.com", "me@example.org")
    assert out.kind == "digest" and out.name == "Morning briefing" and out.created == DATE


def test_multipart_alternative_plain_first_html_last_utf8() -> None:
    msg = parse(build(text="Pyŏngyang — “news”\n", html="<p>Pyŏngyang — “news”</p>").raw)
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.iter_parts()
    assert cast(EmailMessage, plain).get_content_type() == "text/plain"
    assert cast(EmailMessage, html).get_content_type() == "text/html"
    assert cast(EmailMessage, plain).get_content().splitlines() == ["Pyŏngyang — “news”"]
    assert "<p>Pyŏngyang — “news”</p>" in cast(EmailMessage, html).get_content()
    assert plain.get_content_charset() == "utf-8"


def test_raw_uses_crlf_and_short_lines() -> None:
    raw = build(text="word " * 400 + "\n").raw
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_golden_bytes_are_stable_with_injected_boundary_and_date() -> None:
    assert build().raw == build().raw
    assert b'boundary="==digest-boundary=="' in build().raw


def test_message_id_is_stable_per_run_and_differs_between_runs() -> None:
    one = make_message_id("digest", "Morning briefing", "run-1", SENDER)
    assert one == make_message_id("digest", "Morning briefing", "run-1", SENDER)
    assert one != make_message_id("digest", "Morning briefing", "run-2", SENDER)
    assert one != make_message_id("digest", "Evening", "run-1", SENDER)
    assert make_message_id("alert", "alert", "k", "a@news.example.org").endswith(
        "@news.example.org>")


def test_encoded_word_crlf_in_subject_adds_no_header() -> None:
    msg = parse(build(subject=f"Korea: {INJECTION}").raw)
    assert msg.get_all("Bcc") is None
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert "evil@example.net" in msg["Subject"]  # shown as text, harmlessly


def test_self_check_catches_cve_2024_6923_on_this_python() -> None:
    # Built without clean_header, the encoded CR/LF may become a real header on Python
    # < 3.11.10; whatever this Python does, check_raw must not let an extra header through.
    naive = EmailMessage()
    naive["Subject"] = INJECTION
    naive["From"] = SENDER
    naive.set_content("x")
    raw = naive.as_bytes(policy=policy.SMTP)
    extra = parse(raw).get_all("Bcc") is not None
    if not extra:
        pytest.skip("this Python no longer has CVE-2024-6923")
    with pytest.raises(MessageError, match="unexpected headers"):
        check_raw(raw, ["Subject", "From", "Content-Transfer-Encoding"], INJECTION)


@pytest.mark.parametrize("subject", [
    "line\r\nBcc: evil@example.net", "tab\tand\x00nul\x7f", "bidi \u202egnp.exe",
    "sep\u2028arator",
])
def test_control_characters_become_spaces(subject: str) -> None:
    msg = parse(build(subject=subject).raw)
    assert msg.get_all("Bcc") is None
    assert all(ord(c) >= 32 and c not in "\u2028\u202e" for c in msg["Subject"])


def test_non_ascii_subject_round_trips_with_spaces() -> None:
    subject = "Korea: “Kim Jong-un” and Erdoğan meet in Pyŏngyang — 3 stories"
    assert parse(build(subject=subject).raw)["Subject"] == subject


def test_long_subject_is_shortened() -> None:
    subject = parse(build(subject="news " * 100).raw)["Subject"]
    assert len(subject) <= 200 and subject.endswith("…")


def test_clean_header_collapses_whitespace_and_defuses_encoded_words() -> None:
    assert clean_header("  a \n\n b\t c  ") == "a b c"
    assert "=?" not in clean_header(INJECTION)


def test_odd_digest_names_make_safe_list_id() -> None:
    msg = parse(build(name='Korea "watch" \\ Ünïcode!').raw)
    assert msg["List-Id"].endswith("<korea-watch-unicode.digest.localhost>")


@pytest.mark.parametrize("recipients", [("a@x.org\r\nBcc: evil@example.net",), ()])
def test_bad_recipients_are_refused(recipients: tuple[str, ...]) -> None:
    with pytest.raises(MessageError):
        build(recipients=recipients)


def test_malformed_message_id_is_refused() -> None:
    with pytest.raises(MessageError, match="Message-ID"):
        build_message(RenderedMail("s", "t", "h"), kind="digest", name="n", sender=SENDER,
                      recipients=("a@example.com",), message_id="no-brackets", date=DATE)
