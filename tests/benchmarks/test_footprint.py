"""Smoke test of `python -m benchmarks.footprint` on a tiny field (2 APs, 1 intersection, 2 s polls):
the three agents (page on and asked, page off, remote configuration on) run, poll, stop cleanly, and
each stays under the 40 MB limit (issue 15), which the benchmark itself holds (exit 1 over it).

On this field the running state is small, so the peak is mostly what the agent imports: a library
the agent should not load (pydantic was 12 MB of it, aiohttp.web 11 MB) takes a peak over the limit.
Memory, not time, is asserted; the full field's figure is the benchmark's answer (README).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.footprint import RSS_LIMIT_BYTES
from tests.integration.helpers import ROOT

pytestmark = [pytest.mark.integration]

TINY = ["--aps", "2", "--intersections", "1", "--interval-s", "2", "--warmup-s", "6", "--window-s", "6"]


def test_tiny_field_agents_stay_under_the_limit() -> None:
    run = [sys.executable, "-m", "benchmarks.footprint", "--json", *TINY]
    done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    peaks = [
        result[k] for k in ("agent_peak_rss_bytes", "page_off_peak_rss_bytes", "remote_config_peak_rss_bytes")
    ]
    assert all(0 < peak <= RSS_LIMIT_BYTES for peak in peaks), peaks
    assert result["rss_ratio_to_limit"] == round(peaks[0] / RSS_LIMIT_BYTES, 3)
    assert result["agent_cpu_cores"] > 0, result  # it polled the field in the window
