"""`edge fleet keygen|push|status` from the NOC against Mosquitto as shipped and real agent processes: a
group push reaches each gateway with its own id, the status lists a never-seen expected gateway, and a
config that changes `[uplink]` is applied by a restart, then rolled back by itself when it cannot reach
the broker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge_gateway.bridge.fleet import read_statuses
from edge_gateway_dev import servers
from tests.integration.fleet_helpers import agent_config, login
from tests.integration.shipped_broker import ShippedBroker

pytestmark = [pytest.mark.integration, pytest.mark.fleet]


def edge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_gateway", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def bridge_config(tmp_path: Path, broker: ShippedBroker) -> Path:
    (tmp_path / "noc.pw").write_text(broker.password("noc") + "\n")
    path = tmp_path / "bridge.toml"
    server = broker.server
    path.write_text(
        f'[mqtt]\nurl = "mqtts://{server.host}:{server.port}"\nca_file = "{broker.tls.ca_cert}"\n'
        '[influxdb]\nurl = "http://127.0.0.1:8086"\ndatabase = "edge"\n'
        f'[fleet]\nexpected = ["gw-1", "gw-2", "gw-3"]\nusername = "noc"\n'
        f'password_file = "{tmp_path}/noc.pw"\nkey_file = "{tmp_path}/noc.key"\n'
    )
    return path


def statuses_when(
    broker: ShippedBroker, condition: Callable[[dict[str, Any]], bool], timeout_s: float = 60
) -> dict[str, Any]:
    """The retained statuses by gateway, read again (in this process) until `condition` holds."""
    deadline_s = time.monotonic() + timeout_s
    while True:
        statuses = asyncio.run(read_statuses(login(broker, "noc"), idle_s=0.3))
        if condition(statuses) or time.monotonic() > deadline_s:
            return statuses


def fleet_status(bridge: Path) -> dict[str, Any]:
    """`edge fleet status --json`, by gateway."""
    done = edge("fleet", "status", "-c", str(bridge), "--json")
    return {row["gateway"]: row for row in json.loads(done.stdout)}


def online(*gateways: str) -> Callable[[dict[str, Any]], bool]:
    return lambda statuses: all(statuses.get(gw, {}).get("state") == "online" for gw in gateways)


def test_group_push_status_and_restart_rollback(tmp_path: Path, broker: ShippedBroker) -> None:
    made = edge(
        "fleet", "keygen", "--private", str(tmp_path / "noc.key"), "--public", str(tmp_path / "noc.pub")
    )
    assert made.returncode == 0, made.stderr
    bridge = bridge_config(tmp_path, broker)
    configs = {gw: tmp_path / f"{gw}.toml" for gw in ("gw-1", "gw-2")}
    for gateway, path in configs.items():
        path.write_text(agent_config(tmp_path, broker, {}, gateway))
    with (
        servers.edge_process(["agent", "-c", str(configs["gw-1"])], tmp_path / "gw-1.log") as gw1,
        servers.edge_process(["agent", "-c", str(configs["gw-2"])], tmp_path / "gw-2.log"),
    ):
        statuses_when(broker, online(*configs))
        rows = fleet_status(bridge)
        assert rows["gw-3"]["state"] == "never seen" and rows["gw-3"]["problems"] == ["never reported"]
        assert all(rows[g]["problems"] == [] for g in configs), rows

        group = tmp_path / "group.toml"
        group.write_text(agent_config(tmp_path, broker, {}, "{gateway_id}"))
        pushed = edge(
            "fleet", "push", str(group), "--gateways", "gw-[12]", "-c", str(bridge), "--version", "5"
        )
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        assert pushed.stdout.splitlines() == ["gw-1: applied version 5", "gw-2: applied version 5"]

        moved = tmp_path / "moved.toml"  # [uplink] to a port where no broker listens
        moved.write_text(
            agent_config(tmp_path, broker, {}, "gw-1", f"mqtts://127.0.0.1:{servers.free_port()}")
        )
        pushed = edge("fleet", "push", str(moved), "--gateways", "gw-1", "-c", str(bridge), "--version", "6")
        assert pushed.stdout.strip() == "gw-1: applied version 6: restarting for [uplink]", pushed.stderr
        assert gw1.wait(30) == 0  # a clean exit, for systemd to restart it
    # What systemd does: start it again. It runs version 6, cannot reach the broker, takes it back
    # and exits again; the next start runs the installed file and says so.
    with servers.edge_process(["agent", "-c", str(configs["gw-1"])], tmp_path / "gw-1.2.log") as again:
        assert again.wait(60) == 0
    assert "rolled back" in (tmp_path / "gw-1.2.log").read_text()
    with servers.edge_process(["agent", "-c", str(configs["gw-1"])], tmp_path / "gw-1.3.log"):
        statuses_when(broker, online("gw-1"))
        rows = fleet_status(bridge)
    status = rows["gw-1"]
    assert status["config_version"] == 0 and status["outcome"].startswith("rolled back: broker not reached")
    assert any("rolled back" in problem for problem in status["problems"])
