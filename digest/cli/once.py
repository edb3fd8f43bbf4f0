"""`digest once`: poll everything now, build each digest, deliver, print one line per digest."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from digest.config import (
    Config,
    DigestSpec,
    find_config_path,
    load_config,
    parse_duration,
    resolve_state_dir,
    state_database,
)
from digest.config_checks import address_problem
from digest.delivery import StdoutTransport, Transport, transport_for
from digest.errors import ConfigError
from digest.pipeline import OnceReport, Runtime, run_once
from digest.store import Store, acquire_lock


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "once", help="poll all sources now and deliver the digests",
        description="Poll every source now, match, build each digest from what is new "
                    "since its last run, and deliver it.")
    parser.add_argument("--config", metavar="FILE", help="configuration file")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plain-text digest instead of sending; change no state")
    parser.add_argument("--since", metavar="DURATION", type=_duration,
                        help="include everything matched in this window (e.g. 24h, 7d)")
    parser.add_argument("--digest", metavar="NAME", action="append",
                        help="only this digest (repeatable; default: all)")
    parser.add_argument("--to", metavar="ADDR", action="append",
                        help="send to this address instead (repeatable)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(handler=handle)


def _duration(text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def handle(args: argparse.Namespace) -> int:
    config = load_config(find_config_path(args.config))
    specs = select_digests(config, args.digest)
    to = tuple(check_address(a) for a in args.to) if args.to else None
    if args.dry_run:
        report = dry_run(config, specs, args, to, sys.stdout)
    else:
        report = real_run(config, specs, args, to)
    print_report(report, sys.stderr if args.dry_run else sys.stdout)
    return 1 if report.undelivered else 0


def select_digests(config: Config, names: list[str] | None) -> list[DigestSpec]:
    if not names:
        return list(config.digests)
    known = {d.name for d in config.digests}
    for name in names:
        if name not in known:
            raise ConfigError(f"no digest named {name!r} (known: {', '.join(sorted(known))})",
                              key="--digest")
    return [d for d in config.digests if d.name in names]


def check_address(address: str) -> str:
    """``--to`` follows the same rules as the addresses in the configuration file."""
    problem = address_problem(address)
    if problem:
        raise ConfigError(f"{address!r} {problem}", key="--to")
    return address


def real_run(config: Config, specs: list[DigestSpec], args: argparse.Namespace,
             to: tuple[str, ...] | None) -> OnceReport:
    state_dir = resolve_state_dir(config)
    with acquire_lock(state_dir), Store.open(state_database(config)) as store:
        return run_on(store, transport_for(config), config, specs, args, to)


def dry_run(config: Config, specs: list[DigestSpec], args: argparse.Namespace,
            to: tuple[str, ...] | None, out: TextIO) -> OnceReport:
    """Run against a throw-away copy of the state, so nothing real changes."""
    real_db = state_database(config)
    with tempfile.TemporaryDirectory(prefix="digest-dry-run-") as tmp:
        copy = Path(tmp) / real_db.name
        if real_db.exists():
            copy_database(real_db, copy)
        with Store.open(copy) as store:
            return run_on(store, StdoutTransport(out), config, specs, args, to)


def run_on(store: Store, transport: Transport, config: Config, specs: list[DigestSpec],
           args: argparse.Namespace, to: tuple[str, ...] | None) -> OnceReport:
    """`digest once` on an open store, with a progress bar when wanted."""
    rt = Runtime.create(config, store, transport)
    with progress_bar(rt, quiet=args.quiet):
        return asyncio.run(run_once(rt, digests=specs, since=args.since, to=to))


def copy_database(source: Path, target: Path) -> None:
    """A consistent snapshot even while a daemon writes (SQLite's online backup)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        with dst:
            src.backup(dst)
        dst.close()
    finally:
        src.close()


@contextmanager
def progress_bar(rt: Runtime, *, quiet: bool) -> Iterator[None]:
    """A bar over the feeds on a terminal; nothing when quiet or not a TTY."""
    feeds = len(rt.config.sources.feeds)
    if quiet or feeds == 0 or not sys.stderr.isatty():
        yield
        return
    from tqdm import tqdm  # type: ignore[import-untyped]

    # shutil's size falls back to $COLUMNS or 80 where a fresh pty reports 0 columns
    width = shutil.get_terminal_size().columns
    with tqdm(total=feeds, unit="feed", file=sys.stderr, leave=False, ncols=width) as bar:
        def advance(name: str, done: int, total: int) -> None:
            if total == feeds:
                bar.update(done - bar.n)
                bar.set_postfix_str(name[:30])
        rt.progress = advance
        yield


def print_report(report: OnceReport, out: TextIO) -> None:
    poll = report.poll
    failed = poll.failed
    line = (f"polled {len(poll.sources)} source(s): {poll.new} new article(s), "
            f"{poll.matches} match(es)")
    if failed:
        line += f", {len(failed)} source(s) failed ({', '.join(s.name for s in failed)})"
    print(line, file=out)
    outcomes = {o.message.message_id: o for o in report.deliveries}
    for queued in report.digests:
        stories = queued.digest.story_count
        head = f"{queued.spec.name}: {stories} stor{'y' if stories == 1 else 'ies'}"
        if queued.message is None:
            print(f"{head}, nothing to send", file=out)
            continue
        outcome = outcomes.get(queued.message.message_id)
        rcpt = ", ".join(queued.message.recipients)
        if outcome is None:
            print(f"{head} to {rcpt}: queued", file=out)
        elif outcome.status == "sent":
            print(f"{head} to {rcpt} → {outcome.detail}", file=out)
        else:
            print(f"{head} to {rcpt}: NOT delivered ({outcome.status}): {outcome.detail}",
                  file=out)
    queued_ids = {q.message.message_id for q in report.digests if q.message}
    for outcome in report.deliveries:
        if outcome.message.message_id not in queued_ids:
            print(f"outbox: {outcome.message.subject!r} → {outcome.status}: {outcome.detail}",
                  file=out)
