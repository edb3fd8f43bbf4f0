"""Normalization: the same for terms and text, with offsets back into the original."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.normalize import normalize, normalize_text


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("Kim Jong-un", "kim jong un"),  # hyphens count as a space
        ("KIM JONG\u2011UN", "kim jong un"),  # non-breaking hyphen, upper case
        ("Kim Jong\u2013un", "kim jong un"),  # en dash
        ("kim  jong\nun", "kim jong un"),  # line breaks and runs of spaces
        ("  padded\t", "padded"),
        ("O\u2019Brien", "o'brien"),  # curly apostrophe becomes straight
        ("\u201cquoted\u201d", '"quoted"'),
        ("Py\u014fngyang", "pyongyang"),  # diacritics folded
        ("Erdo\u011fan", "erdogan"),
        ("Zu\u0308rich", "zurich"),  # decomposed diaeresis
        ("\u0141\u00f3d\u017a", "lodz"),
        ("Stra\u00dfe", "strasse"),  # case folding
        ("\ufb01nance", "finance"),  # NFKC ligature
        ("\uff34\uff4f\uff4b\uff59\uff4f", "tokyo"),  # full width
        ("\u0130stanbul", "istanbul"),
    ],
)
def test_normalized_form(original: str, expected: str) -> None:
    assert normalize_text(original) == expected


@pytest.mark.parametrize(
    ("original", "normalized", "pieces"),
    [
        ("Kim Jong\u2011un\u2019s", "kim jong un's", {"un's": "un\u2019s", "jong": "Jong"}),
        ("Die Stra\u00dfe hier", "die strasse hier", {"strasse": "Stra\u00dfe"}),
        ("the \ufb01nance desk", "the finance desk", {"finance": "\ufb01nance"}),
        ("in Zu\u0308rich.", "in zurich.", {"zurich": "Zu\u0308rich"}),
        ("a\n\n  Kim", "a kim", {"kim": "Kim"}),
    ],
)
def test_offsets_point_into_original(original: str, normalized: str,
                                     pieces: dict[str, str]) -> None:
    result = normalize(original)
    assert result.text == normalized
    for word, expected in pieces.items():
        start = result.text.index(word)
        a, b = result.span(start, start + len(word))
        assert original[a:b] == expected


@given(st.text())
def test_every_character_maps_inside_the_original(text: str) -> None:
    result = normalize(text)
    assert " " * 2 not in result.text and result.text == result.text.strip()
    for index in range(len(result.text)):
        a, b = result.span(index, index + 1)
        assert 0 <= a < b <= len(text)
        char = result.text[index]
        assert char == " " or char in normalize_text(text[a:b])
