"""`digest match` end to end: real files, a real config, a real state database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.cli import main
from digest.config import load_config, resolve_state_dir
from digest.models import Article
from digest.store import Store
from tests.conftest import REPO

SEED = REPO / "seeds" / "000_75e658c5dd6fd6c5.txt"


@pytest.fixture
def other(tmp_path: Path) -> Path:
    path = tmp_path / "other.txt"
    path.write_text("Markets rally\n\nShares rose in London on Friday.\n", encoding="utf-8")
    return path


def test_text_output_shows_terms_fields_and_highlights(capsys: pytest.CaptureFixture[str],
                                                       other: Path) -> None:
    status = main(["match", "Kim Jong Un", str(SEED), str(other)])
    out = capsys.readouterr().out
    assert status == 0
    assert f"{SEED}: match" in out and f"{other}: no match" in out
    assert "Kim Jong Un (title ×1" in out
    marked = "\u2018gratefully accepts\u2019 \u00abKim Jong Un\u2019s\u00bb invitation"
    assert f"title: Vladimir Putin {marked}" in out


def test_json_is_one_object_per_path(capsys: pytest.CaptureFixture[str], other: Path) -> None:
    status = main(["match", "--json", "title:Putin OR London", str(SEED), str(other)])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0 and len(lines) == 2
    seed, second = (json.loads(line) for line in lines)
    assert seed["path"] == str(SEED) and seed["matched"] is True and seed["score"] > 0
    title = SEED.read_text(encoding="utf-8").splitlines()[0]
    for hit in seed["hits"]:
        assert hit["field"] == "title" and title[hit["start"]:hit["end"]] == hit["text"]
    assert second["matched"] is True and second["hits"][0]["field"] == "body"


def test_exit_one_when_nothing_matches(capsys: pytest.CaptureFixture[str],
                                       other: Path) -> None:
    assert main(["match", "--json", "banana", str(SEED), str(other)]) == 1
    assert [json.loads(x)["matched"] for x in capsys.readouterr().out.splitlines()] == [
        False, False]


def test_bad_query_is_exit_two_with_position(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "(Putin OR Kim", str(SEED)]) == 2
    assert "position 1" in capsys.readouterr().err


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(f"""
[[sources.folders]]
name = "seeds"
path = "{SEED.parent}"

[[watchlists]]
name = "Korea"
terms = ["North Korea"]
exclude = ["Lavrov"]

[[watchlists]]
name = "Kremlin"
terms = ["Kremlin"]

[delivery]
method = "stdout"
""", encoding="utf-8")
    return path


def test_watchlist_applies_its_exclude(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    assert main(["match", "--config", str(config), "--watchlist", "Korea", str(SEED)]) == 1
    assert "no match" in capsys.readouterr().out
    assert main(["match", "--config", str(config), "--watchlist", "Kremlin", str(SEED)]) == 0
    assert "match [Kremlin]" in capsys.readouterr().out


def test_unknown_watchlist_is_a_config_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "--config", str(_config(tmp_path)), "--watchlist", "Nope",
                 str(SEED)]) == 2
    assert "Korea, Kremlin" in capsys.readouterr().err


def test_stored_articles_in_the_window(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    database = resolve_state_dir(load_config(config)) / "digest.sqlite"
    now = datetime.now(timezone.utc)
    with Store.open(database) as store:
        store.add_articles([Article("feed", "old", "Kremlin old news", "")],
                           now - timedelta(days=10))
        store.add_articles([Article("feed", "new", "Kremlin news", "body"),
                            Article("feed", "x", "Other", "body")], now)
    status = main(["match", "--json", "--config", str(config), "--stored", "--since", "7d",
                   "Kremlin"])
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [(r["path"], r["matched"]) for r in records] == [("feed/new", True),
                                                           ("feed/x", False)]
