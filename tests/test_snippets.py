"""Highlighting: marked text is exactly the hit slices of the original text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from digest.models import Field, Hit, Segment
from digest.snippets import ELLIPSIS, snippet_segments, title_segments


def hits_of(field: Field, text: str, *terms: str) -> list[Hit]:
    found = []
    for term in terms:
        for m in re.finditer(re.escape(term), text):
            found.append(Hit(term=term, field=field, start=m.start(), end=m.end(), text=m.group()))
    return found


def marked(segments: tuple[Segment, ...]) -> list[str]:
    return [s.text for s in segments if s.marked]


def test_title_marks_the_hit_slices_with_curly_apostrophes_kept() -> None:
    title = "Vladimir Putin ‘gratefully accepts’ Kim Jong Un’s invitation to go to North Korea"
    hits = hits_of("title", title, "Kim Jong Un’s", "North Korea")
    segments = title_segments(title, hits)
    assert "".join(s.text for s in segments) == title
    assert marked(segments) == ["Kim Jong Un’s", "North Korea"]


def test_body_hits_do_not_mark_the_title() -> None:
    title = "Kim meets Putin"
    assert title_segments(title, hits_of("body", title, "Kim")) == (Segment(title),)


def test_hits_whose_offsets_do_not_fit_the_text_are_ignored() -> None:
    title = "Kim meets Putin"
    stale = Hit(term="Putin", field="title", start=3, end=99, text="Putin")
    wrong = Hit(term="Putin", field="title", start=0, end=5, text="Putin")
    assert title_segments(title, [stale, wrong]) == (Segment(title),)


def test_overlapping_hits_become_one_mark() -> None:
    title = "North Korea sanctions"
    hits = hits_of("title", title, "North Korea", "Korea sanctions")
    assert marked(title_segments(title, hits)) == ["North Korea sanctions"]


def test_snippet_is_context_around_the_hit_cut_at_words() -> None:
    words = " ".join(f"word{i}" for i in range(200))
    body = f"{words}. The US warned it would slap further sanctions on the two nations. {words}."
    segments = snippet_segments(body, hits_of("body", body, "sanctions"))
    text = "".join(s.text for s in segments)
    assert marked(segments) == ["sanctions"]
    assert text.startswith("… The US warned")  # starts at the sentence when it is close
    assert text.endswith(" …")
    assert 150 <= len(text) <= 320
    inner = text.removeprefix("… ").removesuffix(" …")
    assert inner in body  # no word cut in half, nothing invented
    assert re.search(r"\b" + re.escape(inner.split()[-1]) + r"\b", body)


def test_snippet_prefers_the_window_with_most_hits() -> None:
    filler = "lorem ipsum dolor " * 40
    body = f"Kim arrived. {filler} Kim met Putin and Kim toasted Putin. {filler}"
    segments = snippet_segments(body, hits_of("body", body, "Kim", "Putin"))
    assert marked(segments) == ["Kim", "Putin", "Kim", "Putin"]


def test_short_body_is_shown_whole_without_ellipsis() -> None:
    body = "Mr Kim is in Russia.\nHe will stay a week."
    segments = snippet_segments(body, hits_of("body", body, "Russia"))
    assert "".join(s.text for s in segments) == "Mr Kim is in Russia. He will stay a week."
    assert ELLIPSIS not in "".join(s.text for s in segments)


def test_no_body_hit_gives_no_snippet() -> None:
    assert snippet_segments("Some body.", hits_of("title", "Kim", "Kim")) == ()


@given(st.text(min_size=1, max_size=600), st.data())
def test_marked_segments_are_always_the_hit_slices(body: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(body) - 1))
    end = data.draw(st.integers(start + 1, len(body)))
    hit = Hit(term="x", field="body", start=start, end=end, text=body[start:end])
    segments = snippet_segments(body, [hit])
    assert marked(segments) == [body[start:end]]


def test_a_hit_longer_than_the_snippet_is_shown_not_a_crash() -> None:
    body = "word " * 100
    hit = Hit("/(word )+/", "body", 0, 300, body[:300])
    segments = snippet_segments(body, (hit,))
    assert any(s.marked and s.text == body[:300] for s in segments)


def test_snippet_starts_at_its_sentence_not_after_an_abbreviation() -> None:
    body = ("Something happened first in a long opening sentence here. Officials said "
            "Mr. Kim arrived in Moscow on Tuesday for talks. " + "More words follow here. " * 20)
    start = body.index("Moscow")
    text = "".join(s.text for s in snippet_segments(body, (Hit("Moscow", "body", start,
                                                               start + 6, "Moscow"),)))
    assert text.startswith(f"{ELLIPSIS} Officials said Mr. Kim arrived")
