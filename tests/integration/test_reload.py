"""SIGHUP: a changed device list takes effect without losing the buffer or the MQTT session."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from edge_gateway.core.lineproto import parse
from edge_gateway_dev import servers
from tests.integration.mqtt_checker import checker, wait_until

pytestmark = pytest.mark.integration
REFUSED = "refused, the running config stays"


def write_config(path: Path, broker: servers.Server, snmpd: servers.Server, devices: list[str]) -> None:
    text = f'[gateway]\nid = "gw-1"\n[uplink]\nurl = "{broker.url}"\n'
    text += f'[buffer]\npath = "{path.parent}/buffer.db"\n[status]\nenabled = false\n'
    for name in devices:
        text += (
            f'[[snmp.devices]]\nname = "{name}"\nhost = "{snmpd.host}:{snmpd.port}"\ncommunity = "public"\n'
        )
        text += "interval_s = 1\n"
    path.write_text(text)


def polls_after(lines: list[str], device: str, after_ns: int) -> int:
    return sum(
        1
        for line in lines
        if line.startswith("device_status,")
        and f"device={device}," in line
        and parse(line).time_ns > after_ns
    )


async def test_sighup_applies_a_new_device_list(
    tmp_path: Path, mosquitto: servers.Server, snmpd: servers.Server
) -> None:
    config = tmp_path / "edge.toml"
    log = tmp_path / "agent.log"
    write_config(config, mosquitto, snmpd, ["ap-1"])
    async with checker(mosquitto.host, mosquitto.port, "edge/gw-1/data") as got:
        with servers.edge_process(["agent", "-c", str(config)], log) as agent:
            await wait_until(lambda: polls_after(got.lines, "ap-1", 0) >= 2, 30, "ap-1 polled")

            write_config(config, mosquitto, snmpd, ["ap-2"])
            reloaded_ns = time.time_ns()
            agent.send_signal(signal.SIGHUP)
            await wait_until(lambda: polls_after(got.lines, "ap-2", reloaded_ns) >= 3, 30, "ap-2 polled")
            settled_ns = time.time_ns()
            await wait_until(lambda: polls_after(got.lines, "ap-2", settled_ns) >= 2, 30, "more polls")
            assert polls_after(got.lines, "ap-1", settled_ns) == 0  # removed: no longer polled

            config.write_text(config.read_text().replace("interval_s = 1", 'interval_s = "fast"'))
            refused_ns = time.time_ns()
            agent.send_signal(signal.SIGHUP)
            await wait_until(lambda: REFUSED in log.read_text(), 30, "the reload refused")
            await wait_until(lambda: polls_after(got.lines, "ap-2", refused_ns) >= 2, 30, "polling goes on")
            assert agent.poll() is None
    text = log.read_text()
    assert text.count("uplink connected") == 1  # the MQTT session was never dropped
    assert "reload of" in text and "interval_s" in text
