"""The shipped systemd units, as `systemd-analyze security` scores them (offline, on the unit files).

Issue 14 found 2.1 (agent) and 1.8 (bridge); the bar is 1.5 or lower. What stays exposed, and why, is
listed in docs/security.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
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


@pytest.mark.parametrize("unit", ["edge-agent.service", "edge-bridge.service"])
def test_unit_scores_at_most_1_5(unit: str) -> None:
    report = analyze("security", "--offline=true", "--no-pager", str(UNITS / unit)).stdout
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", report)
    assert found, report
    assert float(found.group(1)) <= MAX_EXPOSURE, report


@pytest.mark.parametrize("unit", ["edge-agent.service", "edge-bridge.service"])
def test_unit_sets_each_hardening_and_only_known_keys(unit: str) -> None:
    lines = set((UNITS / unit).read_text().splitlines())
    assert [setting for setting in HARDENING if setting not in lines] == []
    # verify names every unknown key or bad value; the only complaint here is the absent /opt/edge.
    complaints = analyze("verify", str(UNITS / unit)).stderr.splitlines()
    assert [line for line in complaints if "/opt/edge/.venv/bin/edge" not in line] == []
