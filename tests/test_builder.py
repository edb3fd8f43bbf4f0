"""The digest builder: sections, ranking, the max_stories cap, clustering, summaries."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from digest.builder import build_alert, build_digest
from digest.config import DigestSpec
from digest.models import Article, Hit, Match, SourceProblem

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)


def article(key: str, title: str, body: str = "", *, source: str = "wire",
            minutes: int = 0) -> Article:
    return Article(source=source, id=key, title=title, body=body or f"{title}. More text.",
                   url=f"https://example.com/{key}", published=T0 + timedelta(minutes=minutes))


def match(art: Article, watchlist: str, term: str, score: float = 1.0) -> Match:
    hits = tuple(
        Hit(term=term, field=field, start=m.start(), end=m.end(), text=m.group())
        for field, text in (("title", art.title), ("body", art.body))
        for m in re.finditer(re.escape(term), text)
    )
    return Match(article=art, watchlist=watchlist, hits=hits, score=score)


def spec(*watchlists: str, max_stories: int = 30, sentences: int = 2) -> DigestSpec:
    return DigestSpec(name="Morning", schedule="0 7 * * mon-fri", watchlists=watchlists,
                      to=("you@example.com",), max_stories=max_stories, sentences=sentences)


class CountingSummarizer:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.titles: list[str | None] = []

    def __call__(self, text: str, *, sentences: int = 3, terms: Sequence[str] = (),
                 description: str | None = None, title: str | None = None) -> tuple[str, ...]:
        self.texts.append(text)
        self.titles.append(title)
        return (f"summary of {text[:12]}", f"{sentences} sentences, terms {list(terms)}")


def singletons(matches: Sequence[Match]) -> list[list[Match]]:
    return [[m] for m in matches]


def build(the_spec: DigestSpec, matches: Sequence[Match], **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("summarizer", CountingSummarizer())
    kwargs.setdefault("clusterer", singletons)
    return build_digest(the_spec, matches, period_start=T0 - timedelta(days=1),
                        period_end=T0, **kwargs)  # type: ignore[arg-type]


def titles(section) -> list[str]:  # type: ignore[no-untyped-def]
    return [story.lead.article.title for story in section.stories]


def test_one_section_per_watchlist_in_spec_order_and_empty_ones_left_out() -> None:
    a = article("a", "Sanctions on Russia")
    b = article("b", "Kim visits Russia")
    matches = [match(a, "Sanctions", "Sanctions"), match(b, "Korea", "Kim"),
               match(b, "Unlisted", "Kim")]
    digest = build(spec("Korea", "Empty", "Sanctions"), matches)
    assert [s.watchlist for s in digest.sections] == ["Korea", "Sanctions"]
    assert digest.name == "Morning"
    assert digest.recipients == ("you@example.com",)
    assert digest.story_count == 2


def test_recipients_and_problems_pass_through() -> None:
    problem = SourceProblem(source="BBC", error="HTTP 503", failures=2)
    digest = build(spec("Korea"), [], recipients=("other@example.com",), problems=[problem])
    assert digest.recipients == ("other@example.com",)
    assert digest.problems == (problem,)
    assert digest.is_empty


def test_stories_ranked_by_score_then_cluster_size_then_freshness() -> None:
    low = article("low", "Kim low", minutes=50)
    old = article("old", "Kim old", minutes=0)
    new = article("new", "Kim new", minutes=30)
    big = article("big", "Kim big", minutes=0)
    copy = article("copy", "Kim big copy", source="other", minutes=5)
    top = article("top", "Kim top", minutes=0)
    ms = {a.id: match(a, "Korea", "Kim", score) for a, score in
          ((low, 1.0), (old, 2.0), (new, 2.0), (big, 2.0), (copy, 1.5), (top, 5.0))}

    def pair_big(matches: Sequence[Match]) -> list[list[Match]]:
        return [[ms["big"], ms["copy"]], *([m] for m in matches if m.article.id not in
                                          {"big", "copy"})]

    digest = build(spec("Korea"), list(ms.values()), clusterer=pair_big)
    assert titles(digest.sections[0]) == ["Kim top", "Kim big", "Kim new", "Kim old", "Kim low"]
    story = digest.sections[0].stories[1]
    assert [m.article.id for m in story.others] == ["copy"]


def test_representative_is_highest_score_then_earliest() -> None:
    later = article("later", "Kim later", source="b", minutes=20)
    earlier = article("earlier", "Kim earlier", source="c", minutes=10)
    weaker = article("weaker", "Kim weaker", source="d", minutes=0)
    matches = [match(later, "Korea", "Kim", 3.0), match(earlier, "Korea", "Kim", 3.0),
               match(weaker, "Korea", "Kim", 1.0)]
    digest = build(spec("Korea"), matches, clusterer=lambda ms: [list(ms)])
    (story,) = digest.sections[0].stories
    assert story.lead.article.id == "earlier"
    assert {m.article.source for m in story.others} == {"b", "d"}


def test_max_stories_caps_each_section_and_counts_the_rest() -> None:
    matches = [match(article(f"k{i}", f"Kim {i}"), "Korea", "Kim", float(i)) for i in range(7)]
    digest = build(spec("Korea", max_stories=3), matches)
    section = digest.sections[0]
    assert titles(section) == ["Kim 6", "Kim 5", "Kim 4"]
    assert section.more == 4


def test_only_stories_that_go_in_are_summarized() -> None:
    summarizer = CountingSummarizer()
    matches = [match(article(f"k{i}", f"Kim {i}", f"Body {i} of Kim."), "Korea", "Kim",
                     float(i)) for i in range(10)]
    digest = build(spec("Korea", max_stories=2, sentences=2), matches, summarizer=summarizer)
    assert sorted(summarizer.texts) == ["Body 8 of Kim.", "Body 9 of Kim."]
    assert sorted(summarizer.titles) == ["Kim 8", "Kim 9"]  # the headline guides the summary
    story = digest.sections[0].stories[0]
    assert story.summary == ("summary of Body 9 of Ki", "2 sentences, terms ['Kim']")


def test_title_and_snippet_are_highlighted() -> None:
    art = article("a", "Putin accepts Kim Jong Un’s invitation",
                  "Putin has accepted Kim Jong Un’s invitation to go to North Korea.")
    digest = build(spec("Korea"), [match(art, "Korea", "Kim Jong Un’s")])
    story = digest.sections[0].stories[0]
    assert [s.text for s in story.title if s.marked] == ["Kim Jong Un’s"]
    assert [s.text for s in story.snippet if s.marked] == ["Kim Jong Un’s"]


def test_snippet_falls_back_to_the_title_without_body_hits() -> None:
    art = article("a", "Kim in Moscow", "The leader arrived by train.")
    story = build(spec("Korea"), [match(art, "Korea", "Kim")]).sections[0].stories[0]
    assert story.snippet == story.title


def test_alerted_articles_are_marked() -> None:
    matches = [match(article("a", "Kim a"), "Korea", "Kim", 2.0),
               match(article("b", "Kim b"), "Korea", "Kim", 1.0)]
    digest = build(spec("Korea"), matches, alerted=frozenset({"b"}))
    assert [s.alerted for s in digest.sections[0].stories] == [False, True]


def test_same_article_twice_in_a_watchlist_is_one_story() -> None:
    art = article("a", "Kim a")
    twice = [match(art, "Korea", "Kim", 1.0), match(art, "Korea", "Kim", 2.0)]
    digest = build(spec("Korea"), twice)
    assert digest.story_count == 1
    assert digest.sections[0].stories[0].lead.score == 2.0


def test_default_summarizer_and_clusterer_work_on_real_text() -> None:
    body = ("Vladimir Putin has accepted Kim Jong Un's invitation to go to North Korea. "
            "The Kremlin confirmed the journey on Thursday. Mr Kim is in Russia.")
    a = article("a", "Putin accepts Kim invitation", body, source="one")
    b = article("b", "Putin accepts Kim invitation", body, source="two", minutes=5)
    digest = build_digest(spec("Korea"), [match(a, "Korea", "Kim"), match(b, "Korea", "Kim")],
                          period_start=T0 - timedelta(days=1), period_end=T0)
    (story,) = digest.sections[0].stories
    assert story.lead.article.id == "a"
    assert [m.article.source for m in story.others] == ["two"]
    assert story.summary and all(sentence in body for sentence in story.summary)


def test_alert_has_a_section_per_watchlist_and_no_cap() -> None:
    matches = [match(article(f"k{i}", f"Kim {i}"), "Korea", "Kim") for i in range(40)]
    matches.append(match(article("s", "New sanctions"), "Sanctions", "sanctions"))
    alert = build_alert(matches, at=T0, recipients=("you@example.com",),
                        summarizer=CountingSummarizer(), clusterer=singletons)
    assert alert.name == "Alert"
    assert [s.watchlist for s in alert.sections] == ["Korea", "Sanctions"]
    assert alert.story_count == 41
    assert alert.period_end == T0
