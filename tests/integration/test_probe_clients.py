"""`edge probe snmp NAME -c edge.toml --clients` answers "what signal" for a configured AP: its clients'
signal and rates, hashed, even when the config itself does not collect clients."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edge_gateway_dev import servers

pytestmark = pytest.mark.integration
EVENING_WIB = "2026-12-01T20:00+07:00"  # the simulated city's busy hour: every AP has clients


def test_a_configured_ap_by_name_lists_its_clients_hashed(tmp_path: Path) -> None:
    config = tmp_path / "edge.toml"
    options = ["--aps", "1", "--intersections", "0", "--clock", EVENING_WIB, "--port-dir", str(tmp_path)]
    with servers.fleet_process(config, options, tmp_path / "sim.log"):
        command = [sys.executable, "-m", "edge_gateway", "probe", "snmp", "ap-001", "-c", str(config)]
        command += ["--clients", "--rate-window-s", "0", "--format", "json"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    clients = [r for r in json.loads(done.stdout) if r["measurement"] == "ap_client"]
    assert clients, done.stdout
    assert all(re.fullmatch(r"[0-9a-f]{16}", r["tags"]["client"]) for r in clients)
    assert all(isinstance(r["fields"]["signal_dbm"], int) for r in clients)
    assert not re.search(r"([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}", done.stdout)
