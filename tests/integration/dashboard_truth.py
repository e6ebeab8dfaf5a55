"""For every panel of every board, what the simulator's truth says it must show, and the check.

Each check asks the panel (tests/integration/panel_answers.py) and compares with a value computed from
the rebuilt simulators (tests/integration/fleet_truth.py): counts exactly, quantities that vary by the
second within their span over the uncertain simulated seconds, rates within RATE_TOLERANCE.
`CHECKS` is keyed by (dashboard uid, panel title); the test fails for a panel that has none.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable

from edge_gateway.noc.availability import Influx, compute_day, compute_month
from tests.integration.fleet_truth import INTERVAL_S, FleetTruth, bucket_means, near, within
from tests.integration.panel_answers import Panels

Check = Callable[[Panels, FleetTruth], None]
# Rates: the truth is the sim's octets between the seconds two polls read, over the time between the
# polls (tests/integration/fleet_truth.py, FleetTruth.poll_bps); the agent times its polls itself.
RATE_TOLERANCE = 0.05
BUCKET_S = 5  # Grafana's $__interval for a half-minute range (tests/integration/panel_answers.py)
DAY_S = 86400
PCT_SLACK = 0.002  # availability is stored to 0.001 %
AGENT_START_S = 10.0  # from the fleet's config written to the agent's first poll
NOC, AP, CROSSING, FLEET = "edge-noc", "edge-access-point", "edge-intersections", "edge-fleet"
MAP = "City map: access points and intersections"
UP, DOWN = 2, 3  # the map's ranks of a marker (src/edge_gateway/noc/city_map.py)


def _gateway(truth: FleetTruth) -> str:
    return str(truth.run.config["gateway"]["id"])


def _clients_span(truth: FleetTruth, aps: list[str]) -> tuple[float, float]:
    spans = [truth.span(ap, truth.last_poll_seconds(ap), "clients") for ap in aps]
    return sum(s[0] for s in spans), sum(s[1] for s in spans)


def _last_uplink_bps(truth: FleetTruth, ap: str) -> tuple[float, float]:
    """In and out bit/s of the AP's uplink (all of its uplink interfaces) at its last poll."""
    last = [(rates := truth.poll_bps(ap, ifname))[max(rates)] for ifname in truth.uplinks(ap)]
    return sum(r[0] for r in last), sum(r[1] for r in last)


def _uplink_total_bps(truth: FleetTruth, aps: list[str]) -> float:
    return sum(sum(_last_uplink_bps(truth, ap)) for ap in aps)


def _sensors(truth: FleetTruth) -> dict[str, str]:
    """Every intersection sensor of the agent config by name -> its bus's name."""
    buses = truth.run.config["serial"]["buses"]
    return {s["name"]: b["name"] for b in buses for s in b["sensors"]}


# NOC overview -----------------------------------------------------------------------------------


def city_map(p: Panels, truth: FleetTruth) -> None:
    """One marker per AP at its configured place, ranked up or down; one per intersection at the mean
    of its devices' places, up or down (its corrupted bus may fail a poll), never unknown."""
    config = truth.run.config
    aps = {d["name"]: (d["lat"], d["lon"]) for d in config["snmp"]["devices"]}
    shown = {n: (r["state"], r["lat"], r["lon"]) for n, r in p.by("device", NOC, MAP, "A").items()}
    assert shown == {n: (DOWN if n in truth.silent() else UP, *at) for n, at in aps.items()}
    for crossing in truth.crossings:
        places = [(crossing.lat_deg, crossing.lon_deg)] * len(_sensors(truth))
        places += [c.position for c in truth.cameras if c.site == crossing.site and c.position]
        row = p.by("site", NOC, MAP, "B")[crossing.site]
        assert row["state"] in (UP, DOWN), row
        for shown_deg, places_deg in (
            (row["lat"], [a for a, _ in places]),
            (row["lon"], [o for _, o in places]),
        ):
            assert abs(shown_deg - sum(places_deg) / len(places_deg)) < 1e-6, (row, places)


def aps_up(p: Panels, truth: FleetTruth) -> None:
    assert p.one(NOC, "APs up", "aps_up") == len(truth.answering())


def aps_down(p: Panels, truth: FleetTruth) -> None:
    assert p.one(NOC, "APs down", "aps_down") == len(truth.silent())


def clients(p: Panels, truth: FleetTruth) -> None:
    shown = p.one(NOC, "Clients", "clients") or 0
    assert within(shown, _clients_span(truth, truth.answering()))


def throughput(p: Panels, truth: FleetTruth) -> None:
    shown, expected = p.one(NOC, "Throughput", "bps"), _uplink_total_bps(truth, truth.answering())
    assert near(shown, expected, RATE_TOLERANCE), (shown, expected)


