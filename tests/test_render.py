"""The renderer: the HTML parsed and checked, the text part's layout, golden files.

Regenerate the golden files after an intended change with

    DIGEST_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render.py
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.builder import build_alert, build_digest
from digest.config import DigestSpec
from digest.mail import build_message
from digest.models import Article, Digest, Hit, Match, RenderedMail, SourceProblem
from digest.render import Renderer

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("DIGEST_UPDATE_GOLDEN") == "1"  # read before conftest clears it
LONDON = ZoneInfo("Europe/London")
END = datetime(2023, 9, 15, 6, 0, tzinfo=timezone.utc)
SEED_TITLE = "Vladimir Putin ‘gratefully accepts’ Kim Jong Un’s invitation to go to North Korea"
SEED_BODY = (
    "Vladimir Putin has “gratefully accepted” accepted Kim Jong Un’s invitation to go to "
    "North Korea.\nThe Kremlin confirmed the journey on Thursday after the 2 males held a "
    "uncommon summit in Russia’s Far East.\nMr Kim is presently in Russia, the place he has "
    "vowed to support the Kremlin’s “sacred war” towards Ukraine.\nIf an arms deal was to be "
    "reached, the US warned it “won’t hesitate” to slap further sanctions on the 2 nations."
)


def hits(article: Article, *terms: str) -> tuple[Hit, ...]:
    return tuple(
        Hit(term=term, field=field, start=m.start(), end=m.end(), text=m.group())
        for term in terms
        for field, text in (("title", article.title), ("body", article.body))
        for m in re.finditer(re.escape(term), text)
    )


def lead_two(text: str, *, sentences: int = 3, terms: Sequence[str] = (),
             description: str | None = None, title: str | None = None) -> tuple[str, ...]:
    return tuple(text.splitlines()[:2])


def by_title(matches: Sequence[Match]) -> list[list[Match]]:
    groups: dict[str, list[Match]] = {}
    for match in matches:
        groups.setdefault(match.article.title.split(":")[0], []).append(match)
    return list(groups.values())


def sample_digest() -> Digest:
    seed = Article(source="seeds", id="seed", title=SEED_TITLE, body=SEED_BODY,
                   url="https://example.com/putin-kim", published=END - timedelta(hours=22))
    copy = Article(source="BBC World", id="bbc", title=SEED_TITLE, body=SEED_BODY,
                   url="https://bbc.example/news/1", published=END - timedelta(hours=21))
    hostile = Article(
        source="Evil <b>Feed</b>", id="evil",
        title='<script>alert("x")</script> North Korea & "friends"',
        body="North Korea <img src=x onerror=alert(1)> javascript:alert(1)",
        url="javascript:alert(1)", published=END - timedelta(hours=3),
    )
    korea = [Match(article=a, watchlist="Korea", hits=hits(a, "Kim Jong Un’s", "North Korea"),
                   score=score) for a, score in ((seed, 5.0), (copy, 4.0), (hostile, 1.0))]
    sanctions = [Match(article=seed, watchlist="Sanctions", hits=hits(seed, "sanctions"),
                       score=1.0)]
    spec = DigestSpec(name="Morning briefing", schedule="0 7 * * mon-fri",
                      watchlists=("Korea", "Sanctions"), to=("you@example.com",))
    problem = SourceProblem(source="Reuters", error="HTTP 503 <Service Unavailable>",
                            failures=3, since=END - timedelta(hours=5))
    return build_digest(spec, [*korea, *sanctions], period_start=END - timedelta(days=1),
                        period_end=END, problems=[problem], alerted=frozenset({"evil"}),
                        summarizer=lead_two, clusterer=by_title)


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(templates_dir=None, timezone=LONDON)


@pytest.fixture
def mail(renderer: Renderer) -> RenderedMail:
    return renderer.render_digest(sample_digest())


class Parsed(HTMLParser):
    """Start tags, attributes and the text of headlines, as a mail client would see them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.headlines: list[str] = []
        self.styles: list[str] = []
        self._in: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        self.hrefs += [value or "" for name, value in attrs if name == "href"]
        if tag in {"h3", "style"}:
            self._in.append(tag)
            (self.headlines if tag == "h3" else self.styles).append("")

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if "h3" in self._in:
            self.headlines[-1] += data
        elif "style" in self._in:
            self.styles[-1] += data


