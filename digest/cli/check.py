"""`digest check`: validate the configuration and say, briefly, what it asks for.

The summary never shows a secret: a configured password is printed as ``********`` with the
place it comes from, so a user can see *that* it is found without anyone seeing *what* it is.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from typing import Any

from digest.config import (
    Config,
    Smtp,
    find_config_path,
    load_config,
    maildir_path,
    resolve_state_dir,
    smtp_password_source,
)
from digest.errors import ConfigError

MASK = "********"
MAX_FEED_NAMES = 10


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check", help="validate the configuration and print a summary",
        description="Validate the configuration file and print what it sets up. Exit status 2 "
                    "and a one-line message naming the key when something is wrong.")
    parser.add_argument("--config", metavar="FILE",
                        help="configuration file (default: $DIGEST_CONFIG, then "
                             "./config/digest.toml, then the user config dir)")
    parser.add_argument("--smtp", action="store_true",
                        help="also connect to the SMTP server and log in (sends nothing)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    config = load_config(find_config_path(args.config))
    print("\n".join(summary(config)))
    if args.smtp:
        print(try_smtp(config))
    return 0


def try_smtp(config: Config) -> str:
    """Log in to the configured server; DeliveryError (exit 1) says what to check."""
    if config.delivery.smtp is None:
        raise ConfigError("--smtp: there is no [delivery.smtp] table to try",
                          path=str(config.path), key="delivery.smtp")
    from digest.delivery import check_smtp_login

    return f"smtp: {asyncio.run(check_smtp_login(config))}"


def summary(config: Config) -> list[str]:
    """The lines `digest check` prints for a valid configuration."""
    return [
        f"{config.path}: ok",
        f"time zone: {config.timezone.key}",
        f"state: {resolve_state_dir(config)}",
        *_sources(config),
        *_watchlists(config),
        *_digests(config),
        *_alerts(config),
        *_delivery(config),
    ]


def duration(value: timedelta) -> str:
    """The shortest exact way to write ``value`` in the configuration's own units."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _sources(config: Config) -> list[str]:
    sources = config.sources
    lines = [f"sources (every {duration(sources.every)}):"]
    for folder in sources.folders:
        every = f", every {duration(folder.every)}" if folder.every else ""
        lines.append(f"  folder {folder.name}: {folder.path} ({folder.pattern}{every})")
    if sources.feeds:
        names = ", ".join(feed.name for feed in sources.feeds[:MAX_FEED_NAMES])
        more = len(sources.feeds) - MAX_FEED_NAMES
        lines.append(f"  feeds: {len(sources.feeds)}: {names}" + (f", … {more} more"
                                                                   if more > 0 else ""))
    for opml in sources.opml:
        lines.append(f"  opml: {opml}")
    if len(lines) == 1:
        lines.append("  none")
    return lines


def _watchlists(config: Config) -> list[str]:
    lines = ["watchlists:"]
    for watchlist in config.watchlists:
        what = (f"{len(watchlist.terms)} term{'s' if len(watchlist.terms) != 1 else ''}"
                if not watchlist.query else f"query {watchlist.query!r}")
        if watchlist.exclude:
            what += f", {len(watchlist.exclude)} excluded"
        lines.append(f"  {watchlist.name}: {what}, alert {'on' if watchlist.alert else 'off'}")
    return lines if config.watchlists else [*lines, "  none"]


def _digests(config: Config) -> list[str]:
    lines = ["digests:"]
    for spec in config.digests:
        lines.append(f"  {spec.name}: {spec.schedule!r} ({config.timezone.key}) to "
                     f"{', '.join(spec.to)}; watchlists {', '.join(spec.watchlists)}")
    return lines if config.digests else [*lines, "  none"]


def _alerts(config: Config) -> list[str]:
    alerts = config.alerts
    if alerts is None:
        return []
    quiet = ""
    if alerts.quiet_hours:
        (h1, m1), (h2, m2) = alerts.quiet_hours
        quiet = f", quiet {h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
    return [f"alerts: to {', '.join(alerts.to)}, at most one per "
            f"{duration(alerts.min_interval)}{quiet}"]


def _delivery(config: Config) -> list[str]:
    delivery = config.delivery
    lines = [f"delivery: {delivery.method}, from {delivery.sender}"]
    if delivery.method == "maildir":
        lines.append(f"  maildir: {maildir_path(config)}")
    if delivery.smtp is not None:
        smtp = delivery.smtp
        lines.append(f"  smtp: {smtp.host}:{smtp.port}, security {smtp.security}, "
                     f"username {smtp.username or '(none)'}, password {_password(smtp)}, "
                     f"timeout {duration(smtp.timeout)}")
    return lines


def _password(smtp: Smtp) -> str:
    """Where the password comes from, masked; never the password itself."""
    source = smtp_password_source(smtp)
    if source is None:
        return "(none)"
    description, read = source
    try:
        read()
    except ConfigError as exc:
        return f"MISSING ({exc})"
    return f"{MASK} ({description})"
