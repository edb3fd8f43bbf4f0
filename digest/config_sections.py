"""Building a Config from parsed TOML, one method per section of the file."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.config import (
    DEFAULT_SENDER,
    GIVE_UP_AFTER,
    Alerts,
    Config,
    Delivery,
    DigestSpec,
    FeedSource,
    FolderSource,
    Smtp,
    Sources,
    Watchlist,
    system_timezone,
)
from digest.config_checks import MISSING, Table, address_problem, closest
from digest.errors import ConfigError


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


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUIET = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


class Builder:
    """Turns parsed TOML into a Config, section by section."""

    def __init__(self, path: Path, shown: str) -> None:
        self.path, self.shown, self.base = path, shown, path.parent

    def config(self, data: dict[str, Any]) -> Config:
        top = Table(data, "", self, ("timezone", "state_dir", "templates_dir", "retention",
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

    def timezone(self, top: Table) -> ZoneInfo:
        name = top.text("timezone", None)
        if name is None:
            return system_timezone()
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise top.error("timezone", f"unknown time zone {name!r}; use an IANA name such "
                            "as \"Europe/London\" or \"UTC\"") from exc

    def sources(self, top: Table) -> Sources:
        table = top.table("sources", ("every", "opml", "folders", "feeds"))
        if table is None:
            return Sources()
        names: set[str] = set()
        folders = tuple(
            FolderSource(name=t.unique_name(names, "source"),
                         path=t.path("path", directory=True, default=MISSING),
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

    def url(self, table: Table) -> str:
        from digest.urls import is_web_url

        url = str(table.text("url"))
        if url.lower().startswith("file:"):
            raise table.error("url", "file:// URLs are not fetched; for local files use a "
                              "[[sources.folders]] source")
        if not is_web_url(url) or url != url.strip():
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

    def watchlists(self, top: Table) -> tuple[Watchlist, ...]:
        from digest.matcher import forget_parsed

        forget_parsed()  # the Matcher built next reuses what check_terms parses
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

    def check_terms(self, table: Table, watchlist: Watchlist) -> None:
        """The matcher owns the language: ask it, and put its error at the entry's key."""
        from digest.matcher import WatchlistQueryError, validate_watchlist

        try:
            validate_watchlist(watchlist)
        except WatchlistQueryError as exc:
            raise table.error(exc.entry, f"watchlist {watchlist.name!r}: {exc.error}") from exc

    def digests(self, top: Table, watchlists: tuple[Watchlist, ...],
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

    def schedule(self, table: Table, timezone: ZoneInfo) -> str:
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

    def addresses(self, table: Table, name: str) -> tuple[str, ...]:
        result = table.strings(name)
        for index, item in enumerate(result, 1):
            problem = address_problem(item)
            if problem:
                raise table.error(f"{name}[{index}]", f"{item!r} {problem}")
        return result

    def alerts(self, top: Table) -> Alerts | None:
        table = top.table("alerts", ("to", "min_interval", "quiet_hours"))
        if table is None:
            return None
        return Alerts(to=self.addresses(table, "to"),
                      min_interval=table.duration("min_interval", timedelta(minutes=10)),
                      quiet_hours=self.quiet_hours(table))

    def quiet_hours(self, table: Table) -> tuple[tuple[int, int], tuple[int, int]] | None:
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

    def delivery(self, top: Table) -> Delivery:
        table = top.table("delivery", ("method", "from", "maildir", "smtp", "give_up_after"))
        if table is None:
            return Delivery()
        smtp_table = table.table("smtp", ("host", "port", "security", "username",
                                          "password_env", "password_file", "timeout"))
        smtp = self.smtp(smtp_table) if smtp_table else None
        method = table.choice("method", ("smtp", "maildir", "stdout"),
                              "smtp" if smtp else "maildir")
        if method == "smtp" and smtp is None:
            raise table.error("method", 'method = "smtp" needs a [delivery.smtp] table')
        sender = str(table.text("from", DEFAULT_SENDER))
        problem = address_problem(sender, display_name=True)
        if problem:
            raise table.error("from", f"{sender!r} {problem}")
        give_up = table.duration("give_up_after", GIVE_UP_AFTER)
        return Delivery(method=method, sender=sender, maildir=table.path("maildir"), smtp=smtp,
                        give_up_after=give_up)

    def smtp(self, table: Table) -> Smtp:
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
