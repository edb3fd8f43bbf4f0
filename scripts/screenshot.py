"""Render the digest of the bundled sample to PNG with headless Chromium, for the README.

    .venv/bin/python scripts/screenshot.py [--all] [--out docs] [--keep-html]

Builds the digest of the seed article (``seeds/``) for the watchlists of
``config/digest.toml`` with the bundled templates and a fixed clock, then takes the
desktop picture (1000 px, light) that the README shows; ``--all`` adds phone (390 px) and
dark mode. Installs Debian's ``chromium`` with apt-get when it is missing (needs root).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from digest.builder import build_digest
from digest.config import load_config
from digest.matcher import Matcher
from digest.models import Article, Digest
from digest.render import Renderer
from digest.sources.folder import read_article_file

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_75e658c5dd6fd6c5.txt"
CONFIG = REPO / "config" / "digest.toml"
TIMEZONE = ZoneInfo("Europe/London")
PERIOD_END = datetime(2023, 9, 15, 6, 0, tzinfo=timezone.utc)  # 07:00 in London
SEEN = datetime(2023, 9, 14, 8, 5, tzinfo=timezone.utc)
WIDTHS = {"phone": 390, "desktop": 1000}
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--allow-file-access-from-files",
)
def sample_article() -> Article:
    """The seed article, with a link (as a feed would give) and a fixed first-seen time."""
    article = read_article_file(SEED, source="seeds")
    return replace(article, url="https://example.com/news/putin-kim-invitation",
                   first_seen=SEEN)


def sample_digest() -> Digest:
    """The bundled config's first digest of the seed article."""
    config = load_config(CONFIG)
    matches = Matcher(config.watchlists).match(sample_article())
    return build_digest(config.digests[0], matches,
                        period_start=PERIOD_END - timedelta(hours=24), period_end=PERIOD_END)


def find_chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    print("chromium is missing: installing it with apt-get", file=sys.stderr)
    subprocess.run(["apt-get", "update"], check=True)
    subprocess.run(["apt-get", "install", "-y", "chromium"], check=True)
    found = shutil.which("chromium")
    if not found:
        raise SystemExit("chromium is still missing after apt-get install")
    return found


def run_chromium(chromium: str, profile: Path, *args: str) -> str:
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


def page_height(chromium: str, profile: Path, page: Path, width: int) -> int:
    """The email's height at ``width``: measured through a same-width iframe, because
    ``--dump-dom`` ignores ``--window-size``."""
    probe = page.with_name(f"measure-{width}.html")
    probe.write_text(
        f'<html><body style="margin:0"><iframe id="f" src="{page.name}" '
        f'style="width:{width}px;height:100px;border:0"></iframe><script>'
        "window.onload = function () { document.title = "
        "document.getElementById('f').contentDocument.documentElement.scrollHeight; };"
        "</script></body></html>",
        encoding="utf-8",
    )
    dom = run_chromium(chromium, profile, "--dump-dom", probe.as_uri())
    found = re.search(r"<title>(\d+)</title>", dom)
    if not found:
        raise SystemExit(f"could not measure the page at {width}px")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--all", action="store_true", help="phone and dark mode pictures too")
    parser.add_argument("--keep-html", action="store_true", help="also write digest.html")
    args = parser.parse_args()
    mail = Renderer(templates_dir=None, timezone=TIMEZONE).render_digest(sample_digest())
    chromium = find_chromium()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="digest-shot-") as tmp:
        page = Path(tmp) / "digest.html"
        page.write_text(mail.html, encoding="utf-8")
        if args.keep_html:
            shutil.copy(page, args.out / "digest.html")
        modes: tuple[tuple[str, tuple[str, ...]], ...] = (("light", ()),)
        if args.all:
            modes += (("dark", ("--force-dark-mode",)),)
        for label, width in WIDTHS.items() if args.all else [("desktop", WIDTHS["desktop"])]:
            height = page_height(chromium, Path(tmp) / "profile", page, width)
            for mode, flags in modes:
                png = args.out / f"digest-{label}-{mode}.png"
                run_chromium(chromium, Path(tmp) / "profile", *flags,
                             f"--window-size={width},{height}", f"--screenshot={png}",
                             page.as_uri())
                print(f"{png} ({width}×{height}, {png.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
