"""Sentence splitting and the boilerplate no summary may pick."""

from __future__ import annotations

import pytest

from digest.sentences import is_boilerplate_line, split_sentences

from .conftest import REPO

SEED = REPO / "seeds" / "000_75e658c5dd6fd6c5.txt"


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Troops left the U.S. Army base. They went home.",
     ["Troops left the U.S. Army base.", "They went home."]),
    ("Talks broke down in the U.S. The markets fell.",
     ["Talks broke down in the U.S.", "The markets fell."]),
    ("Mr Kim arrived. Mr. Putin waited.", ["Mr Kim arrived.", "Mr. Putin waited."]),
    ("Dr. Samuel Jones spoke. He was brief.", ["Dr. Samuel Jones spoke.", "He was brief."]),
    ("Sales rose 2% to $11.1bn from $10.9bn. Profits fell.",
     ["Sales rose 2% to $11.1bn from $10.9bn.", "Profits fell."]),
    ("It began in Jan. 2019 in London. It ended later.",
     ["It began in Jan. 2019 in London.", "It ended later."]),
    ("J. K. Rowling and George W. Bush met. Nobody knows why.",
     ["J. K. Rowling and George W. Bush met.", "Nobody knows why."]),
    ('"We will win," he said. "They will not." Then he left.',
     ['"We will win," he said.', '"They will not."', "Then he left."]),
    ("He paused... Then he spoke. Wait… What?",
     ["He paused...", "Then he spoke.", "Wait…", "What?"]),
    ("Is it over? Yes! It is.", ["Is it over?", "Yes!", "It is."]),
    ("Shares of eBay rose. iPod sales doubled.", ["Shares of eBay rose.", "iPod sales doubled."]),
    ("It opens at 9 a.m. on Monday. Come early.",
     ["It opens at 9 a.m. on Monday.", "Come early."]),
])
def test_splits_news_sentences(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_lines_and_paragraphs_are_hard_boundaries() -> None:
    text = "Growing criticism\nThe US warned it would act\n\nA new paragraph starts here."
    assert texts(text) == ["Growing criticism", "The US warned it would act",
                           "A new paragraph starts here."]


def test_spans_point_into_the_original_text() -> None:
    text = "  First one here.  Second one,\nwrapped mid-sentence.\n\nThird.\n"
    for sentence in split_sentences(text):
        assert text[sentence.start:sentence.end].replace("\n", " ") == sentence.text


def test_seed_hard_wrap_is_joined() -> None:
    text = SEED.read_text(encoding="utf-8")
    found = [s for s in split_sentences(text) if "Pyongyang subsequent" in s.text]
    assert [s.text for s in found] == [
        "Kremlin spokesman Dmitry Peskov additionally confirmed Russian Foreign Minister "
        "Sergei Lavrov will go to Pyongyang subsequent month."]
    assert text[found[0].start:found[0].end].endswith("subsequent\nmonth.")


def test_seed_read_extra_line_is_boilerplate() -> None:
    sentences = split_sentences(SEED.read_text(encoding="utf-8"))
    flagged = {s.text for s in sentences if s.boilerplate}
    assert "Read extra: Explosions reported in Crimea – Ukraine war latest" in flagged
    assert "Growing criticism" in flagged  # a heading
    assert not any(s.boilerplate for s in sentences if s.text.startswith("Vladimir Putin has"))


@pytest.mark.parametrize("line", [
    "Read more: Why the talks failed", "READ MORE", "Read extra: Explosions in Crimea",
    "Related: Five things to know", "See also: the timeline", "By John Smith",
    "By Jane Doe, BBC News", "Reporting by Jane Doe; Editing by Tom Lee", "Image caption",
    "Image caption The leaders met in Vladivostok", "Photo: Reuters", "Copyright 2024 AFP",
    "© Reuters 2024", "Sign up for our newsletter", "Share this article", "Share this with",
    "Follow us on Twitter", "Toast to victory for ‘nice Russia’", "https://example.com/x",
])
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize("line", [
    "By the end of the year, sales had doubled.",
    "Mr Kim is presently in Russia, where he has vowed to support the war.",
    "Photographers waited outside the court for hours.",
    "Sharing the prize were two scientists from Leeds.",
])
def test_prose_is_not_boilerplate(line: str) -> None:
    assert not is_boilerplate_line(line)


def test_empty_and_blank_text() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\n \n") == []
