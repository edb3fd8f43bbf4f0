"""`digest summarize PATH… [--sentences N] [--json]`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from digest.cli import summarize as command

from .conftest import REPO

SEED = REPO / "seeds" / "000_75e658c5dd6fd6c5.txt"


def run(*argv: str) -> int:
    """Parse and run the subcommand the way `digest` does (its own subparser only)."""
    parser = argparse.ArgumentParser(prog="digest")
    command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["summarize", *argv])
    return int(args.handler(args))


def flat(text: str) -> str:
    return " ".join(text.split())


def test_json_gives_one_object_per_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "short.txt"
    other.write_text("Port closed\n\nStorm closes the port. Ferries were cancelled.\n")
    assert run(str(SEED), str(other), "--json", "--sentences", "2") == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["path"] for r in records] == [str(SEED), str(other)]
    seed_text = flat(SEED.read_text(encoding="utf-8"))
    assert len(records[0]["sentences"]) == 2
    assert all(sentence in seed_text for sentence in records[0]["sentences"])
    assert records[0]["title"].startswith("Vladimir Putin")
    assert records[1]["sentences"] == ["Storm closes the port.", "Ferries were cancelled."]


def test_plain_output_prints_the_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(SEED)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert not any(line.startswith("Read extra") for line in lines)


def test_unreadable_path_is_reported_and_the_rest_still_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.txt"
    assert run(str(missing), str(SEED), "--json") == 1
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and str(missing) in captured.err
    assert [json.loads(line)["path"] for line in captured.out.splitlines()] == [str(SEED)]


def test_sentences_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(str(SEED), "--sentences", "0")
    assert exit_info.value.code == 2
