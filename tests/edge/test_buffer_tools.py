from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_gateway.agent.buffer import Buffer
from edge_gateway.cli.main import main

LINES = [
    "device_status,device=ap-1 up=true 1000",
    "ap_iface,device=ap-1,ifname=ether1 in_octets=5i 1001",
    "ap_iface,device=ap-1,ifname=ether2 in_octets=6i 1002",
    "ap up=true 1003",
]


@pytest.fixture
def buffer_path(tmp_path: Path) -> Path:
    path = tmp_path / "buffer.db"
    with Buffer(path, 1 << 20) as buffer:
        buffer.put(LINES)
        buffer.take(1)  # one batch in flight, as after a crash mid-publish
    return path


def test_stats_counts_per_measurement(buffer_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["buffer", "stats", "--path", str(buffer_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["readings"] == 4 and result["batches_in_flight"] == 1 and result["next_seq"] == 2
    assert result["readings_per_measurement"] == {"ap": 1, "ap_iface": 2, "device_status": 1}
    assert result["bytes"] == sum(map(len, LINES))
    assert result["oldest_age_s"] > 0


def test_dump_prints_line_protocol_in_acceptance_order(
    buffer_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["buffer", "dump", "--path", str(buffer_path)]) == 0
    assert capsys.readouterr().out.splitlines() == LINES
    assert main(["buffer", "dump", "--path", str(buffer_path), "--limit", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == LINES[:2]


def test_reading_does_not_change_the_buffer(buffer_path: Path) -> None:
    before = buffer_path.read_bytes()
    assert main(["buffer", "stats", "--path", str(buffer_path)]) == 0
    assert main(["buffer", "dump", "--path", str(buffer_path)]) == 0
    assert buffer_path.read_bytes() == before


def test_buffer_found_through_the_agent_config(
    tmp_path: Path, buffer_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "edge.toml"
    config.write_text(f'[gateway]\nid = "gw"\n[buffer]\npath = "{buffer_path}"\n')
    assert main(["buffer", "stats", "-c", str(config)]) == 0
    assert "4 readings" in capsys.readouterr().out
    assert main(["buffer", "stats", "--path", str(tmp_path / "absent.db")]) == 1
