"""The bridge's fleet page from real retained statuses on Mosquitto: a reporting gateway with its
inventory, an expected one that never reported, the page's sorting, and `edge fleet status --url`
reading it."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
import pytest
from aiohttp import web

from edge_gateway.bridge.config import BridgeMqttSection
from edge_gateway.bridge.fleet import FleetWatch
from edge_gateway.bridge.fleet_page import add_fleet_routes
from edge_gateway.bridge.fleet_settings import FleetSection
from edge_gateway.core.mqtt import Client, client_options
from edge_gateway_dev import servers
from tests.integration.mqtt_checker import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.fleet]


async def test_fleet_page_lists_reporting_and_expected_gateways(mosquitto: servers.Server) -> None:
    conn = BridgeMqttSection(url=mosquitto.url)
    status = {"state": "online", "time_s": 1.0, "version": "0.1.0", "config_outcome": "refused: x"}
    async with Client(identifier="gw-a", **client_options(conn)) as gateway:
        await gateway.publish_checked("edge/gw-a/status", json.dumps(status).encode(), qos=1, retain=True)
    watch = FleetWatch(conn, "bridge-fleet", FleetSection(expected=["gw-a", "gw-b"]))
    watching = asyncio.create_task(watch.run())
    app = web.Application()
    add_fleet_routes(app, watch)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = servers.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await wait_until(lambda: "gw-a" in watch.statuses, 20, "the retained status at the bridge")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/fleet.json?sort=problems") as response:
                rows = await response.json()
            async with session.get(f"http://127.0.0.1:{port}/fleet?sort=last_seen") as response:
                page = await response.text()
        cli = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "edge_gateway", "fleet", "status", "--json"),
            *("--url", f"http://127.0.0.1:{port}/fleet.json"),
            stdout=asyncio.subprocess.PIPE,
        )
        printed, _ = await cli.communicate()
    finally:
        watching.cancel()
        await runner.cleanup()
    assert [row["gateway"] for row in rows] == ["gw-a", "gw-b"]
    assert rows[0]["problems"] == ["silent: no status refresh", "config refused: x"]
    assert rows[1]["state"] == "never seen"
    assert "2 gateways, 2 with something wrong" in page and "never" in page
    assert json.loads(printed) == rows and cli.returncode == 1  # `edge fleet status --url`: the same rows
