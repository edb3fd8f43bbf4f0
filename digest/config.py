"""The configuration file: TOML in, validated frozen values out.

Every error is one line naming the file and the key path, or for TOML syntax errors the line
and column::

    config/digest.toml: watchlists[2].terms: must be a non-empty list of strings
    config/digest.toml: line 14, column 5: Expected '=' after a key in a key/value pair

Indexes in key paths count from 1, as a reader counts the ``[[watchlists]]`` blocks in the
file: ``watchlists[2]`` is the second one. Unknown keys are errors (a typo must not silently
do nothing) and come with the closest known key as a hint. Relative paths are relative to the
configuration file. Secrets never live in the file: the SMTP password comes from the systemd
credential ``smtp-password``, a file or an environment variable (``smtp_password``).

Checking values and building each section live in ``digest.config_checks`` and
``digest.config_sections``; this module keeps the values, the file handling and the entry points.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

Security = Literal["starttls", "tls", "none"]
Method = Literal["smtp", "maildir", "stdout"]

#: Larger files are refused before parsing. Generous on purpose: a watchlist of 100,000
#: terms is a few megabytes of TOML and must load.
MAX_CONFIG_BYTES = 10 * 1024 * 1024
#: Deeper dotted keys are refused before parsing: tomllib's cost grows with the square of
#: the depth (10,000 levels take seconds and hundreds of MB); our deepest key has 3 levels.
MAX_KEY_DEPTH = 32
DEFAULT_SENDER = "News Digest <digest@localhost>"
GIVE_UP_AFTER = timedelta(days=3)  # an undeliverable message is marked failed after this


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
    sender: str = DEFAULT_SENDER  # the `from` key
    maildir: Path | None = None  # default: <state_dir>/mail
    smtp: Smtp | None = None
    give_up_after: timedelta = GIVE_UP_AFTER  # a message failing this long is marked failed


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

    def watchlist(self, name: str) -> Watchlist:
        return next(w for w in self.watchlists if w.name == name)

    def digest(self, name: str) -> DigestSpec:
        return next(d for d in self.digests if d.name == name)


# --- finding files and directories ----------------------------------------------------------

def find_config_path(explicit: str | None) -> Path:
    """--config, else $DIGEST_CONFIG, else ./config/digest.toml, else the platform config dir."""
    if explicit:
        candidates = [(Path(explicit), "--config")]
    elif os.environ.get("DIGEST_CONFIG"):
        candidates = [(Path(os.environ["DIGEST_CONFIG"]), "$DIGEST_CONFIG")]
    else:
        import platformdirs

        user = Path(platformdirs.user_config_dir("digest")) / "digest.toml"
        candidates = [(Path("config") / "digest.toml", "current directory"), (user, "user")]
    for path, _ in candidates:
        if path.is_file():
            return path
    looked = ", ".join(f"{path} ({why})" for path, why in candidates)
    raise ConfigError(f"no configuration found; looked in {looked}")


def resolve_state_dir(config: Config | None) -> Path:
    """$DIGEST_STATE_DIR, else ``state_dir``, else $STATE_DIRECTORY, else the user state dir."""
    override = os.environ.get("DIGEST_STATE_DIR")
    if override:
        return Path(override)
    if config is not None and config.state_dir is not None:
        return config.state_dir
    systemd = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd)
    import platformdirs

    return Path(platformdirs.user_state_dir("digest"))


DATABASE_NAME = "digest.sqlite"


def state_database(config: Config | None) -> Path:
    """The state database of ``config``: every command finds its state here."""
    return resolve_state_dir(config) / DATABASE_NAME


def maildir_path(config: Config) -> Path:
    """Where maildir delivery writes: ``delivery.maildir``, else ``mail`` in the state dir."""
    return config.delivery.maildir or resolve_state_dir(config) / "mail"


def smtp_password(smtp: Smtp) -> str | None:
    """The SMTP password (see ``smtp_password_source``), or None. Never logged or printed."""
    source = smtp_password_source(smtp)
    return source[1]() if source is not None else None


def smtp_password_source(smtp: Smtp) -> tuple[str, Callable[[], str]] | None:
    """Where the SMTP password comes from, as (description, read): the systemd credential
    ``smtp-password``, else ``password_file``, else the variable named by
    ``password_env``; None when there is none. ``read`` raises ConfigError naming the key."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    credential = Path(credentials) / "smtp-password" if credentials else None
    if credential is not None and credential.is_file():
        return ("systemd credential smtp-password",
                lambda: _read_secret(credential, "$CREDENTIALS_DIRECTORY"))
    password_file = smtp.password_file
    if password_file is not None:
        return (f"file {password_file}",
                lambda: _read_secret(password_file, "delivery.smtp.password_file"))
    variable = smtp.password_env
    if variable is not None:
        return f"${variable}", lambda: _environment_secret(variable)
    return None


