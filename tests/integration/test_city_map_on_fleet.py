"""The NOC map's markers from what the real pipeline stored: `edge sim fleet` (two intersections, each
with an RS-485 bus of four sensors, a GPS, a radar and one with a camera; two APs, one dead), the
agent and the bridge into a real InfluxDB.

The truth is the agent config the simulator wrote: which devices each intersection (site) has and
where they stand. Each intersection must be one row (one marker) at the mean of its devices'
configured positions, red while one of its sensors is silent, green otherwise; each AP one row. After
`kill -9` of the agent (a vanished gateway) every marker turns "not heard from" and stays in place.
"""

from __future__ import annotations

import os
import signal
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_gateway.noc.city_map import AP_MARKERS, DOWN, INTERSECTION_MARKERS, UNKNOWN, UP
from edge_gateway_dev import servers
from tests.dashboards.queries import substitute
from tests.integration.helpers import influx_query, wait_for

pytestmark = pytest.mark.integration

# Slave 3 of cbn-int-02's RS-485 bus (its noise meter) stops answering; ap-002 answers no poll.
FAULTS = "cbn-int-02:rs485.silent=3;ap-002:no_reply"
DOWN_SITE_OF = "cbn-int-02"
DEAD_AP = "ap-002"
# Short enough that a killed gateway's markers turn grey within the test, longer than the 2 s polls
# plus the way through MQTT and the bridge.
WINDOW = "10s"
WAIT_S = 60.0
Marker = tuple[int, Any, Any]


def _centre(at: list[tuple[float, float]]) -> tuple[Any, Any]:
    """The mean of the positions, as the map places an intersection."""
    lats, lons = [lat for lat, _ in at], [lon for _, lon in at]
    return pytest.approx(sum(lats) / len(lats)), pytest.approx(sum(lons) / len(lons))


def expected_intersections(config: dict[str, Any]) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Each intersection (gateway, site) and the configured position of each of its devices."""
    gateway = config["gateway"]["id"]
    places: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for bus in config["serial"]["buses"]:
        for sensor in bus["sensors"]:
            at = (sensor.get("lat", bus["lat"]), sensor.get("lon", bus["lon"]))
            places.setdefault((gateway, sensor.get("site", bus["site"])), []).append(at)
    for camera in config["camera"]["devices"]:
        places.setdefault((gateway, camera["site"]), []).append((camera["lat"], camera["lon"]))
    return places


def markers(influx_url: str, query: str, key: tuple[str, ...]) -> dict[tuple[str, ...], Marker]:
    rows: dict[tuple[str, ...], Marker] = {}
    for series in influx_query(influx_url, "edge", substitute(query, {"up_window": WINDOW})):
        (row,) = series["values"]  # one row per marker
        rows[tuple(series["tags"][k] for k in key)] = (row[1], row[2], row[3])
    return rows


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any], Any, Path]]:
    """InfluxDB's URL, the agent config, the running agent process and the logs' folder."""
    work = tmp_path_factory.mktemp("map")
    with servers.mosquitto(work / "m") as mqtt, servers.influxdb(work / "i") as influx:
        config_path = work / "edge.toml"
        options = ["--aps", "2", "--intersections", "2", "--cameras", "1", "--interval-s", "2"]
        options += ["--faults", FAULTS, "--port-dir", str(work / "ports"), "--broker-url", mqtt.url]
        with servers.fleet_process(config_path, options, work / "fleet.log"):
            bridge = work / "bridge.toml"
            bridge.write_text(
                f'[mqtt]\nurl = "{mqtt.url}"\n[influxdb]\nurl = "{influx.url}"\ndatabase = "edge"\n'
                f'[bridge]\ndead_letter_path = "{work}/dead.jsonl"\nlisten_port = 0\n'
            )
            config = tomllib.loads(config_path.read_text())
            with (
                servers.edge_process(["bridge", "-c", str(bridge)], work / "bridge.log"),
                servers.edge_process(["agent", "-c", str(config_path)], work / "agent.log") as agent,
            ):
                yield influx.url, config, agent, work


def test_each_intersection_is_one_marker_in_its_worst_state_and_each_ap_one(
    fleet: tuple[str, dict[str, Any], Any, Path],
) -> None:
    influx_url, config, _, work = fleet
    places = expected_intersections(config)
    assert min(len(devices) for devices in places.values()) >= 6  # several devices, one marker
    down_site = next(bus["site"] for bus in config["serial"]["buses"] if bus["name"].startswith(DOWN_SITE_OF))
    expected_sites = {key: (DOWN if key[1] == down_site else UP, *_centre(at)) for key, at in places.items()}
    gateway = config["gateway"]["id"]
    expected_aps = {
        (gateway, ap["name"]): (DOWN if ap["name"] == DEAD_AP else UP, ap["lat"], ap["lon"])
        for ap in config["snmp"]["devices"]
    }
    logs = (work / "agent.log", work / "bridge.log")
    wait_for(
        lambda: markers(influx_url, INTERSECTION_MARKERS, ("gateway", "site")) == expected_sites,
        WAIT_S,
        f"one marker per intersection: {expected_sites}",
        logs,
    )
    wait_for(
        lambda: markers(influx_url, AP_MARKERS, ("gateway", "device")) == expected_aps,
        WAIT_S,
        f"one marker per AP: {expected_aps}",
        logs,
    )


def test_a_vanished_gateway_leaves_its_markers_in_place_but_not_heard_from(
    fleet: tuple[str, dict[str, Any], Any, Path],
) -> None:
    influx_url, config, agent, work = fleet
    places = expected_intersections(config)
    os.kill(agent.pid, signal.SIGKILL)
    agent.wait()
    unknown_sites = {key: (UNKNOWN, *_centre(at)) for key, at in places.items()}
    unknown_aps = {
        (config["gateway"]["id"], ap["name"]): (UNKNOWN, ap["lat"], ap["lon"])
        for ap in config["snmp"]["devices"]
    }

    def all_grey() -> bool:
        # Both at once: an AP's last status may be a second younger than the last sensor's.
        sites = markers(influx_url, INTERSECTION_MARKERS, ("gateway", "site"))
        return (
            sites == unknown_sites and markers(influx_url, AP_MARKERS, ("gateway", "device")) == unknown_aps
        )

    wait_for(all_grey, WAIT_S, "every marker not heard from, in place", (work / "bridge.log",))
