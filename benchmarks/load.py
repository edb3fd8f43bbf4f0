"""One poll-and-digest cycle over many feeds, a tenth of them broken and some slow.

    .venv/bin/python benchmarks/load.py [--feeds 1000] [--seed 7] [--slow-delay 5]

Serves N feeds from a local aiohttp server (tests/feed_server.py) listening on several
loopback addresses (127.0.0.1 … 127.0.0.20, so the fetcher's per-host limit applies as with
real hosts). 10 % fail in varied ways (404, 500, 410, a hang until the fetch timeout, a
redirect loop, an HTML page, malformed XML, a gzip bomb, a connection reset by a closed
port), 5 % answer only after ``--slow-delay`` seconds, the rest are healthy with one item
that matches the watchlist plus one that does not. Runs the real pipeline (``run_once``:
poll, record, match, build, queue, deliver to a Maildir) and prints wall time against the
poll interval, whether every healthy feed's match reached the digest, and whether every
failing feed was reported (in the run's report and in the digest's problems footer).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import gzip
import mailbox
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from digest.config import load_config  # noqa: E402
from digest.delivery import transport_for  # noqa: E402
from digest.pipeline import OnceReport, Runtime, run_once  # noqa: E402
from digest.store import Store  # noqa: E402
from tests.feed_server import FeedServer, Route  # noqa: E402
from tests.smtp_server import free_port  # noqa: E402

FAILURES = ("404", "500", "410", "hang", "redirect loop", "html page", "malformed",
            "gzip bomb", "refused")
WORDS = ("minister", "election", "border", "economy", "market", "police", "court", "climate",
         "energy", "summit", "leader", "vote", "crisis", "trade", "health", "school", "city",
         "region", "harbour", "bridge", "railway", "festival", "museum", "river", "forest")


@dataclass
class Scenario:
    """Routes to serve and what a correct cycle must show."""

    routes: dict[str, Route] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)  # feed name -> path (host added later)
    hosts: dict[str, int] = field(default_factory=dict)  # feed name -> host index
    healthy: dict[str, str] = field(default_factory=dict)  # feed name -> token of its match
    failing: dict[str, str] = field(default_factory=dict)  # feed name -> kind of failure
    slow: set[str] = field(default_factory=set)


def rss(entries: list[tuple[str, str, str]]) -> bytes:
    items = "".join(f"<item><title>{escape(t)}</title><guid>{g}</guid>"
                    f"<link>https://news.example/{g}</link>"
                    f"<description>{escape(d)}</description></item>" for t, g, d in entries)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>'
            f"<link>https://news.example/</link><description>d</description>{items}"
            f"</channel></rss>").encode()


def build_scenario(feeds: int, *, seed: int = 7, slow_delay: float = 5.0,
                   kinds: tuple[str, ...] = FAILURES, hosts: int = 1) -> Scenario:
    """``feeds`` feeds: 10 % failing (cycling through ``kinds``), 5 % slow, the rest fine."""
    rng = random.Random(seed)
    names = [f"feed-{n:04d}" for n in range(feeds)]
    order = names[:]
    rng.shuffle(order)
    failing = order[: feeds // 10]
    slow = set(order[feeds // 10: feeds // 10 + max(1, feeds // 20)])
    scenario = Scenario()
    bomb = gzip.compress(b"<rss>" + b" " * 30_000_000, 9)
    for index, name in enumerate(names):
        path = f"/{name}.xml"
        scenario.urls[name] = path
        scenario.hosts[name] = index % hosts
        if name in failing:
            kind = kinds[failing.index(name) % len(kinds)]
            scenario.failing[name] = kind
            scenario.routes[path] = failing_route(kind, path, bomb)
            continue
        token = f"tok{index:04d}"
        words = " ".join(rng.choice(WORDS) + f"{index}x{n}" for n in range(12))
        headline = " ".join(rng.sample(WORDS, 3))
        body = rss([(f"Kim Jong Un {headline} {token}", f"{name}-a",
                     f"Kim Jong Un was seen. {words}."),
                    (f"Weather {rng.choice(WORDS)} {index}", f"{name}-b", f"Rain. {words}.")])
        scenario.healthy[name] = token
        delay = slow_delay if name in slow else 0.0
        if name in slow:
            scenario.slow.add(name)
        scenario.routes[path] = Route.feed(body, delay=delay)
    return scenario


def failing_route(kind: str, path: str, bomb: bytes) -> Route:
    if kind in ("404", "500", "410"):
        return Route(body=b"no", status=int(kind), content_type="text/plain")
    if kind == "hang":
        return Route(hang=True)
    if kind == "redirect loop":
        return Route(status=302, redirect=path)
    if kind == "html page":
        return Route(body=b"<!doctype html><html><body>Not a feed</body></html>",
                     content_type="text/html")
    if kind == "malformed":
        return Route(body=b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>x'
                          b"</title></chan", content_type="text/xml")  # cut off, no items
    if kind == "gzip bomb":
        return Route(body=bomb, gzip=True, precompressed=True)
    return Route()  # "refused": the URL points at a closed port instead


def config_text(scenario: Scenario, base_urls: list[str], refused_url: str, *,
                every: str = "15m") -> str:
    blocks = []
    for name, path in scenario.urls.items():
        if scenario.failing.get(name) == "refused":
            url = refused_url + path
        else:
            url = base_urls[scenario.hosts[name] % len(base_urls)] + path
        blocks.append(f'[[sources.feeds]]\nname = "{name}"\nurl = "{url}"\n')
    feeds = "\n".join(blocks)
    return f"""\
