"""Every panel's and variable's query, run against a real InfluxDB 1.x holding an hour of the schema.

Variables take the first value their own query returns (after the variables before them), as Grafana
does on first load; `$timeFilter` and `$__interval` are filled in as Grafana would.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from edge_gateway.core.lineproto import encode_many
from edge_gateway.core.model import Reading
from edge_gateway.noc.build import all_dashboards
from edge_gateway.noc.city_map import DOWN, UNKNOWN, UP
from edge_gateway.noc.provisioning import DATABASE
from edge_gateway_dev import servers
from tests.dashboards.fleet_data import DOUBLED_SITE, LATE_AP, MAINTENANCE, SILENT_AP, city_readings
from tests.dashboards.queries import Query, panel_queries, substitute, variable_queries
from tests.integration.helpers import influx_query

DASHBOARDS = [d.to_json() for d in all_dashboards()]
PANEL_QUERIES = [q for d in DASHBOARDS for q in panel_queries(d)]


def _post(url: str, path: str, params: dict[str, str], body: bytes) -> None:
    request = urllib.request.Request(
        f"{url}{path}?{urllib.parse.urlencode(params)}", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert 200 <= response.status < 300


@pytest.fixture(scope="module")
def influx_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.influxdb(tmp_path_factory.mktemp("influxdb")) as server:
        _post(server.url, "/query", {"q": f"CREATE DATABASE {DATABASE}"}, b"")
        lines = encode_many(city_readings())
        _post(server.url, "/write", {"db": DATABASE, "precision": "ns"}, "\n".join(lines).encode())
        yield server.url


def _has_values(series: list[dict[str, Any]]) -> bool:
    """At least one row with a non-null value besides the time column."""
    for one in series:
        columns = one["columns"]
        for row in one.get("values", []):
            if any(v is not None for c, v in zip(columns, row, strict=True) if c != "time"):
                return True
    return False


def _variable_values(influx_url: str, uid: str) -> dict[str, str]:
    dashboard = next(d for d in DASHBOARDS if d["uid"] == uid)
    values: dict[str, str] = {}
    for query in variable_queries(dashboard):
        series = influx_query(influx_url, DATABASE, substitute(query.text, values))
        assert _has_values(series), f"{query.id}: no values for {query.text}"
        values[query.where.removeprefix("var-")] = str(series[0]["values"][0][1])
    return values


@pytest.mark.integration
@pytest.mark.parametrize("query", PANEL_QUERIES, ids=[q.id for q in PANEL_QUERIES])
def test_every_panel_query_returns_values(influx_url: str, query: Query) -> None:
    text = substitute(query.text, _variable_values(influx_url, query.dashboard))
    series = influx_query(influx_url, DATABASE, text)
    assert _has_values(series), f"{query.id}: no non-null values from {text}"


@pytest.mark.integration
def test_variables_follow_each_other(influx_url: str) -> None:
    """The AP picker lists only the chosen gateway's APs: the second variable depends on the first."""
    values = _variable_values(influx_url, "edge-access-point")
    assert values["gateway"] == "cbn-gw-01"
    query = next(q for q in variable_queries(DASHBOARDS[1]) if q.where == "var-device")
    devices = influx_query(influx_url, DATABASE, substitute(query.text, {"gateway": "cbn-gw-02"}))
    assert [row[1] for row in devices[0]["values"]] == ["ap-02-1", "ap-02-2", "ap-02-3"]


@pytest.mark.integration
def test_the_totals_count_what_was_written(influx_url: str) -> None:
    """APs up/down and active alerts agree with the fixture: ap-*-3 went down and its alert fires;
    ap-02-2 fell silent 20 minutes ago, so it is neither up nor down: not heard from (grey on the map)."""
    by_title = {p["title"]: p["targets"][0]["query"] for p in DASHBOARDS[0]["panels"]}

    def first_value(title: str) -> Any:
        return influx_query(influx_url, DATABASE, substitute(by_title[title], {}))[0]["values"][0][1]

    assert (first_value("APs up"), first_value("APs down")) == (3, 2)  # 4 and 2 as the last values
    assert first_value("Clients") == 3 * 6  # the up APs heard from lately
    alerts = influx_query(influx_url, DATABASE, substitute(by_title["Active alerts"], {}))
    assert sorted(s["tags"]["device"] for s in alerts if s["values"][0][1] is True) == ["ap-01-3", "ap-02-3"]


