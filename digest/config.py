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
"""

from __future__ import annotations

import difflib
import email.utils
import os
import re
import sys
from dataclasses import dataclass, field, replace
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
_DEFAULT_SENDER = "News Digest <digest@localhost>"


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
    sender: str = _DEFAULT_SENDER  # the `from` key
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


def smtp_password(smtp: Smtp) -> str | None:
    """The SMTP password: the systemd credential ``smtp-password``, else ``password_file``,
    else the variable named by ``password_env``, else None. Never logged, never printed."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / "smtp-password").is_file():
        return _read_secret(Path(credentials) / "smtp-password", "$CREDENTIALS_DIRECTORY")
    if smtp.password_file is not None:
        return _read_secret(smtp.password_file, "delivery.smtp.password_file")
    if smtp.password_env is not None:
        value = os.environ.get(smtp.password_env)
        if value is None:
            raise ConfigError(f"environment variable {smtp.password_env} is not set",
                              key="delivery.smtp.password_env")
        return value
    return None


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
    return _Builder(Path(path).absolute(), shown).config(data)


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


# --- checks on single values ----------------------------------------------------------------

def closest(name: str, known: list[str] | tuple[str, ...]) -> str | None:
    """The known name a typo most likely meant, or None."""
    found = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return found[0] if found else None


_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_NAMED = re.compile(r"\s*(?P<name>[^<>]*?)\s*<(?P<addr>[^<>]*)>\s*")


def address_problem(text: str, *, display_name: bool = False) -> str | None:
    """Why ``text`` is not a usable e-mail address, or None when it is.

    Strict on purpose: exactly one @, no spaces, no control characters (a CR/LF would add a
    header). ``display_name`` allows "Name <addr>" (the sender)."""
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        return "must not contain control characters (such as a line break)"
    named = _NAMED.fullmatch(text) if display_name else None
    addr = named["addr"] if named else text
    if named and ('"' in named["name"] or "," in named["name"] or "@" in named["name"]):
        return "the display name must not contain quotes, commas or @"
    if addr.count("@") != 1:
        return "must contain exactly one @"
    if email.utils.parseaddr(text)[1] != addr:
        return "is not a single e-mail address"
    local, domain = addr.split("@")
    if not _LOCAL.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        return "is not an e-mail address like you@example.com"
    return None


def replace_feeds(sources: Sources, extra: list[FeedSource]) -> Sources:
    """``sources`` with ``extra`` feeds appended: known URLs skipped, clashing names numbered."""
    urls = {feed.url for feed in sources.feeds}
    names = {folder.name for folder in sources.folders} | {f.name for f in sources.feeds}
    added: list[FeedSource] = []
    for feed in extra:
        if feed.url in urls:
            continue
        name, number = feed.name, 2
        while name in names:
            name, number = f"{feed.name} ({number})", number + 1
        urls.add(feed.url)
        names.add(name)
        added.append(replace(feed, name=name))
    return replace(sources, feeds=(*sources.feeds, *added))


# --- the schema ----------------------------------------------------------------------------

_MISSING: Any = object()
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUIET = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
          (list, "an array"), (dict, "a table"))


def _kind(value: object) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)), "a date or time")


