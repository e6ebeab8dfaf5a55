"""The alert engine against a real Alertmanager running deploy/alertmanager/alertmanager.yml."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from edge_gateway.alerts.alertmanager import AlertmanagerClient
from edge_gateway.alerts.engine import Engine
from edge_gateway.alerts.rules import load_rules
from edge_gateway.core.model import Reading
from edge_gateway_dev import servers
from tests.integration.mqtt_checker import wait_until

pytestmark = pytest.mark.integration

DEPLOYED = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"


RECEIVERS = ("noc-webhook", "noc-telegram")


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=critical", "alertname=APDown"], "noc-telegram,noc-webhook"),
        (["severity=warning", "alertname=SensorDown"], "noc-webhook"),
        (["severity=info", "alertname=RadioCrowded"], "noc-webhook"),
    ],
)
def test_every_severity_reaches_every_receiver_it_promises(labels: list[str], receivers: str) -> None:
    """Alertmanager's own route matcher on the deployed file: critical pages and opens a ticket."""
    command = [servers.find_binary("amtool"), "config", "routes", "test", f"--config.file={DEPLOYED}"]
    result = subprocess.run([*command, *labels], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == receivers


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback stand-in for the NOC's receivers: it records what Alertmanager notifies (each
    notification names its `receiver`)."""
    received: list[dict[str, Any]] = []

    async def record(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/alerts", record)
    runner = web.AppRunner(app)
    await runner.setup()
    port = servers.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/alerts", received
    await runner.cleanup()


@pytest.fixture
def alertmanager(tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]) -> Iterator[servers.Server]:
    """The deployed routing and inhibition, with fast grouping and every receiver on loopback."""
    config = servers.shipped_alertmanager_config("1s", group_interval="1s", webhook_url=webhook[0])
    with servers.alertmanager(tmp_path / "am", config) as server:
        yield server


def alerts_in(server: servers.Server) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{server.url}/api/v2/alerts", timeout=5) as response:
        return {f"{a['labels']['alertname']}:{a['labels'].get('device', '')}": a for a in json.load(response)}


def status(device: str, at_s: float, up: bool = False) -> Reading:
    tags = {"device": device, "kind": "snmp", "site": "Kejaksan"}
    return Reading("device_status", tags, {"up": up}, int(at_s * 1e9))


async def test_fires_inhibits_resolves_and_ignores_backfill(
    alertmanager: servers.Server, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    engine = Engine(load_rules())
    now_s = time.time()
    async with aiohttp.ClientSession() as session:
        client = AlertmanagerClient(alertmanager.url, session)

        async def push() -> None:
            changes = engine.tick()
            assert await client.send(engine.active(), changes.resolved, time.time())

        engine.observe("gw-1", [status("ap-1", now_s - 20 + 10 * i) for i in range(3)])
        engine.observe("gw-1", [status("ap-old", now_s - 7200 + 10 * i) for i in range(50)])  # backfill
        await push()
        await wait_until(lambda: "APDown:ap-1" in alerts_in(alertmanager), 10, "APDown in Alertmanager")
        assert alerts_in(alertmanager)["APDown:ap-1"]["status"]["state"] == "active"
        assert "APDown:ap-old" not in alerts_in(alertmanager)  # down two hours ago is not news
        await wait_until(
            lambda: {n["receiver"] for n in webhook[1] if n["status"] == "firing"} == set(RECEIVERS),
            15,
            "the critical APDown at the on-call phone and at the ticketing webhook",
        )

        engine.gateway_status("gw-1", "offline")
        await push()
        await wait_until(
            lambda: alerts_in(alertmanager)["APDown:ap-1"]["status"]["state"] == "suppressed",
            10,
            "inhibition",
        )
        assert alerts_in(alertmanager)["APDown:ap-1"]["status"]["inhibitedBy"]
        assert alerts_in(alertmanager)["GatewayOffline:"]["status"]["state"] == "active"

        engine.gateway_status("gw-1", "online")
        engine.observe("gw-1", [status("ap-1", time.time(), up=True)])
        await push()
        await wait_until(lambda: not alerts_in(alertmanager), 10, "everything resolved")
        await wait_until(
            lambda: any(n["status"] == "resolved" for n in webhook[1]), 15, "a resolved notification"
        )
