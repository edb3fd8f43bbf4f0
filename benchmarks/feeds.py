"""Feed polling at scale: cold and warm polls against the floors, in one command.

    .venv/bin/python benchmarks/feeds.py [--feeds 1000] [--items 30] [--latency 50]

Generates N realistic RSS feeds (M items each: a description of a few hundred characters,
content:encoded of 2–4 KB of HTML), serves them from a local aiohttp server in a separate
process on 20 loopback addresses with a per-request delay and ETag support, and times,
each scenario in a fresh subprocess (so peak RSS is its own):

  fetch floor    every body fetched with aiohttp, nothing parsed
  parse floor    every body parsed with feedparser (our settings), nothing fetched
  cold poll      FeedPoller.poll + Store.add_articles on an empty store: every item new
                 (fetch, parse, record; no matching)
  cold once      `digest once` (poll, match, record, build, summarize, deliver to a
                 Maildir) on an empty state: every item is new
  warm once      `digest once` again on that state: every feed answers 304

Runs every scenario in each of ``--rounds`` rounds (default 3) and prints one table of
medians: wall time, CPU time (including worker processes) and peak RSS; then each target
ratio as the median of the rounds' ratios (a round's runs are minutes apart, so a machine
whose speed drifts affects a floor and the run compared with it alike).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VOCABULARY = (
    "government minister election sanctions talks border economy market report police "
    "court climate energy summit leader vote crisis trade health school city region war "
    "peace deal budget tax company bank inflation storm flood village army protest "
    "official spokesman week year people country president north korea russia china "
    "europe africa india japan capital party opposition reform law strike union"
)
WORDS = VOCABULARY.split()
EPOCH = datetime(2026, 1, 5, 7, 0, tzinfo=timezone.utc)
HOSTS = 20  # loopback addresses serving the feeds


# -- the feeds ---------------------------------------------------------------------------
def sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def make_feed(index: int, items: int) -> bytes:
    rng = random.Random(index)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>Publisher {index} News</title>\n<link>https://news{index}.example/</link>\n"
        f"<description>Top stories from publisher {index}</description>\n"
    ]
    for item in range(items):
        slug = f"{index}-{item}-{rng.randrange(10**6)}"
        when = EPOCH - timedelta(minutes=17 * item + index % 60)
        description = " ".join(sentence(rng) for _ in range(rng.randint(3, 5)))
        paragraphs = []
        size = rng.randint(2000, 4000)
        while sum(len(p) for p in paragraphs) < size:
            text = " ".join(sentence(rng) for _ in range(4))
            paragraphs.append(f"<p>{text} <a href=\"/related/{rng.randrange(999)}\">more</a></p>")
        paragraphs.insert(1, f'<img src="https://img.example/{slug}.jpg" alt="photo"/>')
        parts.append(
            "<item>\n"
            f"<title>{sentence(rng, 6, 12)[:-1]}</title>\n"
            f"<link>https://news{index}.example/story/{slug}?utm_source=rss&amp;utm_medium=feed"
            "</link>\n"
            f'<guid isPermaLink="false">urn:news{index}:{slug}</guid>\n'
            f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate>\n"
            f"<dc:creator>Reporter {rng.randrange(50)}</dc:creator>\n"
            f"<description>{description}</description>\n"
            f"<content:encoded><![CDATA[{''.join(paragraphs)}]]></content:encoded>\n"
            "</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode()


# -- the server (its own process) ----------------------------------------------------------
def serve(feeds: int, items: int, latency_ms: float) -> None:
    from aiohttp import web

    bodies = [make_feed(index, items) for index in range(feeds)]
    etags = ['"' + hashlib.sha256(body).hexdigest()[:20] + '"' for body in bodies]
    delay = latency_ms / 1000

    async def handle(request: web.Request) -> web.StreamResponse:
        index = int(request.match_info["index"])
        await asyncio.sleep(delay)
        if request.headers.get("If-None-Match") == etags[index]:
            return web.Response(status=304, headers={"ETag": etags[index]})
        return web.Response(body=bodies[index], content_type="application/rss+xml",
                            headers={"ETag": etags[index]})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{index}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for host in range(2, HOSTS + 1):  # the same server on 127.0.0.2 … too
            await web.TCPSite(runner, f"127.0.0.{host}", port, backlog=1024).start()
        print(port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the scenarios (each in its own process) -----------------------------------------------
async def fetch_floor(args: argparse.Namespace) -> str:
    import aiohttp

    semaphore = asyncio.Semaphore(args.concurrency)
    total = 0
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(index: int) -> int:
            async with semaphore, session.get(feed_url(args, index)) as resp:
                return len(await resp.read())

        total = sum(await asyncio.gather(*(one(i) for i in range(args.feeds))))
    return f"{total / 1e6:.0f} MB"


def parse_floor(args: argparse.Namespace) -> str:
    import feedparser  # type: ignore[import-untyped]

    bodies = [make_feed(index, args.items) for index in range(args.feeds)]
    start_cpu = cpu_time()
    start = time.perf_counter()
    entries = 0
    for body in bodies:
        parsed = feedparser.parse(io.BytesIO(body), sanitize_html=False,
                                  resolve_relative_uris=False,
                                  response_headers={"content-type": "application/rss+xml"})
        entries += len(parsed.entries)
    args.timed = (time.perf_counter() - start, cpu_time() - start_cpu)
    return f"{entries} entries (generation not timed)"


async def poll(args: argparse.Namespace) -> str:
    """Polling alone, with the poller's own choice of threads or processes for parsing."""
    from digest.config import FeedSource
    from digest.sources.feeds import FeedPoller
    from digest.store import Store

    feeds = [FeedSource(f"feed {i}", feed_url(args, i)) for i in range(args.feeds)]
    now = EPOCH + timedelta(hours=1)
    with Store.open(Path(args.store)) as store:
        async with FeedPoller(concurrency=args.concurrency) as poller:
            results = await poller.poll(feeds, store, now, force=True)
        new = store.add_articles([a for r in results for a in r.articles], now)
    return f"{len(new)} new"