class _Table:
    """One TOML table being read: typed getters whose errors name the key path."""

    def __init__(self, data: dict[str, Any], key: str, builder: _Builder,
                 known: tuple[str, ...]) -> None:
        self.data, self.key, self.builder = data, key, builder
        for name in data:
            if name == "password":
                raise self.error(name, "secrets never live in the configuration file: use "
                                 "password_env, password_file or the systemd credential "
                                 "smtp-password")
            if name not in known:
                hint = closest(name, known)
                raise self.error(name, f"unknown key; did you mean {hint!r}?" if hint else
                                 f"unknown key (known here: {', '.join(known)})")

    def at(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, message: str) -> ConfigError:
        key = self.at(name) if name else self.key
        if not key.isprintable():  # a key such as "a\nb" must not break the one-line message
            key = ascii(key)
        return ConfigError(message, path=self.builder.shown, key=key)

    def get(self, name: str, kinds: tuple[type, ...], what: str, default: Any) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise self.error(name, f"is required ({what})")
            return default
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(name, f"must be {what}, got {_kind(value)}")
        return value

    def text(self, name: str, default: Any = _MISSING) -> Any:
        value = self.get(name, (str,), "a string", default)
        if isinstance(value, str) and not value.strip():
            raise self.error(name, "must not be empty")
        return value

    def choice(self, name: str, options: tuple[str, ...], default: str) -> Any:
        value = self.text(name, default)
        if value not in options:
            hint = closest(value, options)
            raise self.error(name, f"must be one of {', '.join(options)}, got {value!r}"
                             + (f"; did you mean {hint!r}?" if hint else ""))
        return value

    def flag(self, name: str, default: bool) -> bool:
        return bool(self.get(name, (bool,), "true or false (a TOML boolean, not a string)",
                             default))

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = int(self.get(name, (int,), "a whole number", default))
        if not low <= value <= high:
            raise self.error(name, f"must be between {low} and {high}, got {value}")
        return value

    def duration(self, name: str, default: Any) -> Any:
        value = self.text(name, None)
        if value is None:
            return default
        try:
            result = parse_duration(value)
        except ValueError as exc:
            raise self.error(name, str(exc)) from exc
        if not result:
            raise self.error(name, "must be longer than zero")
        return result

    def strings(self, name: str, default: Any = _MISSING, *,
                allow_empty: bool = False) -> tuple[str, ...]:
        value = self.get(name, (list,), "a non-empty list of strings", default)
        if value is default:
            return tuple(default)
        what = "a list of strings" if allow_empty else "a non-empty list of strings"
        if not value and not allow_empty:
            raise self.error(name, f"must be {what}, got an empty list")
        for index, item in enumerate(value, 1):
            if not isinstance(item, str) or not item.strip():
                got = "an empty string" if isinstance(item, str) else _kind(item)
                raise self.error(name, f"must be {what}; item {index} is {got}")
        return tuple(value)

    def path(self, name: str, *, directory: bool = False, default: Any = None) -> Any:
        value = self.text(name, default)
        if value is None:
            return None
        path = (self.builder.base / Path(value).expanduser()).resolve()
        if directory and not path.is_dir():
            why = "is not a directory" if path.exists() else "does not exist"
            raise self.error(name, f"{path} {why}")
        return path

    def table(self, name: str, known: tuple[str, ...]) -> _Table | None:
        value = self.get(name, (dict,), f"a table, written [{self.at(name)}]", None)
        return None if value is None else _Table(value, self.at(name), self.builder, known)

    def tables(self, name: str, known: tuple[str, ...]) -> list[_Table]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(name, f"must be an array of tables, written [[{self.at(name)}]]")
        return [_Table(item, f"{self.at(name)}[{index}]", self.builder, known)
                for index, item in enumerate(value, 1)]

    def unique_name(self, seen: set[str], what: str) -> str:
        name = str(self.text("name"))
        if name in seen:
            raise self.error("name", f"{what} {name!r} is defined twice; names must be unique")
        seen.add(name)
        return name


