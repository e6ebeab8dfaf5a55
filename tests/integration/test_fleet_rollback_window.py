"""A remote config is judged over complete poll rounds, not once at `rollback_after_s`: with Mosquitto
as shipped, simulated APs and a real agent, a good config whose slow device reports only after the window
is kept (once that device has reported), and a config whose new device fails only after the window
(a late first poll that times out) is rolled back by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_gateway.agent.remote_config import config_hash
from edge_gateway.bridge.config import BridgeMqttSection
from edge_gateway.bridge.fleet import read_statuses
from edge_gateway.bridge.fleet_sign import keygen, load_private_key, sign_config
from edge_gateway_dev import servers
from edge_gateway_dev.sim.snmp import ApSpec, Faults, run_fleet
from tests.integration.fleet_helpers import agent_config, login, pushed
from tests.integration.shipped_broker import ShippedBroker, shipped_broker

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

WINDOW_S = 3  # rollback_after_s of fleet_helpers.agent_config
SLOW = "interval_s = 6\ntimeout_s = 4\nretries = 0\n"  # first poll up to 5 s late, a failure 4 s after


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ShippedBroker]:
    with shipped_broker(tmp_path / "broker", ("gw-1",), ()) as shipped:
        shipped.dynsec("add-noc", "noc", password=shipped.password("noc"))
        yield shipped


def with_slow_device(config: str, name: str, host: str) -> str:
    return config + f'[[snmp.devices]]\nname = "{name}"\nhost = "{host}"\ncommunity = "public"\n{SLOW}'


async def judged(noc: BridgeMqttSection, payload: bytes, version: int) -> dict[str, Any]:
    """gw-1's status once the watch of `version` is over (or the version was rolled back)."""
    assert await pushed(noc, payload, version) == f"applied version {version}"
    async with asyncio.timeout(60):
        while (status := (await read_statuses(noc, idle_s=0.3))["gw-1"]).get("config_watching", True):
            pass
    return status


async def test_the_watch_waits_for_a_slow_device_and_catches_a_late_failure(
    tmp_path: Path, broker: ShippedBroker
) -> None:
    keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
    key, noc = load_private_key(tmp_path / "noc.key"), login(broker, "noc")
    specs = [ApSpec("ap-a", "mikrotik", 1), ApSpec("ap-slow", "mikrotik", 2)]
    specs.append(ApSpec("ap-late", "mikrotik", 3, faults=Faults(no_reply=True)))
    async with run_fleet(specs) as aps:
        where = {ap.name: f"{ap.host}:{ap.port}" for ap in aps}
        v1 = agent_config(tmp_path, broker, {"ap-a": where["ap-a"]})
        config = tmp_path / "edge.toml"
        config.write_text(v1)
        log = tmp_path / "agent.log"
        with servers.edge_process(["agent", "-c", str(config)], log) as agent:
            good = with_slow_device(v1, "ap-slow", where["ap-slow"])
            status = await judged(noc, sign_config(key, "gw-1", 2, good), 2)
            assert status["config_outcome"] == "applied version 2", status
            assert status["config_hash"] == config_hash(good)
            assert "remote config version 2 kept after" in log.read_text()

            broken = with_slow_device(good, "ap-late", where["ap-late"])
            status = await judged(noc, sign_config(key, "gw-1", 3, broken), 3)
            said = status["config_outcome"]
            assert said.startswith("rolled back: 1 devices down after the apply (ap-late)"), said
            assert status["config_version"] == 2 and status["config_hash"] == config_hash(good)
            assert agent.poll() is None
        assert log.read_text().count("uplink connected") == 1  # the MQTT session was never dropped


async def test_a_config_applied_by_a_restart_is_judged_by_its_poll_rounds_too(
    tmp_path: Path, broker: ShippedBroker
) -> None:
    keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
    key, noc = load_private_key(tmp_path / "noc.key"), login(broker, "noc")
    specs = [ApSpec("ap-a", "mikrotik", 1), ApSpec("ap-late", "mikrotik", 3, faults=Faults(no_reply=True))]
    async with run_fleet(specs) as aps:
        where = {ap.name: f"{ap.host}:{ap.port}" for ap in aps}
        installed = agent_config(tmp_path, broker, {"ap-a": where["ap-a"]})
        config = tmp_path / "edge.toml"
        config.write_text(installed)
        moved = installed.replace('id = "gw-1"\n', 'id = "gw-1"\nsite = "Moved"\n', 1)  # read at start only
        broken = with_slow_device(moved, "ap-late", where["ap-late"])
        run = ["agent", "-c", str(config)]
        with servers.edge_process(run, tmp_path / "agent.log") as agent:
            said = await pushed(noc, sign_config(key, "gw-1", 2, broken), 2)
            assert said == "applied version 2: restarting for [gateway]"
            assert await asyncio.to_thread(agent.wait, 30) == 0  # a clean exit, for systemd to restart it
        # What systemd does: start it again. It runs version 2, connects, and its rounds show ap-late
        # down (none was before): it takes the config back and exits; the next start runs the file.
        with servers.edge_process(run, tmp_path / "agent.2.log") as again:
            assert await asyncio.to_thread(again.wait, 60) == 0
        with servers.edge_process(run, tmp_path / "agent.3.log"):
            async with asyncio.timeout(60):
                while (status := (await read_statuses(noc, idle_s=0.3))["gw-1"]).get("uptime_s") is None:
                    pass
    said = status["config_outcome"]
    assert said.startswith("rolled back: 1 devices down after the apply (ap-late), 0 before"), status
    assert status["config_version"] == 0 and status["config_hash"] == config_hash(installed)
