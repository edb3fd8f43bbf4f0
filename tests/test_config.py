"""The configuration file: what a user writes, what they get, and every error naming its key."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest.config import (
    Smtp,
    find_config_path,
    load_config,
    parse_duration,
    resolve_state_dir,
    smtp_password,
)
from digest.errors import ConfigError
from tests.conftest import REPO

SOURCES = '[[sources.folders]]\nname = "local"\npath = "articles"\n'
WATCH = '[[watchlists]]\nname = "Korea"\nterms = ["Kim Jong Un"]\n'
DIGEST = '[[digests]]\nname = "Morning"\nschedule = "0 7 * * mon-fri"\nto = ["you@localhost"]\n'
VALID = SOURCES + WATCH + DIGEST


def digest_with(line: str) -> str:
    return SOURCES + WATCH + DIGEST + line + "\n"


def smtp_with(lines: str, method: str = "smtp") -> str:
    return VALID + f'[delivery]\nmethod = "{method}"\n[delivery.smtp]\n{lines}\n'


def write(tmp_path: Path, text: str | bytes, name: str = "digest.toml") -> Path:
    """A config file next to an `articles/` folder, as a user would lay it out."""
    (tmp_path / "articles").mkdir(exist_ok=True)
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


BROKEN = [
    ("syntax", 'timezone = "UTC"\n\nterms ["a"]\n', "line 3, column"),
    ("duplicate-key", 'retention = "1d"\nretention = "2d"\n',
     "line 2, column 17: Cannot overwrite"),
    ("unterminated-string", 'timezone = "UTC\n', "line 1, column"),
    ("unknown-top-key", 'timezon = "UTC"\n' + VALID,
     "timezon: unknown key; did you mean 'timezone'?"),
    ("unknown-watch-key", VALID + '[[watchlists]]\nname = "X"\nterm = ["a"]\n',
     "watchlists[2].term: unknown key; did you mean 'terms'?"),
    ("unknown-section", VALID + "[alert]\n", "alert: unknown key; did you mean 'alerts'?"),
    ("empty-terms", SOURCES + '[[watchlists]]\nname = "K"\nterms = []\n',
     "watchlists[1].terms: must be a non-empty list of strings"),
    ("terms-not-list", SOURCES + '[[watchlists]]\nname = "K"\nterms = "Kim"\n',
     "watchlists[1].terms: must be a non-empty list of strings"),
    ("term-not-string", WATCH + '[[watchlists]]\nname = "K2"\nterms = ["a", 3]\n',
     "watchlists[2].terms: must be a non-empty list of strings; item 2 is an integer"),
    ("terms-and-query", '[[watchlists]]\nname = "K"\nterms = ["a"]\nquery = "b"\n',
     "watchlists[1]: has both 'terms' and 'query'"),
    ("neither", '[[watchlists]]\nname = "K"\nalert = false\n', "watchlists[1]: needs 'terms'"),
    ("dup-watchlist", WATCH + WATCH, "watchlists[2].name: watchlist 'Korea' is defined twice"),
    ("watchlists-table", '[watchlists]\nname = "K"\n', "watchlists: must be an array of tables"),
    ("bad-query", '[[watchlists]]\nname = "S"\nquery = "(sanctions OR Russia"\n',
     "watchlists[1].query: watchlist 'S': unbalanced"),
    ("bad-term", '[[watchlists]]\nname = "S"\nterms = ["ok", "/[unclosed/"]\n',
     "watchlists[1].terms[2]: watchlist 'S':"),
    ("bad-exclude", '[[watchlists]]\nname = "S"\nterms = ["a"]\nexclude = ["\\"open"]\n',
     "watchlists[1].exclude[1]: watchlist 'S':"),
    ("alert-without-alerts", '[[watchlists]]\nname = "K"\nterms = ["a"]\nalert = true\n',
     "watchlists[1].alert: alert = true needs an [alerts] table"),
    ("alert-string", '[[watchlists]]\nname = "K"\nterms = ["a"]\nalert = "yes"\n',
     "watchlists[1].alert: must be true or false"),
    ("unknown-watchlist", WATCH + DIGEST + 'watchlists = ["Koera"]\n',
     "digests[1].watchlists: unknown watchlist 'Koera'; did you mean 'Korea'?"),
    ("dup-digest", WATCH + DIGEST + DIGEST, "digests[2].name: digest 'Morning' is defined twice"),
    ("bad-since", digest_with('since = "1 day"'), "digests[1].since: invalid duration '1 day'"),
    ("zero-since", digest_with('since = "0h"'), "digests[1].since: must be longer than zero"),
    ("numeric-dow", WATCH + '[[digests]]\nname = "M"\nschedule = "0 7 * * 1-5"\nto = ["a@b"]\n',
     "digests[1].schedule: day of week '1-5': use day names"),
    ("four-fields", WATCH + '[[digests]]\nname = "M"\nschedule = "0 7 * *"\nto = ["a@b"]\n',
     "digests[1].schedule: must be a cron expression with 5 fields, got 4"),
    ("bad-minute", WATCH + '[[digests]]\nname = "M"\nschedule = "61 7 * * mon"\nto = ["a@b"]\n',
     "digests[1].schedule: invalid cron expression '61 7 * * mon'"),
    ("no-schedule", WATCH + '[[digests]]\nname = "M"\nto = ["a@b"]\n',
     "digests[1].schedule: is required"),
    ("no-to", WATCH + '[[digests]]\nname = "M"\nschedule = "0 7 * * *"\n',
     "digests[1].to: is required"),
    ("crlf-address", WATCH + DIGEST.replace('"you@localhost"', '"you@localhost\\r\\nBcc: x@evil"'),
     "digests[1].to[1]: 'you@localhost\\r\\nBcc: x@evil' must not contain control characters"),
    ("no-at", WATCH + DIGEST.replace('"you@localhost"', '"a@b", "you"'),
     "digests[1].to[2]: 'you'"),
    ("two-at", WATCH + DIGEST.replace('"you@localhost"', '"a@b@c"'),
     "digests[1].to[1]: 'a@b@c' must contain exactly one @"),
    ("newline-in-key", '"time\\nzone" = "UTC"\n', "'time\\nzone': unknown key"),
    ("space-in-address", WATCH + DIGEST.replace('"you@localhost"', '"y ou@localhost"'),
     "digests[1].to[1]: 'y ou@localhost'"),
    ("max-stories-zero", digest_with("max_stories = 0"),
     "digests[1].max_stories: must be between 1"),
    ("max-stories-string", digest_with('max_stories = "30"'),
     "digests[1].max_stories: must be a whole number, got a string"),
    ("send-empty-string", digest_with('send_empty = "false"'),
     "digests[1].send_empty: must be true or false"),
    ("sentences", digest_with("sentences = 6"), "digests[1].sentences: must be between 1 and 5"),
    ("bad-timezone", 'timezone = "Mars/Olympus"\n', "timezone: unknown time zone 'Mars/Olympus'"),
    ("timezone-path", 'timezone = "../../etc/passwd"\n', "timezone: unknown time zone"),
    ("bad-retention", 'retention = "forever"\n', "retention: invalid duration 'forever'"),
    ("quiet-hours", VALID + '[alerts]\nto = ["a@b"]\nquiet_hours = "25:00-07:00"\n',
     "alerts.quiet_hours: must be \"HH:MM-HH:MM\""),
    ("min-interval", VALID + '[alerts]\nto = ["a@b"]\nmin_interval = 10\n',
     "alerts.min_interval: must be a string, got an integer"),
    ("folder-missing", '[[sources.folders]]\nname = "x"\npath = "nowhere"\n',
     "sources.folders[1].path: "),
    ("folder-no-name", '[[sources.folders]]\npath = "articles"\n',
     "sources.folders[1].name: is required"),
    ("feed-file-url", '[[sources.feeds]]\nname = "f"\nurl = "file:///etc/passwd"\n',
     "sources.feeds[1].url: file:// URLs are not fetched; for local files use a "
     "[[sources.folders]]"),
    ("feed-ftp-url", '[[sources.feeds]]\nname = "f"\nurl = "ftp://example.com/feed"\n',
     "sources.feeds[1].url: must be an http:// or https:// URL"),
    ("feed-broken-ipv6-url", '[[sources.feeds]]\nname = "f"\nurl = "http://[::1/feed"\n',
     "sources.feeds[1].url: must be an http:// or https:// URL"),
    ("feed-url-with-bidi", '[[sources.feeds]]\nname = "f"\nurl = "https://a.example/\u202egnp.exe"\n',
     "sources.feeds[1].url: must be an http:// or https:// URL"),
    ("dup-source", SOURCES + '[[sources.feeds]]\nname = "local"\nurl = "https://example.com/"\n',
     "sources.feeds[1].name: source 'local' is defined twice"),
    ("bad-every", '[sources]\nevery = "15"\n', "sources.every: invalid duration '15'"),
    ("opml-missing", '[sources]\nopml = ["subs.opml"]\n', "sources.opml[1]: "),
    ("templates-missing", 'templates_dir = "my-templates"\n', "templates_dir: "),
    ("method", VALID + '[delivery]\nmethod = "smpt"\n',
     "delivery.method: must be one of smtp, maildir, stdout, got 'smpt'; did you mean 'smtp'?"),
    ("smtp-without-table", VALID + '[delivery]\nmethod = "smtp"\n',
     'delivery.method: method = "smtp" needs a [delivery.smtp] table'),
    ("from-crlf", VALID + '[delivery]\nfrom = "Digest <d@x>\\nBcc: e@vil"\n',
     "delivery.from: "),
    ("none-remote", smtp_with('host = "smtp.example.com"\nsecurity = "none"'),
     'delivery.smtp.security: security = "none" sends mail and password unencrypted'),
    ("security-ssl", smtp_with('host = "smtp.example.com"\nsecurity = "ssl"'),
     "delivery.smtp.security: must be one of starttls, tls, none, got 'ssl'"),
    ("port-range", smtp_with('host = "smtp.example.com"\nport = 70000'),
     "delivery.smtp.port: must be between 1 and 65535, got 70000"),
    ("port-bool", smtp_with('host = "smtp.example.com"\nport = true'),
     "delivery.smtp.port: must be a whole number, got a boolean"),
    ("both-passwords", smtp_with('host = "h"\npassword_env = "PW"\npassword_file = "pw.txt"'),
     "delivery.smtp.password_file: use either password_env or password_file, not both"),
    ("password-in-file", smtp_with('host = "h"\npassword = "hunter2"'),
     "delivery.smtp.password: secrets never live in the configuration file"),
    ("bad-env-name", smtp_with('host = "h"\npassword_env = "MY PASSWORD"'),
     "delivery.smtp.password_env: 'MY PASSWORD' is not an environment variable name"),
    ("no-host", smtp_with('port = 25'), "delivery.smtp.host: is required"),
    ("bad-timeout", smtp_with('host = "h"\ntimeout = "30 seconds"'), "delivery.smtp.timeout:"),
    ("invalid-utf8", b'timezone = "UTC"\n# caf\xe9\n', "line 2: not valid UTF-8"),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_configuration_names_file_and_key(tmp_path: Path, text: str | bytes,
                                                 expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message  # one line, whatever the input
    assert caught.value.exit_status == 2


def test_bundled_example_loads_as_documented() -> None:
    config = load_config(REPO / "config" / "digest.toml")
    assert config.state_dir == REPO / "var"
    assert [(f.name, f.path, f.pattern) for f in config.sources.folders] == [
        ("seeds", REPO / "seeds", "*.txt")]
    korea = config.watchlist("Korea")
    assert korea.terms == ("Kim Jong Un", "North Korea", "Pyongyang")
    assert "sanctions" in config.watchlist("Sanctions").terms
    morning = config.digest("Morning briefing")
    assert morning.schedule == "0 7 * * mon-fri"
    assert morning.to == ("you@localhost",)
    assert morning.since == timedelta(hours=24)
    assert config.delivery.method == "maildir"
    assert config.delivery.maildir == REPO / "var" / "mail"


def test_defaults_fill_what_is_left_out(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID))
    assert config.sources.every == timedelta(minutes=15)
    assert config.sources.folders[0].pattern == "*.txt"
    assert config.sources.folders[0].every is None
    assert config.digests[0].watchlists == ("Korea",)  # absent: all watchlists
    assert (config.digests[0].since, config.digests[0].max_stories) == (timedelta(hours=24), 30)
    assert (config.digests[0].sentences, config.digests[0].send_empty) == (3, False)
    assert config.delivery.method == "maildir"
    assert config.delivery.maildir is None
    assert config.delivery.sender == "News Digest <digest@localhost>"
    assert config.retention == timedelta(days=30)
    assert config.alerts is None


def test_every_documented_key_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "my-templates").mkdir()
    text = """