timezone = "UTC"

[sources]
every = "{every}"

{feeds}
[[watchlists]]
name = "Korea"
terms = ["Kim Jong Un"]

[[digests]]
name = "Load"
schedule = "0 7 * * mon-fri"
to = ["you@example.com"]
max_stories = 100000

[delivery]
method = "maildir"
maildir = "mail"
"""


@dataclass
class Outcome:
    report: OnceReport
    text: str  # the digest's plain-text part
    seconds: float


async def run_cycle(scenario: Scenario, workdir: Path, *, hosts: int = 1) -> Outcome:
    """Serve the scenario, run one `digest once` cycle in process, read the digest back."""
    async with FeedServer(scenario.routes) as server:
        runner = server._runner  # extra loopback addresses share the server's handlers
        assert runner is not None
        bases = [server.url("")]
        for host in range(2, hosts + 1):
            site = web.TCPSite(runner, f"127.0.0.{host}", server.port)
            await site.start()
            bases.append(f"http://127.0.0.{host}:{server.port}")
        config_path = workdir / "digest.toml"
        config_path.write_text(config_text(scenario, bases, f"http://127.0.0.1:{free_port()}"))
        config = load_config(config_path)
        with Store.open(workdir / "state" / "digest.sqlite") as store:
            rt = Runtime.create(config, store, transport_for(config))
            started = time.perf_counter()
            report = await run_once(rt, digests=list(config.digests))
            seconds = time.perf_counter() - started
    box = mailbox.Maildir(workdir / "mail", create=True)
    texts = []
    for key in box.iterkeys():
        message = email.message_from_bytes(box.get_bytes(key), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        texts.append(body.get_content() if body is not None else "")
    return Outcome(report, "\n".join(texts), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--slow-delay", type=float, default=5.0)
    parser.add_argument("--hosts", type=int, default=20)
    args = parser.parse_args()
    scenario = build_scenario(args.feeds, seed=args.seed, slow_delay=args.slow_delay,
                              hosts=args.hosts)
    with tempfile.TemporaryDirectory(prefix="digest-load-") as tmp:
        outcome = asyncio.run(run_cycle(scenario, Path(tmp), hosts=args.hosts))
    interval = 15 * 60
    failed = {s.name: s.error for s in outcome.report.poll.failed}
    stories = outcome.text.split("Sources with problems:", 1)[0]
    # a healthy feed's match is in the digest as a story of its own or, when the clusterer
    # merged it with a look-alike, as "also reported by" that feed
    delivered = sum(name in stories for name in scenario.healthy)
    reported = sum(name in failed for name in scenario.failing)
    footer = outcome.text.split("Sources with problems:", 1)[-1]
    in_footer = sum(name in footer for name in scenario.failing)
    rows = [
        ("feeds", f"{args.feeds} on {args.hosts} loopback hosts"),
        ("failing (10 %)", f"{len(scenario.failing)}: " + ", ".join(
            f"{kind} ×{list(scenario.failing.values()).count(kind)}" for kind in FAILURES)),
        ("slow (5 %)", f"{len(scenario.slow)}, {args.slow_delay:g} s each"),
        ("cycle wall time", f"{outcome.seconds:.1f} s"),
        ("poll interval", f"{interval} s (default every = 15m)"),
        ("within interval", "yes" if outcome.seconds < interval else "NO"),
        ("healthy matches in digest", f"{delivered} / {len(scenario.healthy)}"),
        ("failing feeds reported", f"{reported} / {len(scenario.failing)} (run report), "
                                   f"{in_footer} / {len(scenario.failing)} (digest footer)"),
        ("unexpected failures", str(len(set(failed) - set(scenario.failing)))),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")
    ok = (delivered == len(scenario.healthy) and reported == len(scenario.failing)
          and outcome.seconds < interval)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