class _Builder:
    """Turns parsed TOML into a Config, section by section."""

    def __init__(self, path: Path, shown: str) -> None:
        self.path, self.shown, self.base = path, shown, path.parent

    def config(self, data: dict[str, Any]) -> Config:
        top = _Table(data, "", self, ("timezone", "state_dir", "templates_dir", "retention",
                                      "sources", "watchlists", "digests", "alerts", "delivery"))
        timezone = self.timezone(top)
        watchlists = self.watchlists(top)
        alerts = self.alerts(top)
        for index, watchlist in enumerate(watchlists, 1):
            if watchlist.alert and alerts is None:
                raise ConfigError("alert = true needs an [alerts] table with 'to'",
                                  path=self.shown, key=f"watchlists[{index}].alert")
        return Config(
            path=self.path, timezone=timezone, state_dir=top.path("state_dir"),
            templates_dir=top.path("templates_dir", directory=True), sources=self.sources(top),
            watchlists=watchlists, digests=self.digests(top, watchlists, timezone),
            delivery=self.delivery(top), alerts=alerts,
            retention=top.duration("retention", timedelta(days=30)))

    def timezone(self, top: _Table) -> ZoneInfo:
        name = top.text("timezone", None)
        if name is None:
            return system_timezone()
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise top.error("timezone", f"unknown time zone {name!r}; use an IANA name such "
                            "as \"Europe/London\" or \"UTC\"") from exc

    def sources(self, top: _Table) -> Sources:
        table = top.table("sources", ("every", "opml", "folders", "feeds"))
        if table is None:
            return Sources()
        names: set[str] = set()
        folders = tuple(
            FolderSource(name=t.unique_name(names, "source"),
                         path=t.path("path", directory=True, default=_MISSING),
                         pattern=t.text("pattern", "*.txt"), every=t.duration("every", None))
            for t in table.tables("folders", ("name", "path", "pattern", "every")))
        feeds = tuple(
            FeedSource(name=t.unique_name(names, "source"), url=self.url(t),
                       every=t.duration("every", None))
            for t in table.tables("feeds", ("name", "url", "every")))
        opml = tuple(table.path(f"opml[{i}]", default=p) for i, p in
                     enumerate(table.strings("opml", ()), 1))
        sources = Sources(every=table.duration("every", timedelta(minutes=15)),
                          folders=folders, feeds=feeds, opml=opml)
        for index, path in enumerate(opml, 1):
            sources = replace_feeds(sources, self.read_opml(path, f"sources.opml[{index}]"))
        return sources

    def url(self, table: _Table) -> str:
        from urllib.parse import urlsplit

        url = str(table.text("url"))
        parts = urlsplit(url)
        if parts.scheme.lower() == "file":
            raise table.error("url", "file:// URLs are not fetched; for local files use a "
                              "[[sources.folders]] source")
        if (parts.scheme.lower() not in ("http", "https") or not parts.hostname
                or any(ord(c) <= 32 or ord(c) == 127 for c in url)):
            raise table.error("url", f"must be an http:// or https:// URL, got {url!r}")
        return url

    def read_opml(self, path: Path, key: str) -> list[FeedSource]:
        from digest.sources.opml import read_opml

        if not path.is_file():
            raise ConfigError(f"{path} does not exist", path=self.shown, key=key)
        try:
            return read_opml(path)
        except ConfigError as exc:
            raise ConfigError(str(exc), path=self.shown, key=key) from exc

    def watchlists(self, top: _Table) -> tuple[Watchlist, ...]:
        names: set[str] = set()
        result = []
        for t in top.tables("watchlists", ("name", "terms", "query", "exclude", "alert")):
            name = t.unique_name(names, "watchlist")
            if ("terms" in t.data) == ("query" in t.data):
                raise t.error("", "has both 'terms' and 'query'; use one of them"
                              if "terms" in t.data else
                              "needs 'terms' (a list of terms) or 'query' (one boolean query)")
            watchlist = Watchlist(name=name, terms=t.strings("terms", ()),
                                  query=t.text("query", None),
                                  exclude=t.strings("exclude", (), allow_empty=True),
                                  alert=t.flag("alert", False))
            self.check_terms(t, watchlist)
            result.append(watchlist)
        return tuple(result)

    def check_terms(self, table: _Table, watchlist: Watchlist) -> None:
        """The matcher owns the language: ask it, and put its QueryError at the right key."""
        from digest.errors import QueryError
        from digest.matcher import validate_watchlist

        try:
            validate_watchlist(watchlist)
        except NotImplementedError:
            return
        except QueryError as exc:
            key = "query" if exc.query == watchlist.query else "terms"
            for name in ("terms", "exclude"):
                items: tuple[str, ...] = getattr(watchlist, name)
                if exc.query in items:
                    key = f"{name}[{items.index(exc.query) + 1}]"
                    break
            message = f"{exc.reason} at position {exc.position + 1} in {exc.query!r}"
            raise table.error(key, f"watchlist {watchlist.name!r}: {message}") from exc

    def digests(self, top: _Table, watchlists: tuple[Watchlist, ...],
                timezone: ZoneInfo) -> tuple[DigestSpec, ...]:
        known = tuple(w.name for w in watchlists)
        names: set[str] = set()
        result = []
        for t in top.tables("digests", ("name", "schedule", "watchlists", "to", "since",
                                        "max_stories", "send_empty", "sentences")):
            name = t.unique_name(names, "digest")
            chosen = t.strings("watchlists", known)
            if not chosen:
                raise t.error("watchlists", "there are no [[watchlists]] for this digest")
            for item in chosen:
                if item not in known:
                    hint = closest(item, known)
                    raise t.error("watchlists", f"unknown watchlist {item!r}"
                                  + (f"; did you mean {hint!r}?" if hint else ""))
            result.append(DigestSpec(
                name=name, schedule=self.schedule(t, timezone), watchlists=chosen,
                to=self.addresses(t, "to"), since=t.duration("since", timedelta(hours=24)),
                max_stories=t.integer("max_stories", 30, 1, 100_000),
                send_empty=t.flag("send_empty", False), sentences=t.integer("sentences", 3, 1, 5)))
        return tuple(result)

    def schedule(self, table: _Table, timezone: ZoneInfo) -> str:
        from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

        fields = str(table.text("schedule")).split()
        if len(fields) != 5:
            raise table.error("schedule", f"must be a cron expression with 5 fields, got "
                              f"{len(fields)}: minute hour day month day-of-week, like "
                              "\"0 7 * * mon-fri\"")
        if any(char.isdigit() for char in fields[4]):
            raise table.error("schedule", f"day of week {fields[4]!r}: use day names such as "
                              "mon-fri or sun, not numbers (APScheduler counts 0 as Monday, cron "
                              "as Sunday)")
        expression = " ".join(fields)
        try:
            CronTrigger.from_crontab(expression, timezone=timezone)
        except ValueError as exc:
            raise table.error("schedule", f"invalid cron expression {expression!r}: {exc}") from exc
        return expression

    def addresses(self, table: _Table, name: str) -> tuple[str, ...]:
        result = table.strings(name)
        for index, item in enumerate(result, 1):
            problem = address_problem(item)
            if problem:
                raise table.error(f"{name}[{index}]", f"{item!r} {problem}")
        return result

    def alerts(self, top: _Table) -> Alerts | None:
        table = top.table("alerts", ("to", "min_interval", "quiet_hours"))
        if table is None:
            return None
        return Alerts(to=self.addresses(table, "to"),
                      min_interval=table.duration("min_interval", timedelta(minutes=10)),
                      quiet_hours=self.quiet_hours(table))

    def quiet_hours(self, table: _Table) -> tuple[tuple[int, int], tuple[int, int]] | None:
        text = table.text("quiet_hours", None)
        if text is None:
            return None
        found = _QUIET.fullmatch(text.strip())
        start = (int(found[1]), int(found[2])) if found else (99, 99)
        end = (int(found[3]), int(found[4])) if found else (99, 99)
        if not all(hour < 24 and minute < 60 for hour, minute in (start, end)):
            raise table.error("quiet_hours", f"must be \"HH:MM-HH:MM\" like \"22:00-07:00\", "
                              f"got {text!r}")
        if start == end:
            raise table.error("quiet_hours", "start and end are the same time")
        return start, end

    def delivery(self, top: _Table) -> Delivery:
        table = top.table("delivery", ("method", "from", "maildir", "smtp"))
        if table is None:
            return Delivery()
        smtp_table = table.table("smtp", ("host", "port", "security", "username",
                                          "password_env", "password_file", "timeout"))
        smtp = self.smtp(smtp_table) if smtp_table else None
        method = table.choice("method", ("smtp", "maildir", "stdout"),
                              "smtp" if smtp else "maildir")
        if method == "smtp" and smtp is None:
            raise table.error("method", 'method = "smtp" needs a [delivery.smtp] table')
        sender = str(table.text("from", _DEFAULT_SENDER))
        problem = address_problem(sender, display_name=True)
        if problem:
            raise table.error("from", f"{sender!r} {problem}")
        return Delivery(method=method, sender=sender, maildir=table.path("maildir"), smtp=smtp)

    def smtp(self, table: _Table) -> Smtp:
        host = str(table.text("host"))
        if any(ord(c) <= 32 or c in "/@" for c in host):
            raise table.error("host", f"{host!r} is not a host name")
        security = table.choice("security", ("starttls", "tls", "none"), "starttls")
        if security == "none" and host.lower() not in _LOCAL_HOSTS:
            raise table.error("security", 'security = "none" sends mail and password '
                              "unencrypted; it is allowed only for localhost, 127.0.0.1 or ::1")
        password_env = table.text("password_env", None)
        if password_env is not None and not _ENV_NAME.fullmatch(password_env):
            raise table.error("password_env", f"{password_env!r} is not an environment "
                              "variable name")
        password_file = table.path("password_file")
        if password_env is not None and password_file is not None:
            raise table.error("password_file", "use either password_env or password_file, "
                              "not both")
        defaults = {"starttls": 587, "tls": 465, "none": 25}
        return Smtp(host=host, port=table.integer("port", defaults[security], 1, 65535),
                    security=security, username=table.text("username", None),
                    password_env=password_env, password_file=password_file,
                    timeout=table.duration("timeout", timedelta(seconds=30)))
