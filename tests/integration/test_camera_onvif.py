"""The camera collector's ONVIF clock and snapshot checks against the simulator's faults, with the
stream from the real RTSP server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from edge_gateway.agent.collectors.camera.collector import CameraCollector
from edge_gateway.agent.collectors.camera.config import CameraDevice
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.bridge.reserved import check_reading
from edge_gateway.cli.main import main
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway_dev import servers
from edge_gateway_dev.sim.camera import harness
from edge_gateway_dev.sim.camera.onvif_sim import CameraSim, parse_faults, serve_cameras

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(harness.available()), reason=harness.available() or "available"),
]
PASSWORD = "onvif-pass-1"


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[servers.Server]:
    with harness.rtsp_camera(tmp_path / "camera") as server:
        yield server


@pytest.fixture
async def sims() -> AsyncIterator[dict[str, CameraSim]]:
    faults = {"ok": "", "skewed": "clock_skew=-40", "frozen": "frozen", "locked": "auth_fail"}
    faults |= {"mute": "no_reply", "slow": "slow=0.3"}
    cameras = [CameraSim(name, "admin", PASSWORD, parse_faults(text)) for name, text in faults.items()]
    async with serve_cameras(cameras):
        yield {camera.name: camera for camera in cameras}


def collector(stream: servers.Server, sim: CameraSim, tmp_path: Path) -> CameraCollector:
    secret = tmp_path / "onvif.pass"
    secret.write_text(PASSWORD)
    device = validate(CameraDevice, {
        "name": f"cam-{sim.name}", "rtsp_url": harness.url(stream), "user": "admin", "password_file": secret,
        "onvif": f"127.0.0.1:{sim.port}", "snapshot_url": f"http://127.0.0.1:{sim.port}/snapshot.jpg",
        "interval_s": 5, "pull_s": 0.5, "timeout_s": 1.0, "frozen_after_s": 0,
    })  # fmt: skip
    return CameraCollector(device, "Kejaksan", 300)


async def twice(camera: CameraCollector) -> tuple[Reading, Reading]:
    """Two checks (a snapshot change needs a previous one); the second's camera and status."""
    for _ in range(2):
        acc = Accumulator(SourceHealth())
        await camera.collect(acc)
    by_name = {reading.measurement: reading for reading in acc.readings}
    return by_name["camera"], by_name["device_status"]


async def test_healthy_camera_reports_clock_model_and_snapshot(
    stream: servers.Server, sims: dict[str, CameraSim], tmp_path: Path
) -> None:
    camera, status = await twice(collector(stream, sims["ok"], tmp_path))
    assert status.fields["error"] == "" and status.fields["up"] is True
    assert abs(float(camera.fields["clock_drift_s"])) <= 1.5
    assert camera.fields["model_name"] == "SIM-CAM-2000" and camera.fields["maker"] == "EdgeSim"
    assert camera.fields["snapshot_changed"] is True and int(camera.fields["snapshot_bytes"]) > 100
    assert float(camera.fields["snapshot_age_s"]) <= 5
    check_reading(camera)  # the bridge stores it: no field takes a tag's name of the schema


async def test_clock_skew_is_measured(
    stream: servers.Server, sims: dict[str, CameraSim], tmp_path: Path
) -> None:
    camera, _ = await twice(collector(stream, sims["skewed"], tmp_path))
    assert -41.5 <= float(camera.fields["clock_drift_s"]) <= -38.5


async def test_frozen_snapshot_is_unchanged(
    stream: servers.Server, sims: dict[str, CameraSim], tmp_path: Path
) -> None:
    camera, _ = await twice(collector(stream, sims["frozen"], tmp_path))
    assert camera.fields["snapshot_changed"] is False
    assert camera.fields["frozen"] is False  # the stream's pictures move: they decide for MJPEG


async def test_refused_credentials_are_a_problem_not_an_outage(
    stream: servers.Server, sims: dict[str, CameraSim], tmp_path: Path
) -> None:
    camera, status = await twice(collector(stream, sims["locked"], tmp_path))
    assert status.fields["up"] is True and camera.fields["rtsp_ok"] is True
    assert "not authorized" in str(status.fields["error"]) and "model_name" not in camera.fields
    assert "clock_drift_s" in camera.fields  # ONVIF serves the time without credentials
    assert PASSWORD not in str(status.fields["error"])


async def test_silent_onvif_costs_its_timeout_only(
    stream: servers.Server, sims: dict[str, CameraSim], tmp_path: Path
) -> None:
    camera, status = await twice(collector(stream, sims["mute"], tmp_path))
    assert status.fields["up"] is True and camera.fields["rtsp_ok"] is True
    assert "onvif: deadline exceeded" in str(status.fields["error"])
    assert "snapshot: deadline exceeded" in str(status.fields["error"])
    assert "clock_drift_s" not in camera.fields


async def test_slow_camera_within_its_timeout_still_answers(
    stream: servers.Server, sims: dict[str, CameraSim], tmp_path: Path
) -> None:
    camera, status = await twice(collector(stream, sims["slow"], tmp_path))
    assert status.fields["error"] == "" and "clock_drift_s" in camera.fields


async def test_probe_with_onvif_and_snapshot(
    stream: servers.Server, sims: dict[str, CameraSim], capsys: pytest.CaptureFixture[str]
) -> None:
    port = sims["skewed"].port
    argv = ["probe", "camera", harness.url(stream), "--onvif", f"127.0.0.1:{port}", "--pull-s", "0.5"]
    argv += ["--snapshot-url", f"http://127.0.0.1:{port}/snapshot.jpg", "--format", "json"]
    assert await asyncio.to_thread(main, argv) == 0
    camera = json.loads(capsys.readouterr().out)[0]
    assert -41.5 <= camera["fields"]["clock_drift_s"] <= -38.5
    assert camera["fields"]["snapshot_bytes"] > 100
