"""The first slice end to end: real snmpd -> agent -> SQLite buffer -> Mosquitto -> bridge -> InfluxDB."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from edge_gateway_dev import servers
from tests.integration.helpers import influx_query, wait_for

pytestmark = pytest.mark.integration

GATEWAY = "cbn-gw-01"
STATUS_PORT = servers.free_port()


def write_configs(
    tmp_path: Path, mqtt: servers.Server, influx: servers.Server, snmp: servers.Server
) -> tuple[Path, Path]:
    agent = tmp_path / "edge.toml"
    agent.write_text(
        f'[gateway]\nid = "{GATEWAY}"\nsite = "Alun-alun Kejaksan"\n'
        f'[uplink]\nurl = "{mqtt.url}"\n'
        f'[buffer]\npath = "{tmp_path}/buffer.db"\n'
        f'[status]\nlisten = "127.0.0.1:{STATUS_PORT}"\n'
        "[[snmp.devices]]\n"
        f'name = "ap-kejaksan-1"\nhost = "{snmp.host}:{snmp.port}"\ncommunity = "public"\ninterval_s = 1\n'
        "lat = -6.7063\nlon = 108.557\n"
    )
    bridge = tmp_path / "bridge.toml"
    bridge.write_text(
        f'[mqtt]\nurl = "{mqtt.url}"\n'
        f'[influxdb]\nurl = "{influx.url}"\napi = "v1"\ndatabase = "edge"\n'
        f'[bridge]\ndead_letter_path = "{tmp_path}/dead.jsonl"\nhealth_interval_s = 1\n'
    )
    return agent, bridge


def test_readings_reach_influxdb_with_the_right_tags(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server, snmpd: servers.Server
) -> None:
    agent_conf, bridge_conf = write_configs(tmp_path, mosquitto, influxdb, snmpd)
    logs = (tmp_path / "agent.log", tmp_path / "bridge.log")
    with (
        servers.edge_process(["bridge", "-c", str(bridge_conf)], logs[1]),
        servers.edge_process(["agent", "-c", str(agent_conf)], logs[0]),
    ):

        def three_polls() -> list[dict[str, object]]:
            series = influx_query(influxdb.url, "edge", "SELECT count(up) FROM device_status")
            return series if series and series[0]["values"][0][1] >= 3 else []

        wait_for(three_polls, 60, "three polls of the AP in InfluxDB", logs)
        with urllib.request.urlopen(f"http://127.0.0.1:{STATUS_PORT}/api/status", timeout=5) as response:
            page = json.load(response)
        with urllib.request.urlopen(f"http://127.0.0.1:{STATUS_PORT}/healthz", timeout=5) as response:
            assert response.status == 200
        ifaces = influx_query(
            influxdb.url,
            "edge",
            "SELECT last(in_octets) FROM ap_iface GROUP BY gateway, device, site, ifname",
        )
        ingest = wait_for(
            lambda: influx_query(
                influxdb.url, "edge", "SELECT last(points), last(gaps) FROM ingest GROUP BY gateway"
            ),
            30,
            "the bridge's ingest accounting",
            logs,
        )

    assert page["gateway"] == GATEWAY and page["uplink"]["connected"]
    assert page["devices"]["ap-kejaksan-1"]["up"] is True

    tags = [series["tags"] for series in ifaces]
    assert {t["gateway"] for t in tags} == {GATEWAY}
    assert {t["device"] for t in tags} == {"ap-kejaksan-1"}
    assert {t["site"] for t in tags} == {"Alun-alun Kejaksan"}
    assert "lo" in {t["ifname"] for t in tags}
    loopback = next(s for s in ifaces if s["tags"]["ifname"] == "lo")
    assert loopback["values"][0][1] > 0  # snmpd's own replies crossed lo, so its octet counter moved

    status = influx_query(influxdb.url, "edge", "SELECT up, latency_ms, error, lat, lon FROM device_status")
    assert all(row[1] is True for row in status[0]["values"])
    assert status[0]["values"][-1][4:] == [-6.7063, 108.557]  # the AP's place on the NOC map
    uptime = influx_query(influxdb.url, "edge", "SELECT last(uptime_s) FROM ap")
    assert uptime and uptime[0]["values"][0][1] >= 0

    assert ingest[0]["tags"]["gateway"] == GATEWAY
    _, points, gaps = ingest[0]["values"][0]
    assert points > 0 and gaps == 0
    assert not (tmp_path / "dead.jsonl").exists()
