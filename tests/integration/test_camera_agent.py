"""The real agent checks a real camera and publishes its `camera` and `device_status` readings over
MQTT; the password comes from a file and appears nowhere in what the agent sends or logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway.core.lineproto import parse
from edge_gateway_dev import servers
from edge_gateway_dev.sim.camera import harness
from tests.integration.mqtt_checker import checker, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(harness.available()), reason=harness.available() or "available"),
]
PASSWORD = "cam-Secret-77"


@pytest.fixture
def camera(tmp_path: Path) -> Iterator[servers.Server]:
    with harness.rtsp_camera(tmp_path / "camera", user="viewer", password=PASSWORD) as server:
        yield server


async def test_agent_publishes_camera_readings(
    tmp_path: Path, mosquitto: servers.Server, camera: servers.Server
) -> None:
    secret = tmp_path / "cam.pass"
    secret.write_text(PASSWORD)
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[gateway]\nid = "gw-1"\nsite = "Kejaksan"\n[uplink]\nurl = "{mosquitto.url}"\n'
        f'[buffer]\npath = "{tmp_path}/buffer.db"\n[status]\nenabled = false\n'
        f'[[camera.devices]]\nname = "cbn-int-01-cam-1"\nrtsp_url = "{harness.url(camera)}"\n'
        f'user = "viewer"\npassword_file = "{secret}"\ninterval_s = 2\npull_s = 0.5\n'
    )
    log = tmp_path / "agent.log"

    def camera_points() -> list[dict[str, object]]:
        return [dict(parse(line).fields) for line in got.lines if line.startswith("camera,")]

    async with checker(mosquitto.host, mosquitto.port, "edge/gw-1/data") as got:
        with servers.edge_process(["agent", "-c", str(config)], log):
            await wait_until(lambda: len(camera_points()) >= 2, 30, "two camera checks published")
    fields = camera_points()[-1]
    assert fields["rtsp_ok"] is True and float(str(fields["fps"])) > 20
    assert any("kind=camera" in line and "up=true" in line for line in got.lines)
    assert PASSWORD not in "\n".join(got.lines) + log.read_text()
