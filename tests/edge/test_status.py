from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import StatusSection, load_agent
from edge_gateway.agent.status import Board, StatusServer
from edge_gateway.agent.uplink import UplinkStats
from edge_gateway.core.config import ConfigError, Secret
from edge_gateway.core.model import Reading
from tests.edge.test_status_http import serving

Parts = tuple[aiohttp.ClientSession, Board, UplinkStats, Buffer]


def status(device: str, up: bool, error: str = "") -> Reading:
    tags = {"device": device, "kind": "snmp", "site": "Kejaksan"}
    return Reading("device_status", tags, {"up": up, "latency_ms": 3.5, "error": error}, time.time_ns())


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    board, uplink = Board(), UplinkStats()
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    server = StatusServer(StatusSection(token=Secret("s3cret")), "gw-1", board, buffer, uplink)
    async with serving(server.http) as port, aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
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
    assert "TimeoutError" in page and "pm25 41.0" in page
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


async def test_the_page_never_holds_the_token(parts: Parts) -> None:
    """The browser carries the token onto the links (proved in real Chromium by
    tests/integration/test_status_page_browser.py); a saved page holds no secret."""
    page = await (await parts[0].get("/?token=s3cret")).text()
    assert "s3cret" not in page
    assert "link.href += location.search" in page and 'href="/metrics"' in page


async def test_health_says_why_while_the_uplink_is_down_but_not_yet_for_long(parts: Parts) -> None:
    client, _, uplink, _ = parts
    uplink.down_since_s = time.monotonic() - 42
    snap = await (await client.get("/api/status?token=s3cret")).json()
    assert snap["healthy"] is True
    assert snap["health_reason"].startswith("ok, but uplink down for 42 s")
    assert "unhealthy after 300 s" in snap["health_reason"]
    assert "unhealthy after 300 s" in await (await client.get("/?token=s3cret")).text()


async def test_a_backlog_the_broker_does_not_take_is_unhealthy_with_its_reason(parts: Parts) -> None:
    """Connected is not delivering: with no subscriber at the broker (PUBACK 0x10) the backlog only
    grows, and the page must say so rather than "ok"."""
    client, _, uplink, buffer = parts
    uplink.connected = True
    old_ns = time.time_ns() - 400 * 1_000_000_000
    buffer.put([f"ap up=true {old_ns}", f"ap up=true {old_ns + 1}"])
    response = await client.get("/healthz?token=s3cret")
    assert response.status == 503 and "the uplink is catching up" in await response.text()
    uplink.delivery_problem = "the broker has no subscriber for edge/gw-1/data (PUBACK 0x10)"
    snap = await (await client.get("/api/status?token=s3cret")).json()
    assert snap["healthy"] is False
    assert snap["health_reason"].startswith("2 readings waiting, the oldest 40")
    assert snap["health_reason"].endswith("no subscriber for edge/gw-1/data (PUBACK 0x10)")


async def test_key_figures_lanes_since_and_buses(parts: Parts) -> None:
    client, board, _, _ = parts
    now_ns = time.time_ns()
    ap = {"device": "ap-1", "site": "Kejaksan"}
    board.record(
        [
            status("ap-1", False, "deadline exceeded"),
            Reading("ap", ap, {"clients": 12}, now_ns),
            Reading(
                "ap_iface",
                {**ap, "ifname": "ether1", "role": "uplink"},
                {"in_bps": 9e6, "out_bps": 1e6, "speed_mbps": 10},
                now_ns,
            ),
            Reading(  # the same packets again on the radio side: not the backhaul, not added
                "ap_iface",
                {**ap, "ifname": "wlan1"},
                {"in_bps": 1e6, "out_bps": 8e6, "speed_mbps": 10},
                now_ns,
            ),
            Reading(
                "ap_iface", {**ap, "ifname": "lo"}, {"in_bps": 5e6, "out_bps": 5e6, "speed_mbps": 10}, now_ns
            ),
            Reading("ap_client", {**ap, "client": "h"}, {"signal_dbm": -61}, now_ns),
        ]
    )
    lane = {"sensor": "radar-1", "site": "Kejaksan", "bus": "radar"}
    board.record(
        [
            Reading("traffic", {**lane, "lane": "1"}, {"count": 4}, now_ns),
            Reading("traffic", {**lane, "lane": "2"}, {"count": 9}, now_ns),
            Reading(
                "serial_bus",
                {"bus": "rs485", "site": "Kejaksan"},
                {"up": True, "utilisation_pct": 3.5},
                now_ns,
            ),
        ]
    )
    snap = await (await client.get("/api/status?token=s3cret")).json()
    device = snap["devices"]["ap-1"]
    assert device["figures"] == {
        "clients": 12,
        "signal_dbm": -61,
        "in_bps": 9_000_000,
        "out_bps": 1_000_000,
        "util_pct": 90.0,
    }
    assert device["since_s"] is not None and device["history"][-1] is False
    assert snap["devices"]["radar-1"]["figures"] == {"lane 1 count": 4, "lane 2 count": 9}
    assert snap["buses"]["rs485"]["utilisation_pct"] == 3.5
    page = await (await client.get("/?token=s3cret")).text()
    assert "in 9.0 Mbit/s" in page and "signal -61 dBm" in page and "util 90.0 %" in page
    assert "lane 1 count 4" in page and "3.5 %" in page and "deadline exceeded" in page
