"""`digest run`: the process lifecycle around the scheduler.

    start     load the config (a ConfigError ends the process with status 2 before READY),
              lock the state directory, open the store, build the jobs, catch up missed
              digests, start the scheduler, then READY=1
    SIGHUP    RELOADING=1; a valid new config replaces the watchlists, templates, transport
              and jobs (running jobs carry on); an invalid one is logged and the old stays;
              READY=1
    SIGTERM   STOPPING=1; no new jobs start; running ones may finish (bounded); the
    SIGINT    scheduler shuts down, the store closes, exit status 0
    watchdog  WATCHDOG=1 from a task on the loop at half of WATCHDOG_USEC

The state directory cannot change on reload (it is locked and open); a new ``state_dir``
takes effect at the next start.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from digest import sdnotify
from digest.config import Config, load_config, resolve_state_dir, state_database
from digest.delivery import Transport, transport_for
from digest.errors import DigestError
from digest.jobs import Jobs
from digest.matcher import Matcher
from digest.pipeline import Runtime
from digest.render import Renderer
from digest.store import Store, acquire_lock

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 20.0  # seconds running jobs get to finish on stop
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything a configuration needs, built before anything is swapped in."""

    config: Config
    matcher: Matcher
    renderer: Renderer
    transport: Transport


def prepare(path: Path) -> Prepared:
    """Load and compile ``path``; raises DigestError (ConfigError …) on any problem."""
    config = load_config(path)
    return Prepared(config, Matcher(config.watchlists),
                    Renderer(templates_dir=config.templates_dir, timezone=config.timezone),
                    transport_for(config))


class Daemon:
    """One run of `digest run`; ``await Daemon(path).run()`` returns the exit status."""

    def __init__(self, config_path: Path, *, drain_timeout: float = DRAIN_TIMEOUT) -> None:
        self.config_path = config_path
        self.drain_timeout = drain_timeout
        self._stop = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[bool]] = set()

    async def run(self) -> int:
        early_reload = self._catch_signals_during_start()
        log.info("starting with %s", self.config_path)
        prepared = await asyncio.to_thread(prepare, self.config_path)
        config = prepared.config
        state_dir = resolve_state_dir(config)
        with acquire_lock(state_dir), Store.open(state_database(config)) as store:
            rt = Runtime(config=config, store=store, matcher=prepared.matcher,
                         renderer=prepared.renderer, transport=prepared.transport)
            scheduler = AsyncIOScheduler(timezone=config.timezone, job_defaults=JOB_DEFAULTS)
            jobs = Jobs(rt, scheduler, on_status=self._status)
            jobs.sync()
            jobs.catch_up()
            scheduler.start()
            log.info("digest running: %d source(s), %d digest(s), state in %s",
                     len(config.sources.folders) + len(config.sources.feeds),
                     len(config.digests), state_dir)
            with self._signals(rt, jobs):
                sdnotify.notify("READY=1", "STATUS=running")
                if early_reload.is_set():  # SIGHUP while starting: read the file again now
                    self._request_reload(rt, jobs)
                watchdog = self._start_watchdog()
                await self._stop.wait()
                sdnotify.notify("STOPPING=1", "STATUS=stopping")
                log.info("stopping")
                scheduler.pause()
                async with self._reload_lock:  # let a reload in progress finish
                    drained = await jobs.drain(self.drain_timeout)
                if not drained:
                    log.warning("jobs still running after %.0f s are cancelled; their work "
                                "is redone at the next start", self.drain_timeout)
                scheduler.shutdown(wait=False)
                if watchdog is not None:
                    watchdog.cancel()
                    with suppress(asyncio.CancelledError):
                        await watchdog
        log.info("stopped")
        return 0

    def stop(self) -> None:
        self._stop.set()

    # signals --------------------------------------------------------------------------
    def _catch_signals_during_start(self) -> asyncio.Event:
        """Until READY, SIGTERM/SIGINT still stop (after start-up) and a SIGHUP is
        remembered, instead of the default actions that would kill the process."""
        loop = asyncio.get_running_loop()
        early_reload = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, self.stop)
        loop.add_signal_handler(signal.SIGINT, self.stop)
        loop.add_signal_handler(signal.SIGHUP, early_reload.set)
        return early_reload

    def _signals(self, rt: Runtime, jobs: Jobs) -> _SignalHandlers:
        return _SignalHandlers(self, rt, jobs)

    def _request_reload(self, rt: Runtime, jobs: Jobs) -> None:
        task = asyncio.get_running_loop().create_task(self.reload(rt, jobs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload(self, rt: Runtime, jobs: Jobs) -> bool:
        """Swap in the configuration file's current content; False when it was invalid."""
        async with self._reload_lock:
            if self._stop.is_set():
                return False
            sdnotify.reloading()
            log.info("reloading %s", self.config_path)
            try:
                prepared = await asyncio.to_thread(prepare, self.config_path)
            except DigestError as exc:
                log.error("reload failed, keeping the running configuration: %s", exc)
                sdnotify.notify("READY=1", f"STATUS=reload failed: {exc}")
                return False
            old_dir = resolve_state_dir(rt.config)
            if resolve_state_dir(prepared.config) != old_dir:
                log.warning("the state directory changes only at the next start; "
                            "still using %s", old_dir)
            rt.config = prepared.config
            rt.matcher = prepared.matcher
            rt.renderer = prepared.renderer
            rt.transport = prepared.transport
            jobs.sync()
            log.info("reloaded %s", self.config_path)
            sdnotify.notify("READY=1", "STATUS=reloaded")
            return True

    def _status(self, text: str) -> None:
        sdnotify.notify(f"STATUS={text}")

    def _start_watchdog(self) -> asyncio.Task[None] | None:
        interval = sdnotify.watchdog_interval()
        if interval is None:
            return None
        log.debug("watchdog ping every %.1f s", interval)
        return asyncio.get_running_loop().create_task(sdnotify.watchdog(interval))


class _SignalHandlers:
    """SIGTERM/SIGINT stop, SIGHUP reloads, while the ``with`` block runs."""

    def __init__(self, daemon: Daemon, rt: Runtime, jobs: Jobs) -> None:
        self.daemon, self.rt, self.jobs = daemon, rt, jobs

    def __enter__(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.daemon.stop)
        loop.add_signal_handler(signal.SIGINT, self.daemon.stop)
        loop.add_signal_handler(signal.SIGHUP, self.daemon._request_reload, self.rt, self.jobs)

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)


async def main(config_path: Path) -> int:
    return await Daemon(config_path).run()
