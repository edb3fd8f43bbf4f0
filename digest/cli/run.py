"""`digest run`: the daemon (systemd's ExecStart)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from digest.config import find_config_path


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run", help="run the daemon: poll, alert and send digests on schedule",
        description="Run until SIGTERM: poll every source at its interval, send alerts and "
                    "the scheduled digests. SIGHUP reloads the configuration. Logs go to "
                    "stderr (info by default).")
    parser.add_argument("--config", metavar="FILE", help="configuration file")
    parser.set_defaults(handler=handle, default_log_level="info")


def handle(args: argparse.Namespace) -> int:
    from digest.daemon import main

    return asyncio.run(main(find_config_path(args.config)))