def digest_once(args: argparse.Namespace) -> str:
    """The real thing: `digest once` with a config listing every feed."""
    from digest.cli import main as digest_main

    state = Path(args.store)
    config = state / "digest.toml"
    if not config.exists():
        state.mkdir(parents=True, exist_ok=True)
        # two-word phrases of the generated vocabulary: about one item in five matches
        lines = ["[[watchlists]]", 'name = "Korea"', 'terms = ["North Korea", "trade deal"]',
                 "[[digests]]", 'name = "Briefing"', 'schedule = "0 7 * * *"',
                 'to = ["me@localhost"]', 'since = "3650d"',
                 "[delivery]", 'maildir = "mail"']
        for i in range(args.feeds):
            lines += ["[[sources.feeds]]", f'name = "feed {i}"', f'url = "{feed_url(args, i)}"']
        config.write_text("\n".join(lines) + "\n")
    os.environ["DIGEST_STATE_DIR"] = str(state)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = digest_main(["once", "--config", str(config), "--quiet"])
    if status != 0:
        raise SystemExit(f"digest once failed ({status}): {out.getvalue()}")
    return out.getvalue().splitlines()[0].replace("polled ", "")


def feed_url(args: argparse.Namespace, index: int) -> str:
    """Feeds spread over HOSTS loopback addresses, so per-host limits apply as with real
    feeds from many sites."""
    return f"http://127.0.0.{index % HOSTS + 1}:{args.port}/feed/{index}.xml"


def cpu_time() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_scenario(args: argparse.Namespace) -> None:
    args.timed = None
    start_cpu = cpu_time()
    start = time.perf_counter()
    if args.scenario == "fetch":
        note = asyncio.run(fetch_floor(args))
    elif args.scenario == "parse":
        note = parse_floor(args)
    elif args.scenario == "poll":
        note = asyncio.run(poll(args))
    else:
        note = digest_once(args)
    wall, cpu = args.timed or (time.perf_counter() - start, cpu_time() - start_cpu)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "rss": own, "workers_rss": kids, "note": note}))