@pytest.mark.integration
def test_reboots_and_stale_sensors_are_found(influx_url: str) -> None:
    """ap-01-1 rebooted once in the hour; int-01-2's sound meter went stale and shows in the NOC table."""
    ap_panels = {p["title"]: p["targets"][0]["query"] for p in DASHBOARDS[1]["panels"]}
    values = {"gateway": "cbn-gw-01", "device": "ap-01-1"}
    reboots = influx_query(influx_url, DATABASE, substitute(ap_panels["Reboots"], values))
    assert reboots[0]["values"][0][1] == 1
    values["device"] = "ap-01-2"
    assert influx_query(influx_url, DATABASE, substitute(ap_panels["Reboots"], values)) == []
    noc_panels = {p["title"]: p["targets"][0]["query"] for p in DASHBOARDS[0]["panels"]}
    stale_query = substitute(noc_panels["Intersections with stale or failed sensors"], {})
    rows = {s["tags"]["device"]: s["values"][0] for s in influx_query(influx_url, DATABASE, stale_query)}
    assert [device for device, (_, up, stale, _) in rows.items() if stale or not up] == ["int-01-2-sound"]


def _map_rows(influx_url: str, ref_id: str, key: tuple[str, ...]) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """The city map's markers of one layer: (state, lat, lon) by the key tags, one row per marker."""
    panel = next(p for p in DASHBOARDS[0]["panels"] if p["type"] == "geomap")
    text = substitute(next(t["query"] for t in panel["targets"] if t["refId"] == ref_id), {})
    rows: dict[tuple[str, ...], tuple[Any, ...]] = {}
    for series in influx_query(influx_url, DATABASE, text):
        (row,) = series["values"]  # one row: one marker
        name = tuple(series["tags"][k] for k in key)
        assert name not in rows, f"two markers for {name}"
        rows[name] = tuple(row[1:4])
    return rows


@pytest.mark.integration
def test_each_ap_is_one_marker_and_a_silent_one_is_grey_not_green(influx_url: str) -> None:
    """The map colours only what reported within the window; an AP seen earlier but silent now
    (behind a killed gateway) is one grey marker, not a green one."""
    expected = {}
    for status in _last_per(_written_since("device_status", 24 * 60), "gateway", "device").values():
        if status.tags["kind"] == "snmp":
            state = UNKNOWN if status.tags["device"] == SILENT_AP else (UP if status.fields["up"] else DOWN)
            key = (status.tags["gateway"], status.tags["device"])
            expected[key] = (state, status.fields["lat"], status.fields["lon"])
    assert _map_rows(influx_url, "A", ("gateway", "device")) == expected
    assert expected[("cbn-gw-02", SILENT_AP)][0] == UNKNOWN


@pytest.mark.integration
def test_worst_aps_and_the_air_on_the_overview_match_the_fixture(influx_url: str) -> None:
    """Counted independently from the readings written: ap-*-3 failed the last 5 polls; the 24-hour
    PM2.5 mean per intersection is the mean of what its sensor sent."""
    by_title = {p["title"]: p["targets"][0]["query"] for p in DASHBOARDS[0]["panels"]}
    worst = influx_query(
        influx_url, DATABASE, substitute(by_title["APs with the most failed polls (top 5)"], {})
    )
    assert sorted((row[2], row[1]) for row in worst[0]["values"]) == [("ap-01-3", 5), ("ap-02-3", 5)]
    air = influx_query(influx_url, DATABASE, substitute(by_title["Air quality: PM2.5, 24-hour mean"], {}))
    written: dict[str, list[float]] = {}
    for reading in city_readings(end_ns=0):
        if reading.measurement == "air_quality":
            written.setdefault(reading.tags["site"], []).append(float(reading.fields["pm25"]))
    means = {s["tags"]["site"]: s["values"][0][1] for s in air}
    assert means == pytest.approx({site: sum(v) / len(v) for site, v in written.items()})


