"""Jinja2 templates to subject, plain text and HTML (CSS inlined). Autoescape by extension.

Templates are ``<kind>.subject.txt``, ``<kind>.txt`` and ``<kind>.html`` for the kinds
``digest`` and ``alert``. The bundled ones live in the repository's ``templates/`` (shipped
in the wheel as ``digest.templates``); a user's ``templates_dir`` overrides them file by file.
Every text from an article reaches HTML through autoescaping; only http/https URLs become
links.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
import jinja2
from markupsafe import Markup, escape

import digest as _package
from digest.errors import ConfigError
from digest.models import Digest, RenderedMail, Segment, Story
from digest.urls import safe_url

SUBJECT_LIMIT = 70
TEXT_WIDTH = 72
MARK_STYLE = "background-color:#fff1a8;color:#1a1a1a;font-weight:600;padding:0 1px;"
NBSP = "\u00a0"
_KEEP = re.compile(r"\s+")
_BLANKS = re.compile(r"[ \t\n\r\f\v\u2000-\u200a\u3000]+")  # no-break spaces stay
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def bundled_templates() -> jinja2.BaseLoader:
    """The repository's ``templates/`` in a checkout, else the copy inside the wheel."""
    checkout = Path(_package.__file__).resolve().parent.parent / "templates"
    if (checkout / "digest.html").is_file():
        return jinja2.FileSystemLoader(checkout)
    return jinja2.PackageLoader("digest", "templates")


class Links:
    """Numbered references for the plain-text part: ``[1]`` in the text, URLs at the end."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def ref(self, url: str | None) -> str:
        """``"[n]"`` for an http/https URL (the same URL keeps its number), else ``""``."""
        safe = safe_url(url)
        if safe is None:
            return ""
        number = self._numbers.setdefault(safe, len(self._numbers) + 1)
        return f"[{number}]"

    def items(self) -> list[tuple[int, str]]:
        return [(number, url) for url, number in self._numbers.items()]


def clean_line(text: str) -> str:
    """One line: control characters and line breaks become spaces, runs of space one."""
    return _BLANKS.sub(" ", _CONTROL.sub(" ", text)).strip(" ")


class Renderer:
    """Bundled templates, overridden file by file by ``templates_dir`` when given."""

    def __init__(self, *, templates_dir: Path | None, timezone: ZoneInfo) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if templates_dir is not None:
            loaders.append(jinja2.FileSystemLoader(templates_dir))
        loaders.append(bundled_templates())
        self.timezone = timezone
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.do"],
        )
        self.env.filters.update(
            local=self.local_time,
            safe_url=safe_url,
            marked=marked_html,
            marked_text=marked_text,
            wrap=wrap,
            line=clean_line,
        )
        self.env.globals.update(mark_style=MARK_STYLE, also_reported=others_by_source,
                                fit_terms=terms_that_fit)
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

    def render_digest(self, digest: Digest) -> RenderedMail:
        return self._render("digest", digest)

    def render_alert(self, alert: Digest) -> RenderedMail:
        """An immediate alert (a Digest from ``builder.build_alert``)."""
        return self._render("alert", alert)

    def local_time(self, moment: datetime | None, style: str = "short") -> str:
        """A time in the digest's time zone: "Thu 14 Sep 07:05" (``long`` adds the year)."""
        if moment is None:
            return ""
        local = moment.astimezone(self.timezone)
        if style == "time":
            return f"{local:%H:%M}"
        if style == "long":
            return f"{local:%a} {local.day} {local:%b %Y %H:%M}"
        return f"{local:%a} {local.day} {local:%b %H:%M}"

    def _render(self, kind: str, digest: Digest) -> RenderedMail:
        context: dict[str, Any] = {
            "digest": digest,
            "timezone": str(self.timezone.key),
            "stories": [story for section in digest.sections for story in section.stories],
            "subject_terms": subject_terms(digest),
        }
        name = f"{kind}.subject.txt"
        try:
            subject = fit_subject(self.env.get_template(name).render(context))
            name = f"{kind}.txt"
            text = self.env.get_template(name).render(context, links=Links())
            name = f"{kind}.html"
            html = self.env.get_template(name).render(context, subject=subject)
        except jinja2.TemplateError as exc:  # a user's template (templates_dir) is broken
            where = f" line {exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
            why = exc.message or type(exc).__name__
            if isinstance(exc, jinja2.TemplateNotFound):
                why = (f"no template {exc.name!r} (includes are looked up only in "
                       "templates_dir and the bundled templates)")
            raise ConfigError(f"template {name}{where}: {why}", key="templates_dir") from exc
        return RenderedMail(
            subject=subject,
            text=text,
            html=self._inliner.inline(html),
        )


def marked_html(segments: Iterable[Segment]) -> Markup:
    """Segments as HTML: text escaped, marked words in ``<mark>`` with an inline style."""
    parts = []
    for segment in segments:
        text = escape(segment.text)
        if segment.marked:
            parts.append(Markup('<mark style="{}">{}</mark>').format(MARK_STYLE, text))
        else:
            parts.append(text)
    return Markup("").join(parts)


def marked_text(segments: Iterable[Segment]) -> str:
    """Segments as plain text: marked words between asterisks, ``*Kim Jong Un*``; their
    spaces are no-break spaces so that ``wrap`` keeps a marked phrase on one line."""
    return "".join(f"*{_KEEP.sub(NBSP, s.text)}*" if s.marked else s.text for s in segments)


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None) -> str:
    """Fill ``text`` to ``width`` columns; long words (URLs) are never broken."""
    filled = textwrap.fill(
        clean_line(text), width=width, initial_indent=indent if first is None else first,
        subsequent_indent=indent, break_long_words=False, break_on_hyphens=False,
    )
    return filled.replace(NBSP, " ")


def others_by_source(story: Story) -> list[tuple[str, str | None]]:
    """"Also reported by": each other source once, with its first http/https link."""
    found: dict[str, str | None] = {}
    for match in story.others:
        source = match.article.source
        if source == story.lead.article.source:
            continue
        url = safe_url(match.article.url)
        if source not in found or (found[source] is None and url):
            found[source] = url
    return list(found.items())


def subject_terms(digest: Digest) -> list[str]:
    """Matched terms of the top stories, best story first, each term once."""
    stories = sorted((s for section in digest.sections for s in section.stories),
                     key=lambda story: -story.lead.score)
    seen: dict[str, str] = {}
    for story in stories:
        for term in story.lead.terms:
            display = clean_line(term).strip('"').rstrip("*")
            if display and display.casefold() not in seen:
                seen[display.casefold()] = display
    return list(seen.values())


def fit_subject(subject: str, limit: int = SUBJECT_LIMIT) -> str:
    """One clean line of at most ``limit`` characters, cut at a word or list boundary."""
    subject = clean_line(subject)  # encoded-word defusing is mail.clean_header's job
    if len(subject) <= limit:
        return subject
    cut = subject[: limit - 1]
    for boundary in (", ", " "):
        position = cut.rfind(boundary)
        if position > limit // 2:
            cut = cut[:position]
            break
    return cut.rstrip(" ,;:—-") + "…"


def terms_that_fit(prefix: str, terms: Sequence[str], limit: int = SUBJECT_LIMIT) -> list[str]:
    """As many of ``terms`` as fit after ``prefix`` joined by ", " within ``limit``."""
    chosen: list[str] = []
    for term in terms:
        if len(prefix) + len(", ".join([*chosen, term])) > limit:
            break
        chosen.append(term)
    return chosen
