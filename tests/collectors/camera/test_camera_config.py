"""`[[camera.devices]]` in the agent config: passwords from files, every problem by path, and the
agent's bookkeeping of cameras (a camera dropped by a reload is announced as removed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.agent.agent import removed_devices
from edge_gateway.agent.collectors.camera import build_collectors
from edge_gateway.agent.config import AgentConfig, load_agent
from edge_gateway.core.config import ConfigError
from edge_gateway.core.validation import validate


def write(tmp_path: Path, cameras: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(f'[gateway]\nid = "gw-1"\nsite = "Kejaksan"\n{cameras}')
    return path


def test_camera_with_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "cam.pass"
    secret.write_text("s3cret\n")
    config = load_agent(
        write(
            tmp_path,
            f'[[camera.devices]]\nname = "cbn-int-01-cam-1"\nrtsp_url = "rtsp://10.0.0.5/s"\n'
            f'user = "viewer"\npassword_file = "{secret}"\nonvif = "10.0.0.5:80"\n',
        )
    )
    [device] = config.camera.devices
    assert device.secret == "s3cret" and device.onvif == "10.0.0.5:80"
    [collector] = build_collectors(config)
    assert collector.name == "camera[cbn-int-01-cam-1]" and collector.tags["site"] == "Kejaksan"
    assert collector.deadline_s == pytest.approx(54.0)  # 0.9 x the default 60 s interval


def test_every_problem_by_path(tmp_path: Path) -> None:
    text = (
        '[[camera.devices]]\nname = "c1"\nrtsp_url = "http://x/"\n'
        '[[camera.devices]]\nname = "c1"\nrtsp_url = "rtsp://u:p@x/"\nonvif = "x:99999"\n'
        f'password_file = "{tmp_path / "missing"}"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_agent(write(tmp_path, text))
    problems = "\n".join(caught.value.problems)
    assert "camera.devices[0].rtsp_url: must start with rtsp://" in problems
    assert "camera.devices[1].rtsp_url: put credentials in user and password_file" in problems
    assert "camera.devices[1].onvif" in problems and "camera.devices[1].password_file" in problems
    assert "p@x" not in problems


def test_duplicate_camera_names(tmp_path: Path) -> None:
    text = '[[camera.devices]]\nname = "c1"\nrtsp_url = "rtsp://a/"\n' * 2
    with pytest.raises(ConfigError, match="camera names must be unique: c1"):
        load_agent(write(tmp_path, text))


def test_a_camera_dropped_by_reload_is_removed() -> None:
    camera = {"name": "cbn-int-01-cam-1", "rtsp_url": "rtsp://10.0.0.5/s"}
    old = validate(AgentConfig, {"gateway": {"id": "gw-1"}, "camera": {"devices": [camera]}})
    new = validate(AgentConfig, {"gateway": {"id": "gw-1"}})
    [removed] = removed_devices(old, new, 1)
    assert removed.tags == {"device": "cbn-int-01-cam-1", "kind": "camera"}
    assert removed.fields == {"removed": True}