@pytest.mark.integration
def test_a_lane_seen_by_two_sensors_is_counted_once(influx_url: str) -> None:
    """At DOUBLED_SITE a loop detector (`primary=false`) counts lane 1 beside the radar: the board's
    volume per lane is the radar's alone, summed here from the readings written."""
    board = next(d for d in DASHBOARDS if d["uid"] == "edge-intersections")
    query = next(p for p in board["panels"] if p["title"] == "Vehicle volume per lane")["targets"][0]["query"]
    values = {"gateway": "cbn-gw-01", "site": DOUBLED_SITE}
    shown = {
        s["tags"]["lane"]: sum(row[1] for row in s["values"])
        for s in influx_query(influx_url, DATABASE, substitute(query, values))
    }
    written: dict[str, int] = {}
    radar = ("traffic", DOUBLED_SITE, "radar")
    for reading in city_readings(end_ns=0):
        if (reading.measurement, reading.tags.get("site"), reading.tags.get("sensor")) == radar:
            lane = reading.tags["lane"]
            written[lane] = written.get(lane, 0) + int(reading.fields["volume"])
    assert shown == written


@pytest.mark.integration
def test_each_intersection_is_one_marker_in_its_worst_state_where_its_config_places_it(
    influx_url: str,
) -> None:
    """Four sensors and a camera per intersection give one marker, at the mean of their configured
    lat/lon, red where one of them (int-01-2's stale sound meter) is down, green elsewhere."""
    devices: dict[tuple[str, str], list[Reading]] = {}
    for status in _last_per(_written_since("device_status", 24 * 60), "gateway", "device").values():
        if status.tags["kind"] != "snmp":
            devices.setdefault((status.tags["gateway"], status.tags["site"]), []).append(status)
    expected = {
        key: (
            DOWN if any(not s.fields["up"] for s in statuses) else UP,
            pytest.approx(sum(float(s.fields["lat"]) for s in statuses) / len(statuses)),
            pytest.approx(sum(float(s.fields["lon"]) for s in statuses) / len(statuses)),
        )
        for key, statuses in devices.items()
    }
    assert {len(statuses) for statuses in devices.values()} == {5}
    assert _map_rows(influx_url, "B", ("gateway", "site")) == expected
    assert [key for key, (state, _, _) in expected.items() if state == DOWN] == [("cbn-gw-01", "int-01-2")]


def _written_since(measurement: str, minutes: float) -> list[Reading]:
    """The fixture's readings of one measurement within the last `minutes` (its end at time 0)."""
    since_ns = -minutes * 60 * 1_000_000_000
    return [r for r in city_readings(end_ns=0) if r.measurement == measurement and r.time_ns > since_ns]


def _last_per(readings: list[Reading], *keys: str) -> dict[tuple[str, ...], Reading]:
    """The last reading of each series (the fixture writes in time order)."""
    return {tuple(r.tags[k] for k in keys): r for r in readings}


def _panel(title: str) -> dict[str, Any]:
    return next(p for d in DASHBOARDS for p in d["panels"] if p["title"] == title)


def _table(influx_url: str, query: str, key: str) -> dict[str, dict[str, Any]]:
    """A table query's rows by one tag, each as column -> value."""
    rows: dict[str, dict[str, Any]] = {}
    for series in influx_query(influx_url, DATABASE, substitute(query, {})):
        row = dict(zip(series["columns"], series["values"][0], strict=True))
        rows.setdefault(series["tags"][key], {}).update(row)
    return rows


@pytest.mark.integration
def test_the_per_site_rollup_adds_up_what_each_site_sent(influx_url: str) -> None:
    """Devices up and down by their last status within the window (15 minutes here), clients and
    uplink traffic of the APs heard from in the last 3 minutes, per site, summed from the readings."""
    expected: dict[str, dict[str, float]] = {}
    for status in _last_per(_written_since("device_status", 15), "gateway", "device").values():
        column = "up" if status.fields["up"] else "down"
        site = expected.setdefault(status.tags["site"], {})
        site[column] = site.get(column, 0) + 1
    answered = [r for r in _written_since("ap", 3) if "clients" in r.fields]  # a down AP sends none
    for ap in _last_per(answered, "gateway", "device").values():
        site = expected[ap.tags["site"]]
        site["clients"] = site.get("clients", 0) + float(ap.fields["clients"])
    uplinks = [r for r in _written_since("ap_iface", 3) if r.tags.get("role") == "uplink"]
    for iface in _last_per(uplinks, "gateway", "device").values():
        site = expected[iface.tags["site"]]
        bps = float(iface.fields["in_bps"]) + float(iface.fields["out_bps"])
        site["uplink_mbps"] = site.get("uplink_mbps", 0) + bps / 1e6
    shown: dict[str, dict[str, float]] = {}
    for target in _panel("Per site: devices up and down, clients, uplink traffic")["targets"]:
        for name, row in _table(influx_url, target["query"], "site").items():
            shown.setdefault(name, {}).update({c: v for c, v in row.items() if c != "time"})
    flat = {(site, column): value for site, row in shown.items() for column, value in row.items()}
    assert flat == pytest.approx({(s, c): v for s, row in expected.items() for c, v in row.items()})
    assert shown["int-01-2"]["down"] == 1  # the stale sound meter


