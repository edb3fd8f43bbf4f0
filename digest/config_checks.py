"""Checks on configuration values: typed getters whose errors name the key path.

``Table`` reads one parsed TOML table: every getter checks the type (and range, emptiness …)
of one key and raises a ConfigError naming the file and the key path, with the closest known
key or option as a hint where a typo is likely.
"""

from __future__ import annotations

import difflib
import email.utils
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.config import parse_duration
from digest.errors import ConfigError

if TYPE_CHECKING:
    from digest.config_sections import Builder


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


# --- the schema ----------------------------------------------------------------------------

MISSING: Any = object()
_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
          (list, "an array"), (dict, "a table"))


def _kind(value: object) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)), "a date or time")


class Table:
    """One TOML table being read: typed getters whose errors name the key path."""

    def __init__(self, data: dict[str, Any], key: str, builder: Builder,
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
        value = self.data.get(name, MISSING)
        if value is MISSING:
            if default is MISSING:
                raise self.error(name, f"is required ({what})")
            return default
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(name, f"must be {what}, got {_kind(value)}")
        return value

    def text(self, name: str, default: Any = MISSING) -> Any:
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

    def strings(self, name: str, default: Any = MISSING, *,
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

    def table(self, name: str, known: tuple[str, ...]) -> Table | None:
        value = self.get(name, (dict,), f"a table, written [{self.at(name)}]", None)
        return None if value is None else Table(value, self.at(name), self.builder, known)

    def tables(self, name: str, known: tuple[str, ...]) -> list[Table]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(name, f"must be an array of tables, written [[{self.at(name)}]]")
        return [Table(item, f"{self.at(name)}[{index}]", self.builder, known)
               for index, item in enumerate(value, 1)]

    def unique_name(self, seen: set[str], what: str) -> str:
        name = str(self.text("name"))
        if name in seen:
            raise self.error("name", f"{what} {name!r} is defined twice; names must be unique")
        seen.add(name)
        return name