# -- the driver ----------------------------------------------------------------------------
def child(args: argparse.Namespace, scenario: str, **extra: object) -> dict[str, object]:
    command = [sys.executable, __file__, "--scenario", scenario, "--port", str(args.port),
               "--feeds", str(args.feeds), "--items", str(args.items),
               "--concurrency", str(args.concurrency)]
    for key, value in extra.items():
        command += [f"--{key}", str(value)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--latency", type=float, default=50.0, help="ms per request")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of all scenarios; the table shows medians")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.items, args.latency)
        return
    if args.scenario:
        run_scenario(args)
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--feeds", str(args.feeds),
         "--items", str(args.items), "--latency", str(args.latency)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        args.port = int(server.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            rounds = [one_round(args, Path(tmp), index) for index in range(args.rounds)]
    finally:
        server.terminate()
        server.wait()
    report(args, rounds)


SCENARIOS = (
    ("fetch floor (aiohttp, no parsing)", "fetch"),
    ("parse floor (feedparser, 1 process)", "parse"),
    ("cold poll (no matching)", "poll"),
    ("cold digest once (all new)", "cold"),
    ("warm digest once (all 304)", "warm"),
)


def one_round(args: argparse.Namespace, tmp: Path, index: int) -> dict[str, dict[str, object]]:
    """Every scenario once, floors first: a round's ratios compare runs made minutes apart,
    which matters on a machine whose speed drifts."""
    state = tmp / f"state-{index}"
    extra: dict[str, dict[str, object]] = {
        "poll": {"store": tmp / f"poll-{index}.sqlite"}, "cold": {"store": state},
        "warm": {"store": state}}
    return {name: child(args, scenario, **extra.get(scenario, {}))
            for name, scenario in SCENARIOS}


def report(args: argparse.Namespace, rounds: list[dict[str, dict[str, object]]]) -> None:
    print(f"\n{args.feeds} feeds × {args.items} items, {args.latency:g} ms latency, "
          f"concurrency {args.concurrency}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}; median of {len(rounds)} round(s)\n")
    print(f"| {'scenario':<38} | {'wall s':>7} | {'CPU s':>7} | {'peak RSS MB':>11} | note")
    print(f"|{'-' * 40}|{'-' * 9}|{'-' * 9}|{'-' * 13}|------")
    for name, _ in SCENARIOS:
        runs = [r[name] for r in rounds]
        wall = statistics.median(float(run["wall"]) for run in runs)  # type: ignore[arg-type]
        cpu = statistics.median(float(run["cpu"]) for run in runs)  # type: ignore[arg-type]
        rss = f"{max(float(run['rss']) for run in runs):.0f}"  # type: ignore[arg-type]
        workers = max(float(run["workers_rss"]) for run in runs)  # type: ignore[arg-type]
        if workers > 1:
            rss += f" +{workers:.0f} in parse workers"
        print(f"| {name:<38} | {wall:>7.2f} | {cpu:>7.2f} | {rss:>11} | {runs[0]['note']}")
    print()
    (fetch, _), (parse, _), (poll, _), (cold, _), (warm, _) = SCENARIOS
    for name, floors in ((poll, (fetch, parse)), (cold, (fetch, parse)), (warm, (fetch,))):
        ratios = [float(r[name]["wall"])  # type: ignore[arg-type]
                  / max(float(r[floor]["wall"]) for floor in floors)  # type: ignore[arg-type]
                  for r in rounds]
        each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        which = "the fetch floor" if floors == (fetch,) else "the larger floor"
        print(f"{name}: {statistics.median(ratios):.2f}× {which} (target ≤ 1.5×; "
              f"rounds: {each})")


if __name__ == "__main__":
    main()