def test_every_story_headline_is_present_and_linked_only_over_http(mail: RenderedMail) -> None:
    page = Parsed(mail.html)
    assert page.headlines == [SEED_TITLE, '<script>alert("x")</script> North Korea & "friends"',
                              SEED_TITLE]
    external = [href for href in page.hrefs if not href.startswith("#")]
    assert external and all(re.match(r"https?://", href) for href in external)
    assert "https://example.com/putin-kim" in external
    assert "https://bbc.example/news/1" in external  # "also reported by"


def test_feed_text_never_adds_markup(mail: RenderedMail) -> None:
    page = Parsed(mail.html)
    assert "script" not in page.tags and "img" not in page.tags and "b" not in page.tags
    assert not any(name.startswith("on") for name, _ in page.attrs)
    assert "javascript:" not in " ".join(page.hrefs)
    assert "&lt;script&gt;" in mail.html
    assert "Evil &lt;b&gt;Feed&lt;/b&gt;" in mail.html


def test_matched_words_are_highlighted(mail: RenderedMail) -> None:
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", mail.html)
    assert "Kim Jong Un’s" in marks and "North Korea" in marks and "sanctions" in marks
    assert "*Kim Jong Un’s*" in mail.text


def test_css_is_inlined_and_media_queries_kept(mail: RenderedMail) -> None:
    page = Parsed(mail.html)
    assert any("@media" in style and "prefers-color-scheme: dark" in style
               for style in page.styles)
    assert re.search(r'<td class="story" style="[^"]*background-color', mail.html)
    assert 'width="600"' in mail.html


def test_top_shows_period_in_local_time_and_links_to_sections(mail: RenderedMail) -> None:
    assert "Thu 14 Sep 07:00 – Fri 15 Sep 07:00 (Europe/London)" in mail.html
    assert 'href="#section-1"' in mail.html and 'id="section-2"' in mail.html
    assert "Thu 14 Sep 09:00" in mail.html  # the seed's time, BST


def test_footer_names_problem_sources_and_how_to_change_watchlists(mail: RenderedMail) -> None:
    for part in (mail.html, mail.text):
        assert "Reuters" in part and "digest check" in part and "[[watchlists]]" in part
    assert "already alerted" in mail.html and "already alerted" in mail.text


def test_text_part_is_wrapped_at_72_columns_with_numbered_links(mail: RenderedMail) -> None:
    long_lines = [line for line in mail.text.splitlines() if len(line) > 72]
    assert all(re.fullmatch(r"\[\d+\] https?://\S+", line) for line in long_lines)
    references = dict(re.findall(r"^\[(\d+)\] (\S+)$", mail.text, re.MULTILINE))
    assert references == {"1": "https://example.com/putin-kim", "2": "https://bbc.example/news/1"}
    assert "javascript:" not in mail.text.split("Links:")[1]
    assert "Also reported by BBC World [2]" in mail.text


def test_subject_names_the_digest_and_top_terms(mail: RenderedMail) -> None:
    assert mail.subject == "Morning briefing: 2 stories — Kim Jong Un’s, North Korea, sanctions"
    assert len(mail.subject) <= 70


def test_long_subjects_are_cut_to_about_70_characters(renderer: Renderer) -> None:
    digest = sample_digest()
    long = Digest(name="A digest with a very long name indeed, " * 3, period_start=END,
                  period_end=END, recipients=(), sections=digest.sections)
    subject = renderer.render_digest(long).subject
    assert len(subject) <= 70 and subject.endswith("…") and "\n" not in subject


