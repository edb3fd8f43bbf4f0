"""The shared pipeline: retention of article text (injected clock), matching on the loop."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from digest import pipeline
from digest.cluster import SketchCache
from digest.config import Watchlist, load_config
from digest.delivery import MaildirTransport
from digest.matcher import Matcher
from digest.models import Article
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


async def test_matching_a_large_batch_lets_the_event_loop_run(monkeypatch: Any) -> None:
    """The daemon's loop keeps serving (alerts, signals, the watchdog) while a big poll is
    matched on it."""
    monkeypatch.setattr(pipeline, "MATCH_SLICE", 0.0)  # yield after every article
    matcher = Matcher([Watchlist("Korea", terms=("Kim Jong Un",))])
    articles = [Article(source="news", id=str(i), title=f"Kim Jong Un visit {i}", body="Talks.")
                for i in range(100)]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    sketches = SketchCache()
    matches = await pipeline._match_all(matcher, articles, sketches)
    during = ticks - before
    task.cancel()
    assert len(matches) == 100 and len(sketches) == 100
    assert during >= 90
