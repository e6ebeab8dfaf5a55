"""The gateway's page marks what `edge maintenance` put in maintenance, read from a real Alertmanager:
a device's own silence, its site's, and nothing for a silence that only mutes one alert name."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import StatusSection
from edge_gateway.agent.status import Board, StatusServer
from edge_gateway.agent.status_maintenance import MaintenanceWatch
from edge_gateway.agent.uplink import UplinkStats
from edge_gateway.core.maintenance import Maintenance
from edge_gateway.core.model import Reading
from edge_gateway.noc.build import all_dashboards
from edge_gateway.noc.provisioning import DATABASE
from edge_gateway_dev import servers
from tests.dashboards.queries import substitute
from tests.edge.test_status_http import serving
from tests.integration.helpers import influx_query
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
    async with serving(server.http) as port, aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
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


def test_the_boards_list_what_is_in_maintenance(tmp_path: Path) -> None:
    """`edge dashboards maintenance` copies the silences into InfluxDB; the overview's panel lists them."""
    board = next(d.to_json() for d in all_dashboards() if d.uid == "edge-noc")
    query = next(p for p in board["panels"] if p["title"] == "In maintenance now")["targets"][0]["query"]
    with servers.alertmanager(tmp_path / "am") as am, servers.influxdb(tmp_path / "influx") as influx:
        influx_query(influx.url, DATABASE, f"CREATE DATABASE {DATABASE}")
        maintenance(am, "ap-alun-alun", "--for", "2h", "--reason", "replacing the PoE injector")
        maintenance(am, "Kejaksan", "--site", "--for", "30m", "--reason", "fibre works")
        command = [sys.executable, "-m", "edge_gateway.cli.main", "dashboards", "maintenance"]
        command += ["--alertmanager-url", am.url, "--influx-url", influx.url, "--database", DATABASE]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        rows = influx_query(influx.url, DATABASE, substitute(query, {}))
    shown = sorted((s["tags"]["scope"], s["tags"][s["tags"]["scope"]], s["values"][0][2]) for s in rows)
    assert shown == [
        ("device", "ap-alun-alun", "replacing the PoE injector"),
        ("site", "Kejaksan", "fibre works"),
    ]
