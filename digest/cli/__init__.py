"""The `digest` command line: a thin layer over the pipeline.

Each subcommand lives in its own module with ``register(subparsers)``; the handler it sets
returns the exit status. Only the project's own errors are caught here: one line on stderr
and their exit status (a traceback only with --debug). Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from digest import __version__
from digest.cli import check, match, once, run, status, summarize
from digest.errors import DigestError

COMMANDS = (once, run, check, status, match, summarize)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digest",
        description="News digest and alerting daemon: sources in, ranked digests out by email.",
    )
    parser.add_argument("--version", action="version", version=f"digest {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("--log-level", default=None,
                        choices=["debug", "info", "warning", "error"],
                        help="log level for messages on stderr (default: warning; run: info)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def configure_logging(level: str) -> None:
    """Plain lines on stderr: under systemd, journald adds the time and the unit."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    if level != "debug":
        for noisy in ("apscheduler", "aiosmtplib", "mail.log"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    default_level = getattr(args, "default_log_level", "warning")
    configure_logging("debug" if args.debug else (args.log_level or default_level))
    try:
        return int(args.handler(args))
    except DigestError as exc:
        if args.debug:
            raise
        print(f"digest: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("digest: interrupted", file=sys.stderr)
        return 130
