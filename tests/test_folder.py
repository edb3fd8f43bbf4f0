"""The folder source on real and awkward files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digest.config import FolderSource
from digest.errors import SourceError
from digest.sources.folder import MAX_FILE_BYTES, read_article_file, read_folder
from tests.conftest import CORPUS, REPO

SEED = REPO / "seeds" / "000_75e658c5dd6fd6c5.txt"


def folder(path: Path, pattern: str = "*.txt") -> FolderSource:
    return FolderSource(name="test", path=path, pattern=pattern)


def test_seed_article_headline_and_joined_hard_wrap() -> None:
    article = read_article_file(SEED, source="seeds")
    assert article.title.startswith("Vladimir Putin ‘gratefully accepts’ Kim Jong Un’s")
    assert "will go to Pyongyang subsequent month." in article.body
    assert "subsequent\nmonth" not in article.body
    assert article.source == "seeds"
    assert not article.body.startswith(article.title)


def test_paragraphs_and_headings_stay_separate_lines() -> None:
    article = read_article_file(SEED)
    assert "\nGrowing criticism\n" in article.body  # a heading is not glued to its neighbours
    assert "\nRead extra: Explosions reported in Crimea" in article.body


def test_latin1_file_is_decoded(tmp_path: Path) -> None:
    source = CORPUS / "articles" / "bbc" / "sport" / "199.txt"
    with pytest.raises(UnicodeDecodeError):
        source.read_bytes().decode("utf-8")
    article = read_article_file(source)
    assert "£" in article.title + article.body


def test_utf8_bom_is_not_part_of_the_headline(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffHeadline here\n\nBody text.\n".encode())
    article = read_article_file(path)
    assert article.title == "Headline here"
    assert article.body == "Body text."


def test_leading_blank_lines_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"\r\n\r\n  Title  \r\n\r\nFirst line.\r\nSecond line.\r\n")
    article = read_article_file(path)
    assert (article.title, article.body) == ("Title", "First line.\nSecond line.")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n\t\n", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        (".hidden.txt", b"Title\nBody.", "hidden"),
        ("draft.txt.tmp", b"Title\nBody.", "partial"),
        ("draft.txt.part", b"Title\nBody.", "partial"),
        ("draft.txt~", b"Title\nBody.", "partial"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(tmp_path: Path, name: str, content: bytes,
                                                  reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=reason):
        read_article_file(path)


def test_very_large_file_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"Title\n" + b"word " * (MAX_FILE_BYTES // 5 + 10))
    with pytest.raises(SourceError, match="too large"):
        read_article_file(path)


def test_folder_skips_bad_files_and_reads_the_rest(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "good.txt")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / ".hidden.txt").write_text("Hidden\nbody")
    (tmp_path / "notes.md").write_text("Not matched by the pattern\nbody")
    result = read_folder(folder(tmp_path))
    assert [a.title[:15] for a in result.articles] == ["Vladimir Putin "]
    assert sorted(p.name for p, _ in result.skipped) == [".hidden.txt", "binary.txt", "empty.txt"]
    assert result.error is None


def test_copy_under_another_name_has_the_same_id(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "a.txt")
    shutil.copy(SEED, tmp_path / "b.txt")
    result = read_folder(folder(tmp_path))
    assert len({a.id for a in result.articles}) == 1


def test_missing_folder_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = read_folder(folder(tmp_path / "nope"))
    assert result.articles == ()
    assert result.error is not None and "nope" in result.error
