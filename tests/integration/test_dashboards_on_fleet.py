"""Every dashboard query against what the real pipeline stored from the simulated fleet.

tests/dashboards/ checks the queries against an hour of generated data that holds every event; this
runs the real thing for half a minute: `edge sim fleet` (a dead AP, a bus with corrupted frames, two
cameras on the real RTSP server, one of them frozen), the agent with client readings on, the bridge
with alerts, and then asks each panel of each dashboard.
It does so at each hour that matters (tests/firmware_sim/hours.py, `edge sim fleet --clock`): at
night counts are 0, not missing, and only quantities undefined without a station may be empty.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from edge_gateway.noc.access_point import AP
from edge_gateway.noc.build import all_dashboards
from edge_gateway_dev import servers
from edge_gateway_dev.sim.clock import format_instant
from tests.dashboards.queries import Query, panel_queries, substitute
from tests.dashboards.test_queries_influx import _has_values, _variable_values
from tests.integration.helpers import influx_query

pytestmark = pytest.mark.integration

DASHBOARDS = [d.to_json() for d in all_dashboards()]
PANEL_QUERIES = [q for d in DASHBOARDS for q in panel_queries(d)]
RUN_S = 35
# Panels about events the half minute does not hold.
EVENT_PANELS = {"Reboots", "Availability per site (last day computed)", "City availability, month to date"}
EVENT_PANELS |= {"In maintenance now"}  # tests/dashboards/test_queries_influx.py checks it
# Panels of fields only some vendors report: asked of an AP that reports them (UniFi radios' load).
VENDOR_PANELS = {"Channel utilisation": ("ap_radio", "util_pct")}
# Panels of quantities undefined without a station (docs/schema.md, "Absent fields"): empty is right
# only when no radio of the AP that is on a channel had a station, as at night.
STATION_PANELS = {"CCQ", "Client signal", "Client SNR"}
STATIONS = (
    f'SELECT max("clients") FROM "ap_radio" WHERE {AP} AND ("freq_mhz" > 0 OR "channel" > 0) '
    'AND "clients" > 0'
)


@pytest.fixture(scope="module")
def fleet_influx(tmp_path_factory: pytest.TempPathFactory, sim_start_s: float) -> Iterator[str]:
    work = tmp_path_factory.mktemp("fleet")
    with servers.mosquitto(work / "m") as mqtt, servers.influxdb(work / "i") as influx:
        config = work / "edge.toml"
        options = ["--aps", "8", "--intersections", "1", "--cameras", "2", "--interval-s", "2"]
        options += ["--clock", format_instant(sim_start_s)]
        options += ["--faults", "ap-002:no_reply;cbn-int-01:rs485.corrupt=0.3;cbn-int-01-cam-2:frozen"]
        options += ["--port-dir", str(work / "ports"), "--broker-url", mqtt.url]
        with servers.fleet_process(config, options, work / "fleet.log"):
            bridge = work / "bridge.toml"
            bridge.write_text(
                f'[mqtt]\nurl = "{mqtt.url}"\n[influxdb]\nurl = "{influx.url}"\ndatabase = "edge"\n'
                f'[bridge]\ndead_letter_path = "{work}/dead.jsonl"\nlisten_port = 0\nhealth_interval_s = 2\n'
                "[alerts]\nevaluate_every_s = 1\n"
            )
            env = {"EDGE_SNMP__CLIENTS": "true", "EDGE_SNMP__CLIENT_HASH_KEY": "a-test-key-of-16+chars"}
            os.environ.update(env)
            try:
                with (
                    servers.edge_process(["bridge", "-c", str(bridge)], work / "bridge.log"),
                    servers.edge_process(["agent", "-c", str(config)], work / "agent.log"),
                ):
                    time.sleep(RUN_S)  # the span of data under test, not a wait for an event
            finally:
                for key in env:
                    os.environ.pop(key)
        yield influx.url


def _title(query: Query) -> str:
    dashboard = next(d for d in DASHBOARDS if d["uid"] == query.dashboard)
    panel_id = int(query.where.removeprefix("panel").split("-")[0])
    return str(next(p["title"] for p in dashboard["panels"] if p["id"] == panel_id))


@pytest.mark.hours
@pytest.mark.parametrize("query", PANEL_QUERIES, ids=[q.id for q in PANEL_QUERIES])
def test_every_panel_answers_from_the_fleet(fleet_influx: str, query: Query) -> None:
    values = _variable_values(fleet_influx, query.dashboard)
    if _title(query) in VENDOR_PANELS:
        measurement, field = VENDOR_PANELS[_title(query)]
        reporting = influx_query(
            fleet_influx, "edge", f'SELECT last("{field}") FROM "{measurement}" GROUP BY "device"'
        )
        assert reporting, f"no AP of the fleet reports {measurement}.{field}"
        values["device"] = reporting[0]["tags"]["device"]
    # Half a minute of data: Grafana's $__interval for a range that short is seconds, not a minute (and
    # panels of differences between intervals need two of them).
    text = substitute(query.text, values).replace("time(1m)", "time(5s)")
    series = influx_query(fleet_influx, "edge", text)  # fails on any query InfluxDB refuses
    if _title(query) in STATION_PANELS and not _has_values(series):
        stations = influx_query(fleet_influx, "edge", substitute(STATIONS, values))
        assert not _has_values(stations), f"{_title(query)} empty although the AP had stations: {text}"
    elif _title(query) not in EVENT_PANELS:
        assert _has_values(series), f"{query.dashboard} / {_title(query)}: no values from {text}"
