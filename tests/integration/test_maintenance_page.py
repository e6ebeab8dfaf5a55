"""The gateway's page marks what `edge maintenance` put in maintenance, read from a real Alertmanager:
a device's own silence, its site's, and nothing for a silence that only mutes one alert name."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import StatusSection
from edge_gateway.agent.status import Board, StatusServer
from edge_gateway.agent.status_maintenance import Maintenance, MaintenanceWatch
from edge_gateway.agent.uplink import UplinkStats
from edge_gateway.core.model import Reading
from edge_gateway_dev import servers
from tests.integration.test_maintenance import api

pytestmark = pytest.mark.integration


def maintenance(am: servers.Server, *args: str) -> None:
    command = [sys.executable, "-m", "edge_gateway.cli.main", "maintenance", "start", *args]
    command += ["--alertmanager-url", am.url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def status(device: str, site: str) -> Reading:
    tags = {"device": device, "kind": "snmp", "site": site}
    return Reading("device_status", tags, {"up": True, "latency_ms": 2.0, "error": ""}, time.time_ns())


async def test_the_page_shows_devices_and_sites_in_maintenance(tmp_path: Path) -> None:
    with servers.alertmanager(tmp_path / "am") as am:
        maintenance(am, "ap-alun-alun", "--for", "2h", "--reason", "replacing the PoE injector")
        maintenance(am, "Kejaksan", "--site", "--for", "30m", "--reason", "fibre works")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        muted = [{"name": "alertname", "value": "APLate", "isRegex": False, "isEqual": True}]
        api(
            am,
            "silences",
            {"matchers": muted, "startsAt": now, "endsAt": later, "createdBy": "t", "comment": "x"},
        )
        watch = MaintenanceWatch(am.url)
        await watch.refresh()
    board = Board()
    board.record(
        [status("ap-alun-alun", "Kesambi"), status("ap-pasar", "Kejaksan"), status("ap-other", "Lemah")]
    )
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    server = StatusServer(StatusSection(), "gw-1", board, buffer, UplinkStats(), watch)
    async with TestClient(TestServer(server.app)) as client:
        devices = (await (await client.get("/api/status")).json())["devices"]
        page = await (await client.get("/")).text()
    buffer.close()
    marks = {name: d["maintenance"] for name, d in devices.items()}
    assert marks["ap-other"] is None  # the APLate silence mutes an alert, not a device
    assert (marks["ap-alun-alun"]["scope"], marks["ap-alun-alun"]["reason"]) == (
        "device",
        "replacing the PoE injector",
    )
    assert (marks["ap-pasar"]["scope"], marks["ap-pasar"]["reason"]) == ("site", "fibre works")
    assert "in maintenance until" in page and "replacing the PoE injector" in page and "fibre works" in page
    assert watch.failures == 0


async def test_an_unreachable_alertmanager_is_counted_and_the_last_answer_kept() -> None:
    watch = MaintenanceWatch(f"http://127.0.0.1:{servers.free_port()}")
    watch.known = [Maintenance("device", "ap-x", "2099-01-01T00:00:00Z", "new mast")]
    await watch.refresh()
    await watch.refresh()
    assert watch.failures == 2
    assert watch.of("ap-x", "K", datetime.now(UTC)) == {
        "scope": "device", "until": "2099-01-01T00:00:00Z", "reason": "new mast"
    }  # fmt: skip
    assert watch.of("ap-x", "K", datetime(2099, 1, 2, tzinfo=UTC)) is None  # it ends by itself
