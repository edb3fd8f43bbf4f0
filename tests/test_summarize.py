"""Extractive summaries: exact sentences, in order, favouring central and matched ones."""

from __future__ import annotations

import random

import pytest

from digest.summarize import summarize

from .conftest import CORPUS, REPO

SEED = REPO / "seeds" / "000_75e658c5dd6fd6c5.txt"
BBC = CORPUS / "articles" / "bbc"
REFERENCES = CORPUS / "summaries" / "bbc"


def seed_article() -> tuple[str, str]:
    title, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    return title, body


def flat(text: str) -> str:
    return " ".join(text.split())


def test_seed_summary_is_exact_sentences_in_order() -> None:
    title, body = seed_article()
    chosen = summarize(body, title=title)
    assert len(chosen) == 3
    positions = [flat(body).index(sentence) for sentence in chosen]
    assert positions == sorted(positions)
    for sentence in chosen:
        assert sentence == sentence.strip() and "\n" not in sentence
        assert sentence in body or sentence in body.replace("subsequent\nmonth", "subsequent month")


def test_seed_summary_never_picks_boilerplate() -> None:
    title, body = seed_article()
    for count in (1, 3, 8):
        chosen = summarize(body, sentences=count, terms=["Crimea", "Russia"], title=title)
        assert len(chosen) == count
        assert not any(s.startswith(("Read extra", "Growing criticism")) for s in chosen)


def test_hard_wrapped_sentence_comes_back_joined() -> None:
    _, body = seed_article()
    chosen = summarize(body, sentences=2, terms=["Lavrov"])
    assert ("Kremlin spokesman Dmitry Peskov additionally confirmed Russian Foreign Minister "
            "Sergei Lavrov will go to Pyongyang subsequent month.") in chosen


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_count_is_respected(count: int) -> None:
    _, body = seed_article()
    assert len(summarize(body, sentences=count)) == count


def test_matched_terms_pull_their_sentence_in() -> None:
    _, body = seed_article()
    term_sentence = ("South Korea, in the meantime, expressed “deep concerns” over potential "
                     "army cooperation.")
    assert term_sentence not in summarize(body, sentences=3)
    assert term_sentence in summarize(body, sentences=3, terms=["South Korea"])


def test_term_matching_is_whole_word_and_case_insensitive() -> None:
    text = ("The council met on Monday to discuss the budget for the coming year in detail. "
            "Members argued about the budget for roads, schools and the new library. "
            "The budget vote was delayed until the next meeting of the full council. "
            "A resident asked about KIMBERLEY road repairs near the old market square. "
            "Council officials said the budget would be published later this month. "
            "The council leader said the budget for schools would not be cut this year. "
            "Opposition members said the council budget was too small for the roads. ")
    assert not any("KIMBERLEY" in s for s in summarize(text, sentences=3, terms=["Kim"]))
    assert any("KIMBERLEY" in s for s in summarize(text, sentences=3, terms=["kimberley"]))


def test_short_text_falls_back_to_its_first_sentences() -> None:
    text = "Storm closes the port. Ferries were cancelled on Tuesday."
    assert summarize(text, sentences=3) == ("Storm closes the port.",
                                            "Ferries were cancelled on Tuesday.")
    assert summarize(text, sentences=1) == ("Storm closes the port.",)


def test_text_without_prose_falls_back_to_the_description() -> None:
    description = " ".join(["word"] * 40 + ["Pyongyang"] * 40)
    chosen = summarize("Read more\nShare this\n", description=description)
    assert len(chosen) == 1
    assert chosen[0].endswith("…") and len(chosen[0]) <= 301
    assert description.startswith(chosen[0][:-1])
    assert summarize("", description="Talks resume  in\nGeneva.") == ("Talks resume in Geneva.",)
    assert summarize("", description=None) == ()
    assert summarize("Some text. More text.", sentences=0) == ()


def test_long_input_is_capped_not_failed() -> None:
    _, body = seed_article()
    huge = body + "\n" + "Filler sentence about nothing at all. " * 20_000
    chosen = summarize(huge)
    assert len(chosen) == 3 and all(s in flat(huge) for s in chosen)


def read(path):  # type: ignore[no-untyped-def]
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


@pytest.mark.skipif(not BBC.is_dir(), reason="BBC corpus not available")
def test_beats_lead_3_on_a_bbc_sample() -> None:
    from rouge_score import rouge_scorer

    from digest.sentences import split_sentences

    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    paths = random.Random(5).sample(sorted(BBC.glob("*/*.txt")), 100)
    ours = lead = 0.0
    for path in paths:
        title, _, body = read(path).partition("\n")
        reference = read(REFERENCES / path.parent.name / path.name)
        mine = summarize(body, sentences=3, title=title)
        first = [s.text for s in split_sentences(body) if not s.boilerplate][:3]
        ours += scorer.score(reference, " ".join(mine))["rouge1"].fmeasure
        lead += scorer.score(reference, " ".join(first))["rouge1"].fmeasure
    assert ours > lead