def test_empty_digest_renders(renderer: Renderer) -> None:
    empty = Digest(name="Morning briefing", period_start=END - timedelta(days=1),
                   period_end=END, recipients=(), sections=())
    mail = renderer.render_digest(empty)
    assert mail.subject == "Morning briefing: nothing new"
    assert "Nothing new matched" in mail.html and "Nothing new matched" in mail.text


def test_templates_dir_overrides_one_file(tmp_path: Path) -> None:
    (tmp_path / "digest.subject.txt").write_text("{{ digest.name }} (custom)\n")
    mail = Renderer(templates_dir=tmp_path, timezone=LONDON).render_digest(sample_digest())
    assert mail.subject == "Morning briefing (custom)"
    assert SEED_TITLE in Parsed(mail.html).headlines  # the rest is still bundled


def test_alert_renders_its_stories(renderer: Renderer) -> None:
    digest = sample_digest()
    matches = [digest.sections[0].stories[0].lead]
    alert = build_alert(matches, at=END, recipients=("you@example.com",), summarizer=lead_two)
    mail = renderer.render_alert(alert)
    assert mail.subject.startswith("Alert: Kim Jong Un’s, North Korea — Vladimir Putin")
    assert len(mail.subject) <= 70
    assert Parsed(mail.html).headlines == [SEED_TITLE]
    assert "[1] https://example.com/putin-kim" in mail.text


@pytest.mark.parametrize("kind", ["digest", "alert"])
def test_golden_files(renderer: Renderer, kind: str) -> None:
    digest = sample_digest()
    if kind == "alert":
        leads = [story.lead for section in digest.sections for story in section.stories]
        digest = build_alert(leads, at=END, recipients=(), summarizer=lead_two,
                             clusterer=by_title)
        mail = renderer.render_alert(digest)
    else:
        mail = renderer.render_digest(digest)
    for suffix, produced in (("subject.txt", mail.subject + "\n"), ("txt", mail.text),
                             ("html", mail.html)):
        path = GOLDEN / f"{kind}.{suffix}"
        if UPDATE_GOLDEN:
            path.parent.mkdir(exist_ok=True)
            path.write_text(produced, encoding="utf-8")
        assert produced == path.read_text(encoding="utf-8"), f"{path} differs"


def test_golden_message(renderer: Renderer) -> None:
    """The whole MIME message, clock and boundary injected: what a mail server receives."""
    digest = sample_digest()
    message = build_message(renderer.render_digest(digest), kind="digest", name=digest.name,
                            sender="News Digest <digest@example.org>",
                            recipients=("reader@example.org",),
                            message_id="<digest.golden@example.org>", date=END,
                            boundary="==golden-boundary==")
    produced = message.raw.decode("utf-8")
    path = GOLDEN / "digest.eml"
    if UPDATE_GOLDEN:
        path.write_bytes(message.raw)
    assert produced == path.read_bytes().decode("utf-8"), f"{path} differs"


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=80)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=TEXT.filter(str.strip), body=TEXT, source=TEXT, url=st.text(max_size=40))
def test_any_article_text_renders_escaped(renderer: Renderer, title: str, body: str,
                                          source: str, url: str) -> None:
    article = Article(source=source, id="x", title=title, body=body or "x", url=url)
    match = Match(article=article, watchlist="<i>W</i>", hits=(), score=1.0)
    spec = DigestSpec(name="D", schedule="0 7 * * *", watchlists=("<i>W</i>",), to=())
    digest = build_digest(spec, [match], period_start=END, period_end=END,
                          summarizer=lead_two, clusterer=lambda ms: [list(ms)])
    mail = renderer.render_digest(digest)
    page = Parsed(mail.html)
    assert page.headlines == [title]
    assert set(page.tags) <= {"html", "head", "meta", "title", "style", "body", "table",
                              "tbody", "tr", "td", "p", "h1", "h2", "h3", "a", "span", "mark",
                              "code", "br"}
    assert all(re.match(r"(https?://|#section-)", href) for href in page.hrefs)
