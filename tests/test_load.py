"""Many feeds, some broken, some slow: one `digest once` cycle still brings every healthy
feed's match into the digest and reports every failing feed, in the run's report and in the
digest's "sources with problems" footer. The 1,000-feed version, with hangs and timing,
is `benchmarks/load.py`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tests.conftest import REPO

# benchmarks/ is not a package (and a site-packages "benchmarks" exists): load it by path
_spec = importlib.util.spec_from_file_location("digest_load_benchmark",
                                               REPO / "benchmarks" / "load.py")
assert _spec is not None and _spec.loader is not None
load = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = load
_spec.loader.exec_module(load)
build_scenario, run_cycle = load.build_scenario, load.run_cycle

KINDS = ("404", "500", "410", "redirect loop", "html page", "malformed", "gzip bomb",
         "refused")  # every failure of the benchmark but "hang" (a 30 s fetch timeout)


async def test_eighty_feeds_ten_percent_failing_five_percent_slow(tmp_path: Path) -> None:
    scenario = build_scenario(80, seed=11, slow_delay=1.5, kinds=KINDS, hosts=3)
    assert sorted(scenario.failing.values()) == sorted(KINDS)
    assert len(scenario.slow) == 4
    outcome = await run_cycle(scenario, tmp_path, hosts=3)

    stories = outcome.text.split("Sources with problems:", 1)[0]
    # its own story, or "also reported by" it when clustered with a look-alike
    missing = [name for name in scenario.healthy if name not in stories]
    assert not missing, f"healthy feeds whose match is not in the digest: {missing}"
    assert "Weather" not in outcome.text  # the non-matching items stay out

    failed = {s.name: s.error for s in outcome.report.poll.failed}
    assert set(failed) == set(scenario.failing), failed
    assert all(error for error in failed.values())
    footer = outcome.text.split("Sources with problems:", 1)[1]
    for name in scenario.failing:
        assert name in footer, name
    assert "body too large" in failed[_kind(scenario.failing, "gzip bomb")]
    assert "404" in failed[_kind(scenario.failing, "404")]
    assert "redirects" in failed[_kind(scenario.failing, "redirect loop")]
    assert "HTML page" in failed[_kind(scenario.failing, "html page")]


def _kind(failing: dict[str, str], kind: str) -> str:
    return next(name for name, k in failing.items() if k == kind)
