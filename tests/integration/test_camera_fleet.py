"""`edge sim fleet --cameras N`: the cameras it serves and the agent config it writes, checked by the
camera collector itself (real RTSP server, ONVIF/snapshot simulators, faults by name)."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from edge_gateway.agent.collectors.camera import build_collectors
from edge_gateway.agent.config import AgentConfig
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway_dev.sim.camera import harness
from edge_gateway_dev.sim.fleet import agent_config, run_field

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(harness.available()), reason=harness.available() or "available"),
]
FAULTS = (
    "cbn-int-01-cam-1:frozen;cbn-int-02-cam-1:no_reply;cbn-int-01-cam-2:auth_fail;"
    "cbn-int-02-cam-2:clock_skew=30"
)


async def test_fleet_cameras_and_their_faults(tmp_path: Path) -> None:
    async with run_field(0, 2, 1, FAULTS, tmp_path, cameras=4) as field:
        text = agent_config(field, "cbn-gw-sim", "mqtt://127.0.0.1:1", tmp_path / "b.db", 5.0)
        config = validate(AgentConfig, tomllib.loads(text))
        assert [device.name for device in config.camera.devices] == [
            "cbn-int-01-cam-1", "cbn-int-02-cam-1", "cbn-int-01-cam-2", "cbn-int-02-cam-2",
        ]  # fmt: skip
        crossings = {c.spec.name: (c.spec.lat_deg, c.spec.lon_deg) for c in field.intersections}
        placed = {b.name.rsplit("-", 1)[0]: (b.lat, b.lon) for b in config.serial.buses}
        assert placed == crossings  # every bus at its intersection, for the NOC map
        readings: dict[str, dict[str, Reading]] = {}
        for collector in build_collectors(config):
            collector.watch.frozen_after_s = 0  # the second check judges, whatever the interval
            collector.device = replace(collector.device, pull_s=0.5, timeout_s=1.0)
            for _ in range(2):
                acc = Accumulator(SourceHealth())
                await collector.collect(acc)
            readings[collector.device.name] = {r.measurement: r for r in acc.readings}
    frozen, dead = readings["cbn-int-01-cam-1"], readings["cbn-int-02-cam-1"]
    locked, skewed = readings["cbn-int-01-cam-2"], readings["cbn-int-02-cam-2"]
    assert frozen["camera"].fields["frozen"] is True and frozen["camera"].fields["rtsp_ok"] is True
    assert dead["device_status"].fields["up"] is False
    assert locked["camera"].fields["up"] is True and locked["camera"].fields["rtsp_ok"] is False
    assert "401" in str(locked["device_status"].fields["error"])
    assert skewed["camera"].fields["frozen"] is False
    assert 28.5 <= float(skewed["camera"].fields["clock_drift_s"]) <= 31.5
