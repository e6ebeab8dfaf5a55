"""Every dashboard query against what the real pipeline stored from the simulated fleet.

tests/dashboards/ checks the queries against an hour of generated data that holds every event; this
runs the real thing for half a minute: `edge sim fleet` (a dead AP, a bus with corrupted frames, two
cameras on the real RTSP server, one of them frozen), the agent with client readings on, the bridge
with alerts, and then asks each panel of each dashboard.
It does so at each hour that matters (tests/firmware_sim/hours.py, `edge sim fleet --clock`): at
night counts are 0, not missing, and only quantities undefined without a station may be empty.
Then every panel's figures are compared with what the simulators served, computed again in this
process from the same seed, faults and clock (tests/integration/dashboard_truth*.py): one run of the
fleet per hour serves both.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from edge_gateway.noc.access_point import AP
from edge_gateway.noc.build import all_dashboards
from edge_gateway.noc.intersections import PRIMARY, WHERE
from edge_gateway_dev import servers
from edge_gateway_dev.sim.clock import format_instant
from tests.dashboards.queries import Query, panel_queries, substitute
from tests.dashboards.test_queries_influx import _has_values, _variable_values
from tests.integration import dashboard_truth, dashboard_truth_boards
from tests.integration.fleet_truth import (
    APS,
    CAMERAS,
    FAULTS,
    INTERSECTIONS,
    INTERVAL_S,
    SEED,
    FleetRun,
    FleetTruth,
)
from tests.integration.helpers import influx_query
from tests.integration.panel_answers import Panels, panel_titles

pytestmark = pytest.mark.integration

DASHBOARDS = [d.to_json() for d in all_dashboards()]
PANEL_QUERIES = [q for d in DASHBOARDS for q in panel_queries(d)]
RUN_S = 35
# Panels about events the half minute does not hold.
EVENT_PANELS = {"Reboots", "Availability per site (last day computed)", "City availability, month to date"}
EVENT_PANELS |= {"In maintenance now"}  # tests/dashboards/test_queries_influx.py checks it
# Panels of fields only some vendors report: asked of an AP that reports them (UniFi radios' load;
# a CPU percentage, which a UniFi AP does not serve: docs/snmp.md).
VENDOR_PANELS = {"Channel utilisation": ("ap_radio", "util_pct"), "CPU": ("ap", "cpu_pct")}
# Panels of quantities undefined without a station (docs/schema.md, "Absent fields"): empty is right
# only when no radio of the AP that is on a channel had a station, as at night.
STATION_PANELS = {"CCQ", "Client signal", "Client SNR"}
STATIONS = (
    f'SELECT max("clients") FROM "ap_radio" WHERE {AP} AND ("freq_mhz" > 0 OR "channel" > 0) '
    'AND "clients" > 0'
)


TRUTH_CHECKS = dashboard_truth.CHECKS | dashboard_truth_boards.CHECKS
WITHOUT_TRUTH = dashboard_truth_boards.WITHOUT_TRUTH


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory: pytest.TempPathFactory, sim_start_s: float) -> Iterator[FleetRun]:
    work = tmp_path_factory.mktemp("fleet")
    with servers.mosquitto(work / "m") as mqtt, servers.influxdb(work / "i") as influx:
        config = work / "edge.toml"
        options = ["--aps", str(APS), "--intersections", str(INTERSECTIONS), "--cameras", str(CAMERAS)]
        options += ["--interval-s", str(INTERVAL_S), "--clock", format_instant(sim_start_s)]
        options += ["--faults", FAULTS, "--seed", str(SEED)]
        options += ["--port-dir", str(work / "ports"), "--broker-url", mqtt.url]
        launched_s = time.time()
        with servers.fleet_process(config, options, work / "fleet.log"):
            ready_s = time.time()
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
                stopped_s = time.time()
            finally:
                for key in env:
                    os.environ.pop(key)
        yield FleetRun(influx.url, config, sim_start_s, launched_s, ready_s, stopped_s)


@pytest.fixture(scope="module")
def fleet_influx(fleet_run: FleetRun) -> str:
    return fleet_run.influx_url


@pytest.fixture(scope="module")
def fleet_truth(fleet_run: FleetRun) -> FleetTruth:
    return FleetTruth(fleet_run)


def _title(query: Query) -> str:
    dashboard = next(d for d in DASHBOARDS if d["uid"] == query.dashboard)
    panel_id = int(query.where.removeprefix("panel").split("-")[0])
    return str(next(p["title"] for p in dashboard["panels"] if p["id"] == panel_id))


# Panels of quantities undefined without a vehicle (docs/schema.md: `traffic.speed_kmh` is absent when
# none passed): empty is right only when no vehicle passed the site's radar (the one sensor of the
# simulated intersection that measures speed; its loops count vehicles of their own), as at night.
VEHICLE_PANELS = {"Speed per lane"}
RADAR = '"sensor" =~ /-radar$/'
VEHICLES = f'SELECT sum("volume") FROM "traffic" WHERE {WHERE} AND {PRIMARY} AND {RADAR} AND "volume" > 0'


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
    elif _title(query) in VEHICLE_PANELS and not _has_values(series):
        vehicles = influx_query(fleet_influx, "edge", substitute(VEHICLES, values))
        assert not _has_values(vehicles), f"{_title(query)} empty although vehicles passed: {text}"
    elif _title(query) not in EVENT_PANELS:
        assert _has_values(series), f"{query.dashboard} / {_title(query)}: no values from {text}"


def test_every_panel_has_a_truth_check() -> None:
    """A panel added to a board without a check of its figures against the simulator's truth fails
    here (the list comes from the built dashboards, not from this file); the few the test cannot
    compute yet are listed with the reason (dashboard_truth_boards.WITHOUT_TRUTH)."""
    missing = [key for key in panel_titles() if key not in TRUTH_CHECKS and key not in WITHOUT_TRUTH]
    assert not missing, f"panels without a truth check in tests/integration/dashboard_truth*.py: {missing}"
    assert not (set(TRUTH_CHECKS) | set(WITHOUT_TRUTH)) - set(panel_titles()), "checks of panels no board has"
    assert not set(TRUTH_CHECKS) & set(WITHOUT_TRUTH)


CHECKED = [key for key in panel_titles() if key not in WITHOUT_TRUTH]


@pytest.mark.hours
@pytest.mark.parametrize("panel", CHECKED, ids=[f"{uid}:{title}" for uid, title in CHECKED])
def test_every_panel_shows_the_truth(fleet_truth: FleetTruth, panel: tuple[str, str]) -> None:
    if panel not in TRUTH_CHECKS:
        pytest.fail(f"no truth check for {panel}")
    TRUTH_CHECKS[panel](Panels(fleet_truth.run.influx_url), fleet_truth)