timezone = "Europe/London"
state_dir = "../var"
templates_dir = "my-templates"
retention = "14d"
[sources]
every = "15m"
[[sources.folders]]
name = "seeds"
path = "articles"
pattern = "*.md"
every = "1m"
[[sources.feeds]]
name = "BBC World"
url = "https://feeds.bbci.co.uk/news/world/rss.xml"
every = "10m"
[[watchlists]]
name = "Korea"
terms = ["Kim Jong Un", "North Korea", "Pyongyang"]
exclude = ["K-pop"]
alert = true
[[watchlists]]
name = "Sanctions"
query = 'sanction* AND (Russia OR "North Korea")'
[[digests]]
name = "Morning briefing"
schedule = "0 7 * * mon-fri"
watchlists = ["Korea", "Sanctions"]
to = ["you@example.com"]
since = "24h"
max_stories = 30
send_empty = true
sentences = 2
[alerts]
to = ["you@example.com"]
min_interval = "10m"
quiet_hours = "22:00-07:00"
[delivery]
method = "smtp"
from = "News Digest <digest@localhost>"
maildir = "../var/mail"
[delivery.smtp]
host = "smtp.example.com"
port = 587
security = "starttls"
username = "digest@example.com"
password_env = "DIGEST_SMTP_PASSWORD"
timeout = "1m30s"
"""
    config = load_config(write(tmp_path, text))
    assert config.timezone == ZoneInfo("Europe/London")
    assert config.state_dir == tmp_path.parent / "var"
    assert config.templates_dir == tmp_path / "my-templates"
    assert config.sources.folders[0].every == timedelta(minutes=1)
    assert config.sources.feeds[0].every == timedelta(minutes=10)
    assert config.watchlist("Korea").exclude == ("K-pop",)
    assert config.watchlist("Korea").alert is True
    assert config.watchlist("Sanctions").query == 'sanction* AND (Russia OR "North Korea")'
    assert config.digests[0].send_empty is True
    assert config.alerts is not None
    assert config.alerts.quiet_hours == ((22, 0), (7, 0))
    assert config.delivery.smtp == Smtp(host="smtp.example.com", port=587, security="starttls",
                                        username="digest@example.com",
                                        password_env="DIGEST_SMTP_PASSWORD",
                                        timeout=timedelta(seconds=90))


def test_smtp_table_implies_smtp_and_port_follows_security(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID + '[delivery.smtp]\nhost = "mail.example.com"\n'
                                                 'security = "tls"\n'))
    assert config.delivery.method == "smtp"
    assert config.delivery.smtp is not None
    assert config.delivery.smtp.port == 465
    local = load_config(write(tmp_path, VALID + '[delivery.smtp]\nhost = "localhost"\n'
                                                'security = "none"\n'))
    assert local.delivery.smtp is not None
    assert local.delivery.smtp.port == 25


def test_relative_paths_are_relative_to_the_file_not_the_cwd(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data" / "news").mkdir(parents=True)
    text = ('state_dir = "../state"\n[[sources.folders]]\nname = "n"\npath = "../data/news"\n'
            f'[[sources.folders]]\nname = "abs"\npath = "{tmp_path / "data"}"\n'
            '[delivery]\nmaildir = "mail"\n[delivery.smtp]\nhost = "h"\npassword_file = "pw"\n'
            '[[watchlists]]\nname = "w"\nterms = ["x"]\n')
    write(tmp_path, text, "etc/digest.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path("../etc/digest.toml"))
    assert config.path == tmp_path / "elsewhere" / ".." / "etc" / "digest.toml"
    assert config.state_dir == tmp_path / "state"
    assert config.sources.folders[0].path == tmp_path / "data" / "news"
    assert config.sources.folders[1].path == tmp_path / "data"
    assert config.delivery.maildir == tmp_path / "etc" / "mail"
    assert config.delivery.smtp is not None
    assert config.delivery.smtp.password_file == tmp_path / "etc" / "pw"


def test_default_timezone_is_the_systems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Seoul")
    assert load_config(write(tmp_path, VALID)).timezone == ZoneInfo("Asia/Seoul")
    monkeypatch.setenv("TZ", "Not/AZone")
    assert load_config(write(tmp_path, VALID)).timezone.key  # falls back, never fails


def test_opml_feeds_are_added_after_the_listed_ones(tmp_path: Path) -> None:
    (tmp_path / "subs.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="News">'
        '<outline text="Feed A" xmlUrl="https://a.example/rss"/>'
        '<outline text="Mine" xmlUrl="https://b.example/rss"/>'
        '<outline text="Dup" xmlUrl="https://mine.example/rss"/>'
        '</outline></body></opml>', encoding="utf-8")
    text = ('[sources]\nopml = ["subs.opml"]\n[[sources.feeds]]\nname = "Mine"\n'
            'url = "https://mine.example/rss"\n')
    config = load_config(write(tmp_path, text))
    assert [(f.name, f.url) for f in config.sources.feeds] == [
        ("Mine", "https://mine.example/rss"),
        ("Feed A", "https://a.example/rss"),
        ("Mine (2)", "https://b.example/rss"),  # a clashing name is numbered, a known URL kept once
    ]
    assert config.sources.opml == (tmp_path / "subs.opml",)


def test_broken_opml_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "subs.opml").write_text("<opml><body>", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.opml\[1\]: .*subs\.opml"):
        load_config(write(tmp_path, '[sources]\nopml = ["subs.opml"]\n'))


def test_missing_file_and_directory_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration: No such file"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path)


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_bytes(b"# padding\n" * 1_100_000)  # 11 MB of comments
    with pytest.raises(ConfigError, match="larger than 10 MB"):
        load_config(path)


@pytest.mark.parametrize("text", ["a = " + "[" * 100_000, "a = " + "{b = " * 50_000,
                                  "a" + ".a" * 50_000 + " = 1\n", "[a" + ".a" * 50_000 + "]\n"])
def test_deep_nesting_is_refused_quickly(tmp_path: Path, text: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match="nested"):
        load_config(write(tmp_path, text))
    assert time.monotonic() - started < 5  # tomllib alone would take minutes on the dotted keys


def test_duplicate_key_error_reports_line_at_end_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 2, column 6 \(end of file\): Cannot overwrite"):
        load_config(write(tmp_path, "x = 1\nx = 2"))


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("15m", 900), ("2h", 7200), ("7d", 604800), ("1h30m", 5400), ("2w", 1209600),
    (" 10m ", 600), ("0s", 0)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "m", "1.5h", "-5m", "15 minutes", "1H", "1y",
                                  "9" * 30 + "d"])
def test_parse_duration_rejects_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration") as caught:
        parse_duration(text)
    assert '"15m"' in str(caught.value) or "too long" in str(caught.value)


def test_state_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write(tmp_path, 'state_dir = "configured"\n'))
    monkeypatch.setenv("DIGEST_STATE_DIR", str(tmp_path / "override"))
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path / 'systemd'}:{tmp_path / 'other'}")
    assert resolve_state_dir(config) == tmp_path / "override"
    monkeypatch.delenv("DIGEST_STATE_DIR")
    assert resolve_state_dir(config) == tmp_path / "configured"
    assert resolve_state_dir(None) == tmp_path / "systemd"
    monkeypatch.delenv("STATE_DIRECTORY")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert resolve_state_dir(None) == tmp_path / "xdg" / "digest"


def test_find_config_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    with pytest.raises(ConfigError, match=r"no configuration found; looked in config/digest\.toml"):
        find_config_path(None)
    user = write(tmp_path, "", "xdg/digest/digest.toml")
    assert find_config_path(None) == user
    local = write(tmp_path, "", "config/digest.toml")
    assert find_config_path(None).resolve() == local
    env = write(tmp_path, "", "env.toml")
    monkeypatch.setenv("DIGEST_CONFIG", str(env))
    assert find_config_path(None) == env
    assert find_config_path(str(user)) == user
    with pytest.raises(ConfigError, match=r"looked in nope\.toml \(--config\)"):
        find_config_path("nope.toml")


def test_password_from_env_file_and_credential(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert smtp_password(Smtp(host="h")) is None
    by_env = Smtp(host="h", password_env="DIGEST_TEST_PW")
    with pytest.raises(ConfigError, match=r"delivery\.smtp\.password_env: .*DIGEST_TEST_PW"):
        smtp_password(by_env)
    monkeypatch.setenv("DIGEST_TEST_PW", "from-env")
    assert smtp_password(by_env) == "from-env"
    secret = tmp_path / "pw"
    secret.write_text("from-file\n\n", encoding="utf-8")
    assert smtp_password(Smtp(host="h", password_file=secret)) == "from-file\n"  # one newline off
    with pytest.raises(ConfigError, match=r"delivery\.smtp\.password_file: cannot read"):
        smtp_password(Smtp(host="h", password_file=tmp_path / "absent"))
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "smtp-password").write_text("from-systemd\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert smtp_password(by_env) == "from-systemd"
    assert smtp_password(Smtp(host="h", password_file=secret)) == "from-systemd"


def test_errors_never_show_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_TEST_PW", "s3cret-value")
    path = write(tmp_path, smtp_with('host = "smtp.example.com"\nsecurity = "none"\n'
                                     'password_env = "DIGEST_TEST_PW"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "s3cret-value" not in str(caught.value)
    assert os.environ["DIGEST_TEST_PW"] == "s3cret-value"
