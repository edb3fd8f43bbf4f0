"""Shared fixtures: every test gets its own state directory and a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point all state at tmp_path and drop DIGEST_*, proxy and systemd variables."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith("DIGEST_") or upper.endswith("_PROXY") or upper in {
            "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY",
            "STATE_DIRECTORY",
        }:
            monkeypatch.delenv(name, raising=False)
    state = tmp_path / "state"
    monkeypatch.setenv("DIGEST_STATE_DIR", str(state))
    return state