def throughput_per_gateway(p: Panels, truth: FleetTruth) -> None:
    """Each interval: the sum over the APs of their uplink's mean rate in that interval."""
    expected: dict[int, float] = {}
    for ap in truth.answering():
        for ifname in truth.uplinks(ap):
            for time_ns, pair in bucket_means(truth.poll_bps(ap, ifname), BUCKET_S).items():
                expected[time_ns] = expected.get(time_ns, 0.0) + sum(pair)
    rows = [r for r in p.rows(NOC, "Throughput per gateway") if r["gateway"] == _gateway(truth)]
    assert {r["time"] for r in rows} == set(expected)
    for row in rows:
        assert near(row["bps"], expected[row["time"]], RATE_TOLERANCE), (row, expected[row["time"]])


def stale_sensors(p: Panels, truth: FleetTruth) -> None:
    """Only the corrupted bus's sensors can be stale or down (the panel filters in Grafana)."""
    rows = p.rows(NOC, "Intersections with stale or failed sensors")
    listed = {r["device"] for r in rows if r["stale"] is True or r["up"] is False}
    assert {_sensors(truth)[name] for name in listed} <= {f"{c.name}-rs485" for c in truth.crossings}
    assert {r["device"] for r in rows} == set(_sensors(truth))


def active_alerts(p: Panels, truth: FleetTruth) -> None:
    rows = p.rows(NOC, "Active alerts")
    firing = {(r["alertname"], r["device"]) for r in rows if r["firing"] is True}
    frozen = {c.name for c in truth.cameras if "frozen" in c.faults}
    healthy = set(truth.answering()) | {c.name for c in truth.cameras} - frozen
    healthy |= {n for n, bus in _sensors(truth).items() if not bus.endswith("rs485")}
    assert not {device for _, device in firing} & healthy, firing
    assert {("CameraFrozen", name) for name in frozen} <= firing
    assert {("APDown", name) for name in truth.silent()} <= firing, firing  # silent is down, not late


def failed_polls(p: Panels, truth: FleetTruth) -> None:
    """Every poll of the silent AP fails; none of the others does."""
    rows = p.rows(NOC, "APs with the most failed polls (top 5)")
    assert {r["device"] for r in rows} == set(truth.silent())
    run = truth.run
    polls = (run.stopped_s - run.ready_s) / INTERVAL_S
    for row in rows:  # a timeout and the backoff after it can stretch a cycle
        assert polls / 3 <= row["failed_polls"] <= polls + 1, (row, polls)


def air_quality(p: Panels, truth: FleetTruth) -> None:
    span = truth.air_span("pm25_ugm3", truth.run.run_sim_seconds())
    for site, row in p.by("site", NOC, "Air quality: PM2.5, 24-hour mean").items():
        assert within(row["pm25"], span, 0.5), (site, row, span)  # registers hold whole µg/m³


def per_site(p: Panels, truth: FleetTruth) -> None:
    title = "Per site: devices up and down, clients, uplink traffic"
    up, down = p.by("site", NOC, title, "U"), p.by("site", NOC, title, "D")
    clients_by_site, uplink = p.by("site", NOC, title, "C"), p.by("site", NOC, title, "B")
    for ap in truth.aps:
        site, answering = truth.site(ap), ap not in truth.silent()
        assert (up.get(site, {}).get("up"), down.get(site, {}).get("down")) == (
            (1, None) if answering else (None, 1)
        ), site
        if answering and truth.summaries(ap, truth.last_poll_seconds(ap))[0].clients_per_radio:
            assert within(clients_by_site[site]["clients"], _clients_span(truth, [ap])), site
            expected = _uplink_total_bps(truth, [ap]) / 1e6
            assert near(uplink[site]["uplink_mbps"], expected, RATE_TOLERANCE), (site, expected)
    for crossing in truth.crossings:
        devices = len([n for n in _sensors(truth) if n.startswith(crossing.name)])
        devices += len([c for c in truth.cameras if c.site == crossing.site])
        counts = up.get(crossing.site, {}).get("up", 0), down.get(crossing.site, {}).get("down", 0)
        assert sum(counts) == devices, (crossing.site, counts)


def backhaul(p: Panels, truth: FleetTruth) -> None:
    """Uplink rate over its speed at the last poll, in and out; no row without a speed (UniFi)."""
    rows = p.by("device", NOC, "Backhaul utilisation per AP")
    with_speed = {ap for ap in truth.answering() if truth.uplink_speed_mbps(ap) is not None}
    assert set(rows) == with_speed, (set(rows), with_speed)
    for ap in with_speed:
        rates, speed_mbps = _last_uplink_bps(truth, ap), truth.uplink_speed_mbps(ap) or 0.0
        for direction, bps in zip(("in", "out"), rates, strict=True):
            shown, pct = rows[ap][f"{direction}_pct"], bps / (speed_mbps * 1e6) * 100
            assert near(shown, pct, RATE_TOLERANCE), (ap, direction, shown, pct)


