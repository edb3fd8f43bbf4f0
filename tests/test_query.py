"""The parser: what each construct becomes, and errors that say where."""

from __future__ import annotations

import pytest

from digest.errors import ConfigError, QueryError
from digest.query import And, Near, Not, Or, Phrase, Regex, atoms, key_forms, parse


def test_words_next_to_each_other_form_one_phrase() -> None:
    node = parse("Kim Jong-un")
    assert isinstance(node, Phrase)
    assert node.words == ("kim", "jong", "un") and not node.exact


def test_and_binds_tighter_than_or() -> None:
    node = parse("a AND b OR c")
    assert isinstance(node, Or) and isinstance(node.left, And)


def test_binary_not_means_and_not() -> None:
    node = parse("a NOT b")
    assert isinstance(node, And) and isinstance(node.right, Not)


def test_lowercase_operators_are_words() -> None:
    node = parse("war and peace")
    assert isinstance(node, Phrase) and node.words == ("war", "and", "peace")


def test_near_defaults_to_ten() -> None:
    node = parse("Putin NEAR Kim")
    assert isinstance(node, Near) and node.distance == 10
    node = parse("Putin NEAR/8 Kim")
    assert isinstance(node, Near) and node.distance == 8


def test_title_scopes_a_group() -> None:
    node = parse('title:(Putin OR "North Korea")')
    assert isinstance(node, Or)
    assert isinstance(node.left, Phrase) and node.left.field == "title"
    assert isinstance(node.right, Phrase) and node.right.field == "title" and node.right.exact


def test_acronyms_are_marked_per_word() -> None:
    node = parse("US-led NATO G7 Nato")
    assert isinstance(node, Phrase)
    assert node.capitals == (True, False, True, False, False)


def test_regex_is_case_insensitive() -> None:
    node = parse(r"/Kim Jong[- ]?(Un|Il)/")
    assert isinstance(node, Regex) and node.pattern.search("KIM JONG-IL")


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("sanction", {"sanctions", "sanction's", "sanctions'"}),
        ("sanctions", {"sanction"}),
        ("tax", {"taxes", "tax's"}),
        ("taxes", {"tax"}),
        ("policy", {"policies", "policy's"}),
        ("policies", {"policy"}),
        ("kim", {"kims", "kims'", "kim's"}),
    ],
)
def test_plural_and_possessive_forms(word: str, forms: set[str]) -> None:
    node = parse(word)
    assert isinstance(node, Phrase)
    assert forms <= set(key_forms(node))


def test_quoted_and_prefix_have_no_variants() -> None:
    for query in ('"sanctions"', "sanction*"):
        node = parse(query)
        assert isinstance(node, Phrase)
        assert len(key_forms(node)) == 1


@pytest.mark.parametrize(
    ("query", "position", "reason"),
    [
        ("(Putin OR Kim", 0, "unbalanced '('"),
        ("Putin OR Kim)", 12, "unbalanced ')'"),
        ('"North Korea', 0, "unbalanced quote"),
        ('""', 0, "empty term"),
        ("()", 0, "empty parentheses"),
        ("", 0, "empty query"),
        ("Putin AND", 9, "expected a term after AND"),
        ("OR Putin", 0, "expected a term before OR"),
        ("Putin OR OR Kim", 9, "expected a term after OR"),
        ("Putin NEAR/x Kim", 11, "NEAR/ needs a whole number"),
        ("Putin NEAR/0 Kim", 11, "NEAR/ needs a whole number"),
        ("title:", 6, "expected a term after 'title:'"),
        ("/[a-z/", 1, "bad regular expression"),
        ("/Kim", 0, "unterminated regular expression"),
        ("//", 0, "empty regular expression"),
        ("/(a+)+b/", 1, "exponential time"),
        ("/(a|aa)*b/", 1, "exponential time"),
        ("/x?/", 0, "matches empty text"),
        ("sanc*tion", 4, "'*' may only end"),
        ("a* b", 1, "'*' may only end"),
        ("s*", 0, "prefix needs at least"),
        ('"sanction*"', 9, "'*' inside quotes"),
        ('"North Korea" Putin', 14, "expected AND, OR, NOT or NEAR"),
        ("\u2013", 0, "empty term"),
    ],
)
def test_errors_name_the_position(query: str, position: int, reason: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert caught.value.position == position
    assert reason in caught.value.reason
    assert f"position {position + 1}" in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_safe_regexes_are_accepted() -> None:
    for query in (r"/Kim Jong[- ]?(Un|Il)/", r"/\d+ (people|dead)/", r"/[(a+)+]x/"):
        assert isinstance(parse(query), Regex)


@pytest.mark.parametrize("query", ["(" * 150 + "Kim" + ")" * 150, "NOT " * 150 + "Kim",
                                   " NEAR/3 ".join(["Kim"] * 150)])
def test_nesting_deeper_than_the_cap_is_refused_with_a_position(query: str) -> None:
    with pytest.raises(QueryError, match="nested more than 100 levels deep"):
        parse(query)


def test_a_long_or_chain_is_a_shallow_tree_with_its_terms_in_order() -> None:
    names = [f"name{i}" for i in range(3000)]
    tree = parse(" OR ".join(names))

    def depth(node: object) -> int:
        return 1 + max(depth(node.left), depth(node.right)) if isinstance(node, Or) else 1

    assert depth(tree) <= 13
    assert [atom.written for atom in atoms(tree)] == names