def _environment_secret(variable: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        raise ConfigError(f"environment variable {variable} is not set",
                          key="delivery.smtp.password_env")
    return value


def _read_secret(path: Path, key: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read password file {path}: {reason}", key=key) from exc
    return text.removesuffix("\n").removesuffix("\r")


def system_timezone() -> ZoneInfo:
    """The system's zone: $TZ, else the name /etc/localtime links to, else UTC."""
    names = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        names.append(target.split("zoneinfo/", 1)[1])
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


# --- durations -----------------------------------------------------------------------------

_DURATION = re.compile(r"(?:\d+[smhdw])+")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """"90s", "15m", "2h", "7d" (also combined, "1h30m"); ValueError with a hint otherwise."""
    compact = text.strip()
    if not _DURATION.fullmatch(compact):
        raise ValueError(f"invalid duration {text!r}: write a number and a unit "
                         f"(s, m, h, d or w), like \"90s\", \"15m\", \"2h\" or \"7d\"")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(compact))
    try:
        return timedelta(seconds=seconds)
    except OverflowError as exc:
        raise ValueError(f"invalid duration {text!r}: too long") from exc


# --- loading -------------------------------------------------------------------------------

def load_config(path: Path, *, max_bytes: int = MAX_CONFIG_BYTES) -> Config:
    """Read and validate ``path``; raise ConfigError naming the file and key on any problem."""
    shown = str(path)
    data = _parse_toml(_read_bounded(path, max_bytes), shown)
    # Imported here, not at the top: digest.config_sections imports this module's values.
    from digest.config_sections import Builder

    return Builder(Path(path).absolute(), shown).config(data)


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration: {exc.strerror or exc}",
                          path=str(path)) from exc
    if len(data) > max_bytes:
        raise ConfigError(f"the file is larger than {max_bytes // (1024 * 1024)} MB; "
                          "is this really the configuration?", path=str(path))
    return data


_DEEP_KEY = re.compile(
    r"""(?:\.[ \t]*(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')[ \t]*){%s,}""".replace(
        "%s", str(MAX_KEY_DEPTH)))


def _parse_toml(data: bytes, shown: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"line {line}: not valid UTF-8 (byte {exc.start + 1})",
                          path=shown) from exc
    deep = _DEEP_KEY.search(text)
    if deep:
        line = text.count("\n", 0, deep.start()) + 1
        raise ConfigError(f"line {line}: keys nested deeper than {MAX_KEY_DEPTH} levels",
                          path=shown)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_message(str(exc), text), path=shown) from exc
    except RecursionError as exc:
        raise ConfigError("arrays or tables nested too deeply", path=shown) from exc


def _syntax_message(reason: str, text: str) -> str:
    """tomllib says "Reason (at line 3, column 7)"; we say "line 3, column 7: Reason"."""
    found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", reason, re.DOTALL)
    if found:
        return f"line {found[2]}, column {found[3]}: {found[1]}"
    found = re.fullmatch(r"(.*) \(at end of document\)", reason, re.DOTALL)
    if found:
        lines = text.splitlines() or [""]
        return f"line {len(lines)}, column {len(lines[-1]) + 1} (end of file): {found[1]}"
    return reason