def _availability_computed(truth: FleetTruth) -> datetime.datetime:
    """Run what `edge dashboards availability` runs, for the day the fleet ran (a run that crossed
    midnight: the day it ended, which the panels show as the last computed); that day's start."""
    zone = zoneinfo.ZoneInfo("Asia/Jakarta")
    day = datetime.datetime.fromtimestamp(truth.run.stopped_s, zone).date()
    influx = Influx(truth.run.influx_url, "edge")
    influx.write(compute_day(influx, day, zone))
    influx.write(compute_month(influx, day, zone))
    return datetime.datetime.combine(day, datetime.time(), zone)


def _seen_s(truth: FleetTruth, day_start: datetime.datetime) -> tuple[float, float]:
    """How long (s) of the day the gateway watched a device: from its first to its last poll and two
    intervals more, the run's span being uncertain by the agent's start (up to AGENT_START_S)."""
    start_s, run = day_start.timestamp(), truth.run
    longest = run.stopped_s + 2 * INTERVAL_S - max(run.ready_s, start_s)
    shortest = run.stopped_s - INTERVAL_S - max(run.ready_s + AGENT_START_S, start_s)
    return max(shortest, 0.0), longest


def availability_per_site(p: Panels, truth: FleetTruth) -> None:
    """A day of which the gateway watched only the run: an AP site is up (or, the silent AP's, down)
    for the run's share of the day and unknown for the rest; at the crossing, up and down together
    (its corrupted bus fails some polls) make that share for each of its devices."""
    day_start = _availability_computed(truth)
    low_s, high_s = _seen_s(truth, day_start)
    rows = p.by("site", NOC, "Availability per site (last day computed)")
    share = (100 * low_s / DAY_S - PCT_SLACK, 100 * high_s / DAY_S + PCT_SLACK)
    for ap in truth.aps:
        row = rows[truth.site(ap)]
        up, down = (
            (row["down_pct"], row["up_pct"]) if ap in truth.silent() else (row["up_pct"], row["down_pct"])
        )
        assert within(up, share) and down == 0, (ap, row, share)
        assert abs(row["up_pct"] + row["down_pct"] + row["unknown_pct"] - 100) < PCT_SLACK, row
    for crossing in truth.crossings:
        row = rows[crossing.site]
        assert within(row["up_pct"] + row["down_pct"], share), (row, share)


def city_availability(p: Panels, truth: FleetTruth) -> None:
    """The month to date is the days computed: this one (the store holds no other), so the city is
    up for the watched share of every device's day but the silent AP's and the crossing's failed polls."""
    day_start = _availability_computed(truth)
    low_s, high_s = _seen_s(truth, day_start)
    devices = len(truth.aps) + len(_sensors(truth)) + len(truth.cameras)
    always_up = len(truth.answering()) + len(truth.cameras)  # the crossing's sensors: up or down
    shown = p.one(NOC, "City availability, month to date", "up_pct")
    low = 100 * always_up * low_s / (devices * DAY_S) - PCT_SLACK
    high = 100 * (always_up + len(_sensors(truth))) * high_s / (devices * DAY_S) + PCT_SLACK
    assert low <= shown <= high, (shown, low, high)


def no_maintenance(p: Panels, truth: FleetTruth) -> None:
    assert p.rows(NOC, "In maintenance now") == []  # nothing was put in maintenance


CHECKS: dict[tuple[str, str], Check] = {
    (NOC, MAP): city_map,
    (NOC, "APs up"): aps_up,
    (NOC, "APs down"): aps_down,
    (NOC, "Clients"): clients,
    (NOC, "Throughput"): throughput,
    (NOC, "Throughput per gateway"): throughput_per_gateway,
    (NOC, "Intersections with stale or failed sensors"): stale_sensors,
    (NOC, "Active alerts"): active_alerts,
    (NOC, "APs with the most failed polls (top 5)"): failed_polls,
    (NOC, "Air quality: PM2.5, 24-hour mean"): air_quality,
    (NOC, "Per site: devices up and down, clients, uplink traffic"): per_site,
    (NOC, "Backhaul utilisation per AP"): backhaul,
    (NOC, "In maintenance now"): no_maintenance,
    (NOC, "Availability per site (last day computed)"): availability_per_site,
    (NOC, "City availability, month to date"): city_availability,
}
