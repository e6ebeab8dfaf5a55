from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from edge.buffer import Buffer
from edge.config import ConfigError, StatusSection, load_agent
from edge.model import Reading
from edge.status import Board, StatusServer
from edge.uplink import UplinkStats

Parts = tuple[TestClient[web.Request, web.Application], Board, UplinkStats, Buffer]


def status(device: str, up: bool, error: str = "") -> Reading:
    tags = {"device": device, "kind": "snmp", "site": "Kejaksan"}
    return Reading("device_status", tags, {"up": up, "latency_ms": 3.5, "error": error}, time.time_ns())


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    board, uplink = Board(), UplinkStats()
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    server = StatusServer(StatusSection(token="s3cret"), "gw-1", board, buffer, uplink)
    async with TestClient(TestServer(server.app)) as client:
        yield client, board, uplink, buffer
    buffer.close()


async def test_page_lists_devices_and_sensors(parts: Parts) -> None:
    client, board, _, _ = parts
    board.record([status("ap-<1>", True), status("ap-2", False, "TimeoutError")])
    board.record(
        [Reading("air_quality", {"sensor": "int01-pm", "site": "Kejaksan"}, {"pm25": 41.0}, time.time_ns())]
    )
    response = await client.get("/?token=s3cret")
    assert response.status == 200
    page = await response.text()
    assert "ap-&lt;1&gt;" in page and "<1>" not in page
    assert "TimeoutError" in page and "pm25=41.0" in page
    assert page.count('class="up"') == 1 and page.count('class="down"') == 1
    assert page.count('class="unknown"') == 1  # the sensor has values but no status reading yet


async def test_token_is_required(parts: Parts) -> None:
    client = parts[0]
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})).status == 200


async def test_metrics_in_prometheus_text_format(parts: Parts) -> None:
    client, board, uplink, buffer = parts
    board.record([status("ap-1", True)])
    buffer.put(["ap up=true 1", "ap up=true 2"])
    uplink.connected = True
    text = await (await client.get("/metrics?token=s3cret")).text()
    assert "# TYPE edge_buffer_readings gauge\nedge_buffer_readings 2\n" in text
    assert "edge_uplink_up 1\n" in text
    assert 'edge_device_up{device="ap-1",kind="snmp",site="Kejaksan"} 1\n' in text
    assert 'edge_device_latency_ms{device="ap-1",kind="snmp",site="Kejaksan"} 3.5\n' in text


async def test_healthz_follows_the_uplink(parts: Parts) -> None:
    client, _, uplink, _ = parts
    assert (await client.get("/healthz?token=s3cret")).status == 200  # down, but not for long yet
    uplink.down_since_s = time.monotonic() - 301
    response = await client.get("/healthz?token=s3cret")
    assert response.status == 503 and "uplink down" in await response.text()
    uplink.connected = True
    assert (await client.get("/healthz?token=s3cret")).status == 200


def test_listening_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    config = tmp_path / "edge.toml"
    config.write_text('[gateway]\nid = "gw"\n[status]\nlisten = "0.0.0.0:9108"\n')
    with pytest.raises(ConfigError) as caught:
        load_agent(config)
    assert caught.value.problems == [
        "status: listening on 0.0.0.0 (beyond loopback) needs a token (or token_file)"
    ]
