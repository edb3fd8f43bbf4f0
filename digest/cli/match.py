"""`digest match`: try a query (or a configured watchlist) on article files or stored
articles and show, per article, whether it matched and why. Never sends, never marks seen.

Exit status, like grep: 0 if any article matched, 1 if none did, 2 for a bad query or
configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from digest.config import Config, find_config_path, load_config, parse_duration
from digest.errors import ConfigError, SourceError, StateError
from digest.matcher import Matcher, compile_query
from digest.models import Article, Match, Segment
from digest.snippets import snippet_segments, title_segments

BOLD = ("\x1b[1m", "\x1b[0m")
GUILLEMETS = ("\u00ab", "\u00bb")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "match", help="test a query or watchlist on articles and show why they match",
        description="Show, for each article file (first line headline, then body) or stored "
                    "article, whether QUERY matches and why. Exit status: 0 if any article "
                    "matched, 1 if none did, 2 for a bad query or configuration.")
    parser.add_argument("query", nargs="?", metavar="QUERY",
                        help="a watchlist expression, e.g. 'sanction* AND Russia'")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="article files, or folders of *.txt files")
    parser.add_argument("--watchlist", metavar="NAME",
                        help="test this configured watchlist (with its exclude) instead of "
                             "QUERY; then every positional argument is a PATH")
    parser.add_argument("--config", metavar="FILE", help="configuration file")
    parser.add_argument("--stored", action="store_true",
                        help="run over the articles kept in the state database")
    parser.add_argument("--since", metavar="DURATION", default="7d",
                        help="with --stored: how far back (default 7d)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per article per line")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    # --watchlist and --stored both need the config: it is loaded (and checked) once
    config = cache(lambda: load_config(find_config_path(args.config)))
    if args.watchlist:
        if args.query is not None:
            paths.insert(0, Path(args.query))
        matcher = _watchlist_matcher(config(), args.watchlist)
    elif args.query is None:
        raise ConfigError("give a QUERY or --watchlist NAME")
    else:
        matcher = compile_query(args.query)
    if not paths and not args.stored:
        raise ConfigError("give article files (PATH …) or --stored")
    styles = BOLD if (sys.stdout.isatty() and not args.json) else GUILLEMETS
    any_matched = False
    for label, article, error in _articles(args, paths, config):
        found = matcher.match(article) if article is not None else []
        any_matched = any_matched or bool(found)
        if args.json:
            print(json.dumps(_as_json(label, found, error), ensure_ascii=False))
        else:
            _print_text(sys.stdout, label, found, error, styles)
    return 0 if any_matched else 1


def _watchlist_matcher(config: Config, name: str) -> Matcher:
    chosen = [w for w in config.watchlists if w.name == name]
    if not chosen:
        known = ", ".join(w.name for w in config.watchlists) or "none"
        raise ConfigError(f"no watchlist named {name!r} (configured: {known})")
    return Matcher(chosen)


def _articles(args: argparse.Namespace, paths: list[Path],
              config: Callable[[], Config]) -> Iterator[tuple[str, Article | None, str | None]]:
    for path in _expand(paths):
        try:
            yield str(path), _read(path), None
        except SourceError as exc:
            yield str(path), None, str(exc)
    if args.stored:
        for article in _stored(config, args.since):
            yield f"{article.source}/{article.id}", article, None


def _expand(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.glob("*.txt") if not p.name.startswith("."))
        else:
            yield path


def _read(path: Path) -> Article:
    from digest.sources.folder import read_article_file

    return read_article_file(path, source=path.parent.name or "file")


def _stored(config: Callable[[], Config], since: str) -> list[Article]:
    from digest.config import state_database
    from digest.store import Store

    try:
        window: timedelta = parse_duration(since)
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from exc
    database = state_database(config())
    if not database.exists():
        raise StateError(f"no state database at {database} yet: run `digest once` first")
    with Store.open(database) as store:
        return store.articles_since(datetime.now(timezone.utc) - window)


def _as_json(label: str, found: list[Match], error: str | None) -> dict[str, object]:
    record: dict[str, object] = {
        "path": label,
        "matched": bool(found),
        "score": max((m.score for m in found), default=0.0),
        "hits": [{"term": h.term, "field": h.field, "start": h.start, "end": h.end,
                  "text": h.text} for m in found for h in m.hits],
        "watchlists": [{"name": m.watchlist, "score": m.score,
                        "score_parts": dict(m.score_parts)} for m in found],
    }
    if error:
        record["error"] = error
    return record


def _print_text(out: TextIO, label: str, found: list[Match], error: str | None,
                styles: tuple[str, str]) -> None:
    if error:
        out.write(f"{label}: cannot read: {error}\n")
        return
    if not found:
        out.write(f"{label}: no match\n")
        return
    for match in found:
        parts = ", ".join(f"{k} {v:g}" for k, v in match.score_parts.items())
        name = "" if match.watchlist == "query" else f" [{match.watchlist}]"
        out.write(f"{label}: match{name}  score {match.score:g} ({parts})\n")
        terms = ", ".join(f"{term} ({_fields(match, term)})" for term in match.terms)
        out.write(f"  terms: {terms or '(none: matched by NOT only)'}\n")
        title_hit = any(h.field == "title" for h in match.hits)
        if title_hit:
            title = title_segments(match.article.title, match.hits)
            out.write(f"  title: {_styled(title, styles)}\n")
        body = snippet_segments(match.article.body, match.hits)
        if body:
            out.write(f"  body: {_styled(body, styles)}\n")


def _styled(segments: Sequence[Segment], styles: tuple[str, str]) -> str:
    """Segments as one line, the matched words between the two style markers."""
    text = "".join(f"{styles[0]}{s.text}{styles[1]}" if s.marked else s.text for s in segments)
    return " ".join(text.split())


def _fields(match: Match, term: str) -> str:
    counts = {f: sum(1 for h in match.hits if h.term == term and h.field == f)
              for f in ("title", "body")}
    return ", ".join(f"{f} ×{n}" for f, n in counts.items() if n)


__all__ = ["handle", "register"]