@pytest.mark.integration
def test_backhaul_utilisation_is_the_uplink_rate_over_its_speed(influx_url: str) -> None:
    query = _panel("Backhaul utilisation per AP")["targets"][0]["query"]
    shown = {
        device: (row["in_pct"], row["out_pct"]) for device, row in _table(influx_url, query, "device").items()
    }
    uplinks = [r for r in _written_since("ap_iface", 3) if r.tags.get("role") == "uplink"]
    expected = {}
    for iface in _last_per(uplinks, "gateway", "device").values():
        speed_bps = float(iface.fields["speed_mbps"]) * 1e6
        in_pct, out_pct = (100 * float(iface.fields[f"{d}_bps"]) / speed_bps for d in ("in", "out"))
        expected[iface.tags["device"]] = (pytest.approx(in_pct), pytest.approx(out_pct))
    assert shown == expected


@pytest.mark.integration
def test_outages_are_marked_where_they_started_and_resolved(influx_url: str) -> None:
    """One mark where each alert first fired in the range and one where it resolved, at the times
    the fixture wrote (compared as offsets: the fixture's end is the module's start)."""
    board = next(d for d in DASHBOARDS if d["uid"] == "edge-noc")
    marks: dict[str, list[tuple[str, int, str]]] = {}
    for annotation in board["annotations"]["list"]:
        series = influx_query(influx_url, DATABASE, substitute(annotation["query"], {}))
        rows = [(s.get("tags", {}).get("device", ""), row[0], row[1]) for s in series for row in s["values"]]
        marks[annotation["name"]] = sorted(rows)
    written = _written_since("alerts", 24 * 60)
    starts = {r.tags["device"]: r for r in reversed(written) if r.fields["firing"]}  # the first wins
    (resolved,) = [r for r in written if not r.fields["firing"]]
    assert [(device, text) for device, _, text in marks["Alerts firing"]] == sorted(
        (device, str(r.fields["summary"])) for device, r in starts.items()
    )
    assert [text for _, _, text in marks["Alerts resolved"]] == [resolved.fields["summary"]]
    fired_ns = {device: time_ns for device, time_ns, _ in marks["Alerts firing"]}
    resolved_ns = marks["Alerts resolved"][0][1]
    assert resolved_ns - fired_ns[LATE_AP] == resolved.time_ns - starts[LATE_AP].time_ns
    assert fired_ns["ap-01-3"] - fired_ns[LATE_AP] == starts["ap-01-3"].time_ns - starts[LATE_AP].time_ns


@pytest.mark.integration
def test_devices_and_sites_in_maintenance_are_listed(influx_url: str) -> None:
    query = substitute(_panel("In maintenance now")["targets"][0]["query"], {})
    shown = sorted(
        (s["tags"]["scope"], s["tags"][s["tags"]["scope"]], s["values"][0][2])
        for s in influx_query(influx_url, DATABASE, query)
    )
    assert shown == sorted(MAINTENANCE)


@pytest.mark.integration
def test_the_ap_board_marks_only_its_own_aps_outages(influx_url: str) -> None:
    board = next(d for d in DASHBOARDS if d["uid"] == "edge-access-point")

    def marks(device: str) -> dict[str, int]:
        values = {"gateway": "cbn-gw-01", "device": device}
        return {
            a["name"]: sum(
                len(s["values"]) for s in influx_query(influx_url, DATABASE, substitute(a["query"], values))
            )
            for a in board["annotations"]["list"]
        }

    assert marks(LATE_AP) == {"Alerts firing": 1, "Alerts resolved": 1}
    assert marks("ap-01-3") == {"Alerts firing": 1, "Alerts resolved": 0}
    assert marks("ap-01-1") == {"Alerts firing": 0, "Alerts resolved": 0}
