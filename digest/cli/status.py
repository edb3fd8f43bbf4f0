"""`digest status`: feeds, last and next runs, the outbox. Exit status 1 while a message
has failed for good (it needs the user's attention), else 0."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from digest.config import Config, find_config_path, load_config, state_database
from digest.store import Store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status", help="show feeds, last and next runs, and the outbox",
        description="Show each feed's last success and error, each digest's last and next "
                    "run, the daemon's last job results and the outbox. Exit status 1 "
                    "while a message has failed.")
    parser.add_argument("--config", metavar="FILE", help="configuration file")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    config = load_config(find_config_path(args.config))
    with Store.open(state_database(config)) as store:
        return show_status(config, store, sys.stdout, now=datetime.now(timezone.utc))


def show_status(config: Config, store: Store, out: TextIO, *, now: datetime) -> int:
    tz = config.timezone

    def when(moment: datetime | None) -> str:
        return _local(moment, tz)

    print("feeds:", file=out)
    states = {state.name: state for state in store.feed_states()}
    if not config.sources.feeds:
        print("  (none)", file=out)
    for feed in config.sources.feeds:
        state = states.get(feed.name)
        if state is None:
            print(f"  {feed.name}: not polled yet", file=out)
            continue
        line = (f"  {feed.name}: last success {when(state.last_success)}, "
                f"{state.items_seen} item(s) seen")
        if state.disabled:
            line += ", disabled"
        if state.failures:
            line += (f"; {state.failures} failure(s) in a row, last error "
                     f"{when(state.last_error_at)}: {state.last_error}; "
                     f"next try {when(state.next_try)}")
        print(line, file=out)

    from digest.jobs import digest_trigger, next_fire_time  # apscheduler: only when asked

    print("digests:", file=out)
    known = {d.name: d for d in store.digests()}
    if not config.digests:
        print("  (none)", file=out)
    for spec in config.digests:
        run = known.get(spec.name)
        upcoming = next_fire_time(digest_trigger(spec, tz), now)
        last = when(run.last_run) if run else "never"
        mark = when(run.watermark) if run else "-"
        print(f"  {spec.name} ({spec.schedule}): last run {last}, watermark {mark}, "
              f"next run {when(upcoming)}", file=out)

    results = store.job_results()
    if results:
        print("last job results:", file=out)
        for result in results:
            state_word = "ok" if result.ok else "FAILED"
            print(f"  {result.job}: {when(result.finished)} {state_word}: {result.summary}",
                  file=out)

    entries = store.outbox("pending", "failed")
    pending = [e for e in entries if e.status == "pending"]
    failed = [e for e in entries if e.status == "failed"]
    print(f"outbox: {len(pending)} pending, {len(failed)} failed", file=out)
    for entry in pending:
        error = f", last error: {entry.last_error}" if entry.last_error else ""
        print(f"  pending: {entry.message.subject!r} to {', '.join(entry.message.recipients)}"
              f" ({entry.attempts} attempt(s), next try {when(entry.next_try)}{error})",
              file=out)
    for entry in failed:
        print(f"  FAILED: {entry.message.subject!r} to {', '.join(entry.message.recipients)}:"
              f" {entry.last_error}", file=out)
    return 1 if failed else 0


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
