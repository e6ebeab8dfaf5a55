"""`edge fleet probe` of every device kind, against Mosquitto as shipped, the simulated field (an
intersection's serial ports, a camera on a real RTSP server) and real agent processes: a serial sensor is
answered with its collector's next cycle (the bus stays the collector's), a camera is checked once as
`edge probe camera` would; a gateway without `[remote_config]` is refused at once, saying why."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from edge_gateway.bridge.fleet import read_statuses
from edge_gateway.bridge.fleet_sign import keygen
from edge_gateway_dev import servers
from edge_gateway_dev.sim.camera import harness
from edge_gateway_dev.sim.fleet import agent_config as field_config
from edge_gateway_dev.sim.fleet import run_field
from tests.integration.fleet_helpers import agent_config, login
from tests.integration.shipped_broker import ShippedBroker, shipped_broker
from tests.integration.test_fleet_cli import bridge_config

pytestmark = [
    pytest.mark.integration,
    pytest.mark.fleet,
    pytest.mark.skipif(bool(harness.available()), reason=harness.available() or "available"),
]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ShippedBroker]:
    with shipped_broker(tmp_path / "broker", ("gw-1", "gw-2"), ()) as shipped:
        shipped.dynsec("add-noc", "noc", password=shipped.password("noc"))
        yield shipped


async def fleet_probe(bridge: Path, gateway: str, device: str) -> tuple[int, str]:
    """`edge fleet probe` in a child process, while the simulated field runs in this event loop."""
    child = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "edge_gateway", "fleet", "probe", gateway, device, "-c", str(bridge)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    async with asyncio.timeout(90):
        out, _ = await child.communicate()
    return int(child.returncode or 0), out.decode()


async def online(broker: ShippedBroker, *gateways: str) -> None:
    async with asyncio.timeout(60):
        while True:
            statuses = await read_statuses(login(broker, "noc"), idle_s=0.3)
            if all(statuses.get(gw, {}).get("state") == "online" for gw in gateways):
                return


async def test_serial_sensors_and_cameras_are_probed_and_a_gateway_without_remote_config_says_why(
    tmp_path: Path, broker: ShippedBroker
) -> None:
    keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
    bridge = bridge_config(tmp_path, broker)
    (tmp_path / "field").mkdir()
    async with run_field(0, 1, 3, "", tmp_path / "field", cameras=1) as field:
        sim = tomllib.loads(field_config(field, "gw-1", "mqtt://unused", tmp_path / "unused.db", 2.0))
        devices = tomli_w.dumps({"serial": sim["serial"], "camera": sim["camera"]})
        sensor = sim["serial"]["buses"][0]["sensors"][0]["name"]
        camera = sim["camera"]["devices"][0]["name"]
        (tmp_path / "gw-1.toml").write_text(agent_config(tmp_path, broker, {}) + devices)
        plain = agent_config(tmp_path, broker, {}, gateway="gw-2").split("[remote_config]")[0]
        (tmp_path / "gw-2.toml").write_text(plain)
        with (
            servers.edge_process(["agent", "-c", str(tmp_path / "gw-1.toml")], tmp_path / "gw-1.log"),
            servers.edge_process(["agent", "-c", str(tmp_path / "gw-2.toml")], tmp_path / "gw-2.log"),
        ):
            await online(broker, "gw-1", "gw-2")
            code, out = await fleet_probe(bridge, "gw-1", sensor)
            lines = out.splitlines()
            assert code == 0 and lines[0] == f"gw-1 {sensor}: up: the collector's next cycle", out
            assert [line.split(",")[0] for line in lines[-2:]] == ["device_status", "serial_bus"], out

            code, out = await fleet_probe(bridge, "gw-1", camera)
            assert code == 0 and out.startswith(f"gw-1 {camera}: up"), out
            assert any(line.startswith("camera,") for line in out.splitlines()), out

            code, out = await fleet_probe(bridge, "gw-2", "ap-1")
            assert code == 1
            assert out.startswith(
                "gw-2 ap-1: refused: gw-2 takes no remote probes: [remote_config] is not enabled"
            ), out
        log = (tmp_path / "gw-1.log").read_text()
        assert "Traceback" not in log
