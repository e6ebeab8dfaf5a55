"""Smoke test of `python -m benchmarks.fleet_capacity` (a benchmark, not part of the suite's timing): a
tiny fleet (one recorded gateway of 2 APs and 1 intersection, replayed by 3 then 6 simulated gateways
every 2 s for 4 s each) through the real Mosquitto, bridge and InfluxDB, so the benchmark keeps running.

It asserts what holds at any load: every reading the generator handed to the broker is counted in
InfluxDB, and each figure the docs quote is present. Whether a step kept up depends on the machine
and is the benchmark's answer, not this test's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--steps", "3,6", "--step-s", "4", "--aps", "2", "--intersections", "1"]
TINY += ["--capture-interval-s", "2", "--poll-interval-s", "2"]


def test_tiny_sweep_stores_every_reading_sent() -> None:
    run = [sys.executable, "-m", "benchmarks.fleet_capacity", "--json", *TINY]
    done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["gateway"]["readings_per_cycle"] > 0
    assert result["peer_bulk_load_readings_per_s"] > 0
    assert result["steps"], result
    for step in result["steps"]:
        assert step["readings_sent"] > 0, step
        assert step["readings_stored"] == step["readings_sent"], step
        assert step["lag_p50_s"] is not None, step
        assert step["broker_rss_bytes"] > 0 and step["bridge_rss_bytes"] > 0, step
