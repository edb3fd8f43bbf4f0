"""The matcher against DESIGN.md's watchlist table, the seed article and real BBC text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.config import Watchlist
from digest.errors import QueryError
from digest.matcher import (
    Matcher,
    WatchlistQueryError,
    _compile,
    compile_query,
    validate_watchlist,
)
from digest.models import Article, Match
from digest.normalize import normalize_text
from tests.conftest import CORPUS, REPO

SEED = REPO / "seeds" / "000_75e658c5dd6fd6c5.txt"


def article(title: str, body: str = "") -> Article:
    return Article(source="test", id="1", title=title, body=body)


def match(query: str, title: str, body: str = "") -> Match | None:
    found = compile_query(query).match(article(title, body))
    return found[0] if found else None


# (query, text, matches?) — text is the body unless it starts with "T:" (the headline).
TABLE = [
    # `Kim Jong Un`: these words in this order, whole words, case-insensitive
    ("Kim Jong Un", "Leader kim jong un spoke", True),
    ("Kim Jong Un", "KIM JONG UN", True),
    ("Kim Jong Un", "Un Jong Kim", False),
    ("Kim Jong Un", "Kim Jong Unification", False),
    # `"sanctions"`: exactly these words, no plural/possessive variants
    ('"sanctions"', "new sanctions on oil", True),
    ('"sanctions"', "a sanction on oil", False),
    ('"sanction"', "the sanction's scope", False),
    ("sanctions", "a sanction on oil", True),
    # `sanction*`: any word that starts with sanction
    ("sanction*", "they sanctioned banks", True),
    ("sanction*", "Sanctioning is hard", True),
    ("sanction*", "unsanctioned trade", False),
    # `NATO`, `US`: 2–5 capitals never match the all-lowercase word
    ("US", "the US said", True),
    ("US", "tell us more", False),
    ("NATO", "NATO allies", True),
    ("NATO", "Nato allies", True),
    ("NATO", "nato allies", False),
    ("us", "the US said", True),
    # title: scoping
    ("title:Putin", "T:Putin visits", True),
    ("title:Putin", "Putin visits", False),
    ('title:"North Korea"', "T:Trip to North Korea", True),
    ('title:"North Korea"', "Trip to North Korea", False),
    # NEAR/n, either order; NEAR alone is 10
    ("Putin NEAR/8 Kim", "Putin met Kim", True),
    ("Putin NEAR/8 Kim", "Kim met Putin", True),
    ("Putin NEAR/2 Kim", "Putin met with the leader Kim", False),
    ("Putin NEAR Kim", "Putin " + "word " * 9 + "Kim", True),
    ("Putin NEAR Kim", "Putin " + "word " * 10 + "Kim", False),
    # boolean operators
    ("oil AND gas", "oil and gas", True),
    ("oil AND gas", "oil only", False),
    ("oil OR gas", "gas only", True),
    ("oil NOT gas", "oil only", True),
    ("oil NOT gas", "oil and gas", False),
    ("NOT gas", "oil only", True),
    ("NOT gas", "gas only", False),
    ("oil AND (gas OR coal)", "oil and coal", True),
    ("oil AND (gas OR coal)", "coal only", False),
    ("oil AND gas OR coal", "coal only", True),
    # regex: case-insensitive over the original text
    (r"/Kim Jong[- ]?(Un|Il)/", "KIM JONG-IL", True),
    (r"/Kim Jong[- ]?(Un|Il)/", "Kim Jong Nam", False),
    # normalization: NFKC and case folding
    ("finance", "\ufb01nance news", True),
    ("Strasse", "die STRA\u00dfE", True),
    ("tokyo", "\uff34\uff4f\uff4b\uff59\uff4f", True),
    # curly quotes and apostrophes become straight ones
    ("O'Brien", "said O\u2019Brien", True),
    # hyphens and dashes count as a space
    ("Kim Jong Un", "Kim Jong-un", True),
    ("Kim Jong-un", "Kim Jong Un", True),
    ("Kim Jong Un", "Kim Jong\u2011un", True),
    ("Kim Jong Un", "Kim Jongun", False),
    # diacritics are folded
    ("Pyongyang", "Py\u014fngyang", True),
    ("Erdogan", "Erdo\u011fan", True),
    ("Erdo\u011fan", "Erdogan", True),
    # line breaks are spaces
    ("North Korea", "North\nKorea", True),
    ("North Korea", "NorthKorea", False),
    # plural and possessive forms, both ways
    ("sanction", "sanctions", True),
    ("sanctions", "sanction", True),
    ("tax", "taxes", True),
    ("taxes", "tax", True),
    ("policy", "policies", True),
    ("policies", "policy", True),
    ("Kim Jong Un", "Kim Jong Un\u2019s", True),
    ("Kim", "the Kims\u2019 rule", True),
    ("Kim", "Kim's", True),
    # whole words only
    ("Kim", "Kimberley", False),
    ("G7", "the G77 group", False),
    ("G7", "the G7 group", True),
    ("ball", "fotball", False),
    ("C++", "written in C++ mostly", True),
    ("C++", "written in C+ mostly", False),
    ("AT&T", "shares of AT&T fell", True),
    ("AT&T", "shares of AT&Tx fell", False),
]


@pytest.mark.parametrize(("query", "text", "expected"), TABLE)
def test_watchlist_language(query: str, text: str, expected: bool) -> None:
    title, body = (text[2:], "") if text.startswith("T:") else ("Headline", text)
    assert (match(query, title, body) is not None) is expected


@pytest.mark.parametrize(("query", "text", "expected"), TABLE)
def test_same_rules_in_terms_lists(query: str, text: str, expected: bool) -> None:
    title, body = (text[2:], "") if text.startswith("T:") else ("Headline", text)
    matcher = Matcher([Watchlist(name="w", terms=("zzzunused", query))])
    assert bool(matcher.match(article(title, body))) is expected


@pytest.mark.parametrize(
    ("text", "highlight"),
    [
        ("Kim Jong\u2011un\u2019s visit", "Kim Jong\u2011un\u2019s"),
        ("on the Stra\u00dfe", "Stra\u00dfe"),
        ("the \ufb01nance desk", "\ufb01nance"),
    ],
)
def test_hits_point_into_the_original(text: str, highlight: str) -> None:
    query = normalize_text(highlight).removesuffix("'s")
    found = match(query, "Headline", text)
    assert found is not None
    (hit,) = found.hits
    assert (hit.field, hit.start, hit.text) == ("body", text.index(highlight), highlight)
    assert text[hit.start : hit.end] == highlight


def test_exclude_vetoes() -> None:
    matcher = Matcher([Watchlist(name="Korea", terms=("Korea",), exclude=("K-pop",))])
    assert matcher.match(article("North Korea talks"))
    assert not matcher.match(article("Korea's K-Pop stars"))


def test_not_branch_hits_are_not_reported() -> None:
    found = match("oil NOT gas", "oil news", "no gas at all")
    assert found is None
    found = match("oil OR (coal NOT gas)", "oil news", "coal")
    assert found is not None and {h.term for h in found.hits} == {"oil", "coal"}


def test_headline_hits_outrank_body_hits_with_diminishing_repeats() -> None:
    title_hit = match("Putin", "Putin visits", "nothing")
    body_hit = match("Putin", "Visit", "Putin came")
    many = match("Putin", "Visit", "Putin " * 20)
    assert title_hit and body_hit and many
    assert title_hit.score > body_hit.score
    assert many.score < 20 * body_hit.score
    assert set(title_hit.score_parts) >= {"title", "body", "distinct_terms"}


def test_all_watchlists_in_one_matcher() -> None:
    matcher = Matcher([
        Watchlist(name="Korea", terms=("Kim Jong Un", "Pyongyang")),
        Watchlist(name="Sanctions", query='sanction* AND (Russia OR "North Korea")'),
        Watchlist(name="Other", terms=("banana",)),
    ])
    found = matcher.match(article("Kim Jong Un in Russia", "New sanctions announced"))
    assert [m.watchlist for m in found] == ["Korea", "Sanctions"]


def test_validate_names_the_entry() -> None:
    validate_watchlist(Watchlist(name="ok", terms=("a",), query=None))
    with pytest.raises(QueryError) as caught:
        validate_watchlist(Watchlist(name="Korea", terms=("Kim", "(Kim"), exclude=()))
    assert isinstance(caught.value, WatchlistQueryError)
    assert caught.value.entry == "terms[2]" and caught.value.watchlist == "Korea"
    assert "Korea" in str(caught.value) and "terms[2]" in str(caught.value)


# --- the seed article ---------------------------------------------------------------------


def _seed() -> Article:
    title, body = SEED.read_text(encoding="utf-8").strip().split("\n", 1)
    return article(title, body)


@pytest.mark.parametrize(
    ("query", "in_title"),
    [
        ("Kim Jong Un", True),
        ("sanctions", False),
        ("North Korea", True),
        ("title:Putin", True),
        ('Putin NEAR/10 "Kim Jong Un"', False),
    ],
)
def test_seed_article(query: str, in_title: bool) -> None:
    found = compile_query(query).match(_seed())
    assert found, query
    assert any(hit.field == "title" for hit in found[0].hits) is in_title
    for hit in found[0].hits:
        source = found[0].article.title if hit.field == "title" else found[0].article.body
        assert source[hit.start : hit.end] == hit.text


def test_seed_title_matches_despite_curly_apostrophe() -> None:
    found = compile_query("title:Kim Jong Un").match(_seed())
    assert found and found[0].hits[0].text == "Kim Jong Un\u2019s"


# --- properties ---------------------------------------------------------------------------

WORDS = st.sampled_from(["kim", "Kim", "KIM", "jong", "un", "US", "us", "tax", "taxes"])


@given(text=st.text(), query=st.sampled_from(["Kim", "US", "tax*", "/k.m/", "NOT x", "a NEAR b"]))
@settings(max_examples=150)
def test_matching_never_raises(text: str, query: str) -> None:
    compile_query(query).match(article(text, text))


@given(
    words=st.lists(st.one_of(WORDS, st.text(max_size=3)), max_size=12),
    separators=st.lists(st.sampled_from([" ", "-", "\u2011", "\n", "  ", "\u2019s "]),
                        min_size=12, max_size=12),
    term=st.sampled_from(["kim jong", "jong un", "kim", "un"]),
)
def test_hit_offsets_lie_in_the_original(words: list[str], separators: list[str],
                                         term: str) -> None:
    text = "".join(w + s for w, s in zip(words, separators, strict=False))
    found = compile_query(f'"{term}"').match(article("x", text))
    for hit in found[0].hits if found else ():
        assert 0 <= hit.start < hit.end <= len(text)
        assert normalize_text(text[hit.start : hit.end]) == term


# --- the BBC corpus against a slow, independent reference ---------------------------------

BBC = CORPUS / "articles" / "bbc"
REFERENCE = {  # query: a regex over the case-folded text with the same meaning here
    "Brown": r"(?<![\w'])brown(?:'s|s'?|es)?(?![\w'])",
    '"chancellor"': r"(?<![\w'])chancellor(?![\w]|'\w)",
    "mobile phone": r"(?<![\w'])mobile\s+phones?(?:'s|')?(?![\w])",
    "tax*": r"(?<![\w'])tax\w*",
    "title:Blair": None,  # headline only: checked separately
}


def _bbc_files() -> list[Path]:
    return sorted(BBC.glob("*/*.txt"))[::4]


def _read(path: Path) -> Article:
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    title, _, body = text.partition("\n")
    return article(title.strip(), body)


@pytest.mark.parametrize("query", [q for q, r in REFERENCE.items() if r])
def test_bbc_corpus_agrees_with_reference(query: str) -> None:
    matcher = compile_query(query)
    reference = re.compile(REFERENCE[query] or "")
    ours, theirs = set(), set()
    for path in _bbc_files():
        item = _read(path)
        if matcher.match(item):
            ours.add(str(path.relative_to(BBC)))
        if reference.search(f"{item.title}\n{item.body}".casefold().replace("\u2019", "'")):
            theirs.add(str(path.relative_to(BBC)))
    assert ours == theirs
    assert len(ours) >= 3


def test_bbc_title_scope() -> None:
    matcher = compile_query("title:Blair")
    for path in _bbc_files():
        item = _read(path)
        expected = re.search(r"\bblair\b", item.title.casefold()) is not None
        assert bool(matcher.match(item)) is expected


def test_the_matcher_reuses_what_config_validation_parsed() -> None:
    """Loading a config parses every term to check it; building the Matcher must not parse
    them all again (seconds at 100,000 terms)."""
    watchlist = Watchlist(name="Reuse", terms=tuple(f"term{i} word" for i in range(200)))
    validate_watchlist(watchlist)
    before = _compile.cache_info()
    Matcher([watchlist])
    after = _compile.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses


def test_a_query_listing_thousands_of_names_compiles_and_matches_the_last() -> None:
    query = " OR ".join(f"Minister{i}" for i in range(3000))
    assert match(query, "Minister2999 resigns") is not None
    assert match(query, "Nobody resigns") is None
