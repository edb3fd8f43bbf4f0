"""The shared pipeline with an injected clock: retention of article text."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from digest.config import load_config
from digest.delivery import MaildirTransport
from digest.pipeline import Runtime, run_once
from digest.store import Store
from tests.conftest import REPO

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_config(root: Path, *, retention: str) -> Path:
    shutil.copytree(REPO / "seeds", root / "news")
    path = root / "digest.toml"
    path.write_text("\n".join([
        f'retention = "{retention}"',
        "[[sources.folders]]", 'name = "news"', 'path = "news"',
        "[[watchlists]]", 'name = "Korea"', 'terms = ["Kim Jong Un"]',
        "[[digests]]", 'name = "Weekly"', 'schedule = "0 7 * * mon"', 'to = ["me@localhost"]',
        'since = "7d"',
    ]) + "\n")
    return path


async def test_article_text_is_dropped_after_retention_but_never_before_its_digest(
        tmp_path: Path) -> None:
    config = load_config(make_config(tmp_path, retention="3d"))
    clock = Clock(T0)
    with Store.open(tmp_path / "state.sqlite") as store:
        rt = Runtime.create(config, store, MaildirTransport(tmp_path / "mail"), clock)
        await run_once(rt, digests=[])  # recorded and matched, no digest built yet
        assert len(rt.sketches) == 1  # the match is sketched for clustering as it is recorded
        clock.now = T0 + timedelta(days=5)
        await run_once(rt, digests=[])
        # older than the retention, but the weekly digest has not had it: text kept
        [kept] = store.articles_since(T0 - timedelta(days=1))
        assert "Kremlin" in kept.body
        report = await run_once(rt, digests=list(config.digests))
        assert report.digests[0].digest.story_count == 1
        clock.now = T0 + timedelta(days=6)
        await run_once(rt, digests=list(config.digests))
        [pruned] = store.articles_since(T0 - timedelta(days=1))
        assert pruned.body == ""  # the digest went out: the text is gone after 3 days
        clock.now = T0 + timedelta(days=7)
        report = await run_once(rt, digests=list(config.digests))
        assert report.poll.new == 0  # its id stays: the file is not news again
