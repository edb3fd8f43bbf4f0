"""The configuration file: TOML in, validated frozen values out.

Every error names the file and the key path (``watchlists[2].terms``) or, for TOML syntax
errors, the line and column. Unknown keys are errors: a typo must not silently do nothing.
Relative paths are relative to the configuration file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

Security = Literal["starttls", "tls", "none"]
Method = Literal["smtp", "maildir", "stdout"]


@dataclass(frozen=True, slots=True)
class FolderSource:
    name: str
    path: Path
    pattern: str = "*.txt"
    every: timedelta | None = None  # None: [sources].every


@dataclass(frozen=True, slots=True)
class FeedSource:
    name: str
    url: str
    every: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Sources:
    every: timedelta = timedelta(minutes=15)
    folders: tuple[FolderSource, ...] = ()
    feeds: tuple[FeedSource, ...] = ()  # including those read from `opml` files
    opml: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class Watchlist:
    name: str
    terms: tuple[str, ...] = ()  # any one matching is enough
    query: str | None = None  # or one boolean query
    exclude: tuple[str, ...] = ()  # any one matching vetoes
    alert: bool = False


@dataclass(frozen=True, slots=True)
class DigestSpec:
    name: str
    schedule: str  # 5-field cron, day names only
    watchlists: tuple[str, ...]  # resolved: all watchlists when the key is absent
    to: tuple[str, ...]
    since: timedelta = timedelta(hours=24)
    max_stories: int = 30
    send_empty: bool = False
    sentences: int = 3


@dataclass(frozen=True, slots=True)
class Alerts:
    to: tuple[str, ...]
    min_interval: timedelta = timedelta(minutes=10)
    quiet_hours: tuple[tuple[int, int], tuple[int, int]] | None = None  # ((22, 0), (7, 0))


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    timeout: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Delivery:
    method: Method = "maildir"
    sender: str = "News Digest <digest@localhost>"  # the `from` key
    maildir: Path | None = None  # default: <state_dir>/mail
    smtp: Smtp | None = None


@dataclass(frozen=True, slots=True)
class Config:
    path: Path  # the file it came from (absolute)
    timezone: ZoneInfo
    state_dir: Path | None
    templates_dir: Path | None
    sources: Sources
    watchlists: tuple[Watchlist, ...]
    digests: tuple[DigestSpec, ...]
    delivery: Delivery
    alerts: Alerts | None = None
    retention: timedelta = timedelta(days=30)  # how long article text is kept
    extra: dict[str, object] = field(default_factory=dict)

    def watchlist(self, name: str) -> Watchlist:
        return next(w for w in self.watchlists if w.name == name)

    def digest(self, name: str) -> DigestSpec:
        return next(d for d in self.digests if d.name == name)


def load_config(path: Path) -> Config:
    """Read and validate ``path``; raise ConfigError naming the file and key on any problem."""
    raise NotImplementedError


def find_config_path(explicit: str | None) -> Path:
    """--config, else $DIGEST_CONFIG, else ./config/digest.toml, else the platform config dir."""
    raise NotImplementedError


def parse_duration(text: str) -> timedelta:
    """"90s", "15m", "2h", "7d" (also combined, "1h30m"); ValueError with a hint otherwise."""
    raise NotImplementedError
