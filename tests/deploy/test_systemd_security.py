"""The shipped systemd units, as `systemd-analyze security` scores them (offline, on the unit files).

Issue 14 found 2.1 (agent) and 1.8 (bridge); the bar is 1.5 or lower, for the NOC's timed jobs
(availability, maintenance copy) too. What stays exposed, and why, is listed in docs/security.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
JOBS = ["edge-availability", "edge-maintenance"]  # the NOC's timed jobs, a .timer and a .service each
SERVICES = ["edge-agent.service", "edge-bridge.service", *(f"{job}.service" for job in JOBS)]
TIMERS = [f"{job}.timer" for job in JOBS]
MAX_EXPOSURE = 1.5
HARDENING = (
    "UMask=0077",
    "ProtectProc=invisible",
    "ProcSubset=pid",
    "PrivateUsers=yes",
    "IPAddressDeny=any",
    "SystemCallFilter=~@privileged @resources",
    "CapabilityBoundingSet=",
    "NoNewPrivileges=yes",
)

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package systemd)",
)


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("unit", SERVICES)
def test_unit_scores_at_most_1_5(unit: str) -> None:
    report = analyze("security", "--offline=true", "--no-pager", str(UNITS / unit)).stdout
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", report)
    assert found, report
    assert float(found.group(1)) <= MAX_EXPOSURE, report


@pytest.mark.parametrize("unit", SERVICES)
def test_unit_sets_each_hardening_and_only_known_keys(unit: str) -> None:
    lines = set((UNITS / unit).read_text().splitlines())
    assert [setting for setting in HARDENING if setting not in lines] == []
    # verify names every unknown key or bad value; the only complaint here is the absent /opt/edge.
    complaints = analyze("verify", str(UNITS / unit)).stderr.splitlines()
    assert [line for line in complaints if "/opt/edge/.venv/bin/edge" not in line] == []


@pytest.mark.parametrize("timer", TIMERS)
def test_each_timer_starts_its_job_and_is_valid(timer: str) -> None:
    """verify checks the timer and the service it starts (same name) together."""
    assert (UNITS / timer.replace(".timer", ".service")).exists()
    complaints = analyze("verify", str(UNITS / timer)).stderr.splitlines()
    assert [line for line in complaints if "/opt/edge/.venv/bin/edge" not in line] == []


def test_the_availability_timer_runs_after_midnight_in_the_jobs_time_zone() -> None:
    """The night run must fall after the city's midnight: the timer's zone is the job's --tz."""
    lines = (UNITS / "edge-availability.timer").read_text().splitlines()
    timer = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    service = (UNITS / "edge-availability.service").read_text().splitlines()
    command = next(line for line in service if line.startswith("ExecStart=")).split()
    zone = command[command.index("--tz") + 1]
    assert timer["OnCalendar"] == f"*-*-* 01:30:00 {zone}"
    assert timer["Persistent"] == "true"  # a run missed while the server was off happens at boot
    assert analyze("calendar", timer["OnCalendar"]).returncode == 0
