"""The bridge's writer against the real databases: InfluxDB 1.x (v1 API) and VictoriaMetrics (v2 API)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from edge_gateway.bridge.config import InfluxSection
from edge_gateway.bridge.influx import InfluxWriter, WriteError, create_database
from edge_gateway.core.config import Secret
from edge_gateway_dev import servers
from tests.integration.helpers import influx_query, wait_for

pytestmark = pytest.mark.integration


async def test_v1_write_then_query(influxdb: servers.Server) -> None:
    conf = InfluxSection(url=influxdb.url, api="v1", database="edge")
    async with aiohttp.ClientSession() as session:
        await create_database(influxdb.url, "edge", session)
        await InfluxWriter(conf, session).write(["ap,device=ap-1,gateway=g1 clients=7i 1700000000000000000"])
    series = influx_query(influxdb.url, "edge", "SELECT clients FROM ap")
    assert series[0]["values"] == [[1700000000000000000, 7]]


async def test_v1_bad_data_is_not_retryable_and_a_dead_server_is(tmp_path: Path) -> None:
    with servers.influxdb(tmp_path / "influx") as influx:
        conf = InfluxSection(url=influx.url, api="v1", database="edge", timeout_s=2)
        async with aiohttp.ClientSession() as session:
            await create_database(influx.url, "edge", session)
            writer = InfluxWriter(conf, session)
            await writer.write(["m x=1i 1"])
            with pytest.raises(WriteError) as caught:
                await writer.write(['m x="now a string" 2'])  # field type conflict
            assert not caught.value.retryable and "400" in str(caught.value)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(WriteError) as caught:
            await InfluxWriter(conf, session).write(["m x=1i 3"])
        assert caught.value.retryable


async def test_v2_write_to_victoriametrics(tmp_path: Path) -> None:
    with servers.victoriametrics(tmp_path / "vm") as vm:
        conf = InfluxSection(url=vm.url, api="v2", org="cirebon", bucket="edge", token=Secret("t0ken"))
        async with aiohttp.ClientSession() as session:
            await InfluxWriter(conf, session).write(["ap,device=ap-1,gateway=g1 clients=9i"])

        def exported() -> list[dict[str, Any]]:
            params = urllib.parse.urlencode({"match[]": "ap_clients"})
            with urllib.request.urlopen(f"{vm.url}/api/v1/export?{params}", timeout=5) as response:
                return [json.loads(line) for line in response.read().decode().splitlines() if line]

        rows = wait_for(exported, 30, "the point in VictoriaMetrics")
        assert rows[0]["metric"]["device"] == "ap-1"
        assert rows[0]["values"] == [9]
