"""Truth checks of the access point, intersections and fleet boards (the overview's are in
tests/integration/dashboard_truth.py): each AP of the fleet through the AP board, the crossing through
the intersections board, the gateway through the fleet board."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge_gateway_dev.sim.snmp.vendor_mikrotik import WL_AP_ENTRY, WL_RTAB_ENTRY
from edge_gateway_dev.sim.snmp.vendor_ubnt import UNIFI_RADIO_ENTRY, UNIFI_VAP_ENTRY
from tests.integration.fleet_truth import INTERVAL_S, FleetTruth, bucket_means, near, within
from tests.integration.helpers import influx_query
from tests.integration.panel_answers import Panels

Check = Callable[[Panels, FleetTruth], None]
Served = Callable[[FleetTruth, str], dict[str, list[float]]]
AP, CROSSING, FLEET = "edge-access-point", "edge-intersections", "edge-fleet"
RATE_TOLERANCE = 0.05  # rates: see tests/integration/dashboard_truth.py
BUCKET_S = 5
# The sim answers at once (no delay fault on the answering APs): a poll takes milliseconds, far under
# any deadline; the silent AP's polls end at their deadline.
ANSWERED_MS = 1000
# The agent averages an AP's cores (hrProcessorLoad), the sim's summary gives one figure for the AP.
CPU_SLACK = 1.0


def _each_ap(truth: FleetTruth) -> list[dict[str, str]]:
    return [{"gateway": str(truth.run.config["gateway"]["id"]), "device": ap} for ap in truth.aps]


def _each_answering(truth: FleetTruth) -> list[dict[str, str]]:
    return [v for v in _each_ap(truth) if v["device"] in truth.answering()]


# Access point board -----------------------------------------------------------------------------


def ap_status(p: Panels, truth: FleetTruth) -> None:
    for v in _each_ap(truth):
        assert p.one(AP, "Status", "up", **v) is (v["device"] not in truth.silent()), v


def ap_uptime(p: Panels, truth: FleetTruth) -> None:
    for v in _each_answering(truth):
        shown, served = (
            p.one(AP, "Uptime", "uptime", **v),
            truth.uptime_span(v["device"], truth.last_poll_seconds(v["device"])),
        )
        assert within(shown, served), (v, shown, served)


def ap_reboots(p: Panels, truth: FleetTruth) -> None:
    for v in _each_ap(truth):  # no AP rebooted during the run
        assert p.one(AP, "Reboots", "reboots", **v) in (None, 0), v


def ap_clients(p: Panels, truth: FleetTruth) -> None:
    for v in _each_answering(truth):
        shown, ap = p.one(AP, "Clients", "clients", **v), v["device"]
        seconds = truth.last_poll_seconds(ap)
        if truth.summaries(ap, seconds)[0].clients_per_radio:  # the AP serves a client table
            served = truth.span(ap, seconds, "clients")
            assert within(shown, served), (v, shown, served)
        else:  # no client table on this AP: unknown, not 0
            assert shown is None, v


def ap_hotspot_users(p: Panels, truth: FleetTruth) -> None:
    for v in _each_answering(truth):
        shown, seconds = (
            p.one(AP, "Hotspot users", "hotspot_users", **v),
            truth.last_poll_seconds(v["device"]),
        )
        served = [s.hotspot_users for s in truth.summaries(v["device"], seconds)]
        users = [n for n in served if n is not None]
        if len(users) < len(served):
            assert shown is None, v
        else:
            assert within(shown, (min(users), max(users))), (v, shown, users)


def ap_latency(p: Panels, truth: FleetTruth) -> None:
    for v in _each_ap(truth):
        latency_ms = p.one(AP, "Poll latency", "latency", **v)
        answering = v["device"] not in truth.silent()
        assert (0 < latency_ms < ANSWERED_MS) if answering else latency_ms >= ANSWERED_MS, (v, latency_ms)


def ap_clients_per_radio(p: Panels, truth: FleetTruth) -> None:
    """Each radio within its span over the run; UniFi's board radios (`ng`, `na`) gather the sim's
    VAPs (`ath0`...), so there the radios of one time add up to the AP's clients."""
    seconds = truth.run.run_sim_seconds()
    for v in _each_answering(truth):
        summaries = truth.summaries(v["device"], seconds)
        rows = p.rows(AP, "Clients per radio", **v)
        if set(summaries[-1].clients_per_radio) == {r["radio"] for r in rows}:
            for row in rows:
                served = [s.clients_per_radio[row["radio"]] for s in summaries]
                assert within(row["clients"], (min(served), max(served))), (v, row, served)
        else:
            totals: dict[int, float] = {}
            for row in rows:
                totals[row["time"]] = totals.get(row["time"], 0) + row["clients"]
            served = [s.clients for s in summaries]
            assert totals and all(within(x, (min(served), max(served))) for x in totals.values()), v


def ap_throughput_per_interface(p: Panels, truth: FleetTruth) -> None:
    """Each interface's mean in and out rate per interval, as the sim's octets give them."""
    for v in _each_answering(truth):
        rows = p.rows(AP, "Throughput per interface", **v)
        for ifname in {r["ifname"] for r in rows}:
            expected = bucket_means(truth.poll_bps(v["device"], ifname), BUCKET_S)
            shown = {
                r["time"]: (r["in"], r["out"]) for r in rows if r["ifname"] == ifname and r["in"] is not None
            }
            assert set(shown) == set(expected), (v, ifname)
            for time_ns, pair in shown.items():
                for x, bps in zip(pair, expected[time_ns], strict=True):
                    assert near(x, bps, RATE_TOLERANCE), (v, ifname, time_ns, pair, expected[time_ns])


def ap_backhaul(p: Panels, truth: FleetTruth) -> None:
    """Each interval's mean uplink rate over its speed; nothing for an AP without a speed (UniFi)."""
    for v in _each_answering(truth):
        speed_mbps = truth.uplink_speed_mbps(v["device"])
        rows = {
            r["time"]: (r["in_pct"], r["out_pct"])
            for r in p.rows(AP, "Backhaul utilisation", **v)
            if r["in_pct"] is not None or speed_mbps is None  # the first poll has a speed, no rate
        }
        if speed_mbps is None:
            assert all(pair == (None, None) for pair in rows.values()), (v, rows)
            continue
        (ifname,) = truth.uplinks(v["device"])
        expected = bucket_means(truth.poll_bps(v["device"], ifname), BUCKET_S)
        assert set(rows) == set(expected), v
        for time_ns, pair in rows.items():
            for pct, bps in zip(pair, expected[time_ns], strict=True):
                assert near(pct, bps / speed_mbps / 1e4, RATE_TOLERANCE), (
                    v,
                    time_ns,
                    pair,
                    expected[time_ns],
                )


def _summary_series(title: str, column: str, attribute: str, slack: float) -> Check:
    """A series of a summary quantity: every point (a mean) within its span over the run; none where
    the AP serves no such quantity (UniFi's CPU)."""

    def check(p: Panels, truth: FleetTruth) -> None:
        for v in _each_answering(truth):
            points = p.points(column, AP, title, **v).get("", [])
            served = [
                getattr(s, attribute) for s in truth.summaries(v["device"], truth.run.run_sim_seconds())
            ]
            if None in served:
                assert not points, v
            else:
                assert points and all(within(x, (min(served), max(served)), slack) for x in points), v

    return check


def ap_memory(p: Panels, truth: FleetTruth) -> None:
    """Every point (a mean) within the span of RAM in use over the run."""
    seconds = truth.run.run_sim_seconds()
    for v in _each_answering(truth):
        served = [truth.memory_used_pct(v["device"], s) for s in seconds]
        points = p.points("mem_used_pct", AP, "Memory used", **v)[""]
        assert all(within(x, (min(served), max(served)), 0.01) for x in points), (v, points)


def ap_uptime_series(p: Panels, truth: FleetTruth) -> None:
    seconds = truth.run.run_sim_seconds()
    for v in _each_answering(truth):
        points = p.points("uptime_s", AP, "Uptime (timeseries)", **v)[""]
        assert all(within(x, truth.uptime_span(v["device"], seconds)) for x in points), v


# Intersections board ----------------------------------------------------------------------------


def _crossing(truth: FleetTruth) -> dict[str, str]:
    return {"gateway": str(truth.run.config["gateway"]["id"]), "site": truth.crossings[0].site}


def _daily(title: str, column: str, quantity: str, slack: float, scale: float = 1.0) -> Check:
    """Every point of a board showing a DailyModel quantity, within its span over the run (`slack`:
    the register's resolution, `scale`: the quantity's unit over the board's)."""

    def check(p: Panels, truth: FleetTruth) -> None:
        span = truth.air_span(quantity, truth.run.run_sim_seconds())
        points = [x for xs in p.points(column, CROSSING, title, **_crossing(truth)).values() for x in xs]
        assert points, title
        for x in points:
            assert within(x * scale, span, slack), (title, x, span)

    return check


def cameras_table(p: Panels, truth: FleetTruth) -> None:
    rows = p.by("device", CROSSING, "Cameras: stream, fps, clock drift", **_crossing(truth))
    assert {name: row["up"] for name, row in rows.items()} == {c.name: True for c in truth.cameras}


def cameras_frozen(p: Panels, truth: FleetTruth) -> None:
    frozen = [c for c in truth.cameras if "frozen" in c.faults]
    assert p.one(CROSSING, "Cameras with a frozen picture", "frozen", **_crossing(truth)) == len(frozen)


# Fleet board: the run had no backhaul fault, so nothing waited, was lost, repeated or refused ----


def _fleet(title: str, column: str, expected: Callable[[float], bool]) -> Check:
    def check(p: Panels, truth: FleetTruth) -> None:
        gateway = str(truth.run.config["gateway"]["id"])
        points = [x for xs in p.points(column, FLEET, title, gateway=gateway).values() for x in xs]
        assert points and all(expected(x) for x in points), (title, points)

    return check


def ingest_lag(p: Panels, truth: FleetTruth) -> None:
    """Loopback, no outage: every reading is stored within a few poll intervals of being taken (a
    batch waits for its cycle; an outage would be minutes)."""
    _fleet("Ingest lag", "max", lambda lag_s: 0 <= lag_s < 3 * INTERVAL_S)(p, truth)


def points_stored(p: Panels, truth: FleetTruth) -> None:
    """The intervals' counts add up to what the bridge stored after its first interval, and all it
    stored is at least the rows the store holds of the polls (one `device_status` row per device
    poll, one `ap` row per AP poll)."""
    gateway = str(truth.run.config["gateway"]["id"])
    points = p.points("non_negative_difference", FLEET, "Points stored", gateway=gateway)
    shown = sum(x for xs in points.values() for x in xs)
    held = 0
    for query in ('SELECT count("up") FROM "device_status"', 'SELECT count("uptime_s") FROM "ap"'):
        held += sum(int(one["values"][0][1]) for one in influx_query(truth.run.influx_url, "edge", query))
    query = (
        f'SELECT last("points") FROM "ingest" WHERE time > now() - 1h GROUP BY time({BUCKET_S}s) fill(none)'
    )
    counts = [row[1] for row in influx_query(truth.run.influx_url, "edge", query)[0]["values"]]
    first, last = counts[0], counts[-1]
    assert shown == last - first and last >= held, (shown, first, last, held)


def gateways_now(p: Panels, truth: FleetTruth) -> None:
    (row,) = p.rows(FLEET, "Gateways now", gateway=str(truth.run.config["gateway"]["id"]))
    assert (row["uplink"], row["buffered"], row["dropped"]) == (True, 0, 0), row


CHECKS: dict[tuple[str, str], Check] = {
    (AP, "Status"): ap_status,
    (AP, "Uptime"): ap_uptime,
    (AP, "Uptime (timeseries)"): ap_uptime_series,
    (AP, "Reboots"): ap_reboots,
    (AP, "Clients"): ap_clients,
    (AP, "Hotspot users"): ap_hotspot_users,
    (AP, "Poll latency"): ap_latency,
    (AP, "Clients per radio"): ap_clients_per_radio,
    (AP, "Throughput per interface"): ap_throughput_per_interface,
    (AP, "Backhaul utilisation"): ap_backhaul,
    (AP, "CPU"): _summary_series("CPU", "cpu_pct", "cpu_pct", CPU_SLACK),
    (AP, "Memory used"): ap_memory,
    (AP, "Temperature"): _summary_series("Temperature", "temp_c", "temp_c", 0.05),
    (CROSSING, "PM2.5, 24-h mean"): _daily("PM2.5, 24-h mean", "pm25", "pm25_ugm3", 0.5),
    (CROSSING, "PM2.5 against the ISPU bands"): _daily(
        "PM2.5 against the ISPU bands", "pm25", "pm25_ugm3", 0.5
    ),
    (CROSSING, "PM10, 24-h mean"): _daily("PM10, 24-h mean", "pm10", "pm10_ugm3", 0.5),
    (CROSSING, "PM10 against the ISPU bands"): _daily(
        "PM10 against the ISPU bands", "pm10", "pm10_ugm3", 0.5
    ),
    (CROSSING, "Noise (LAeq) against the legal limits"): _daily(
        "Noise (LAeq) against the legal limits", "laeq_db", "noise_db", 0.05
    ),
    (CROSSING, "Temperature"): _daily("Temperature", "temp_c", "temperature_c", 0.05),
    (CROSSING, "Humidity"): _daily("Humidity", "rh_pct", "humidity_pct", 0.05),
    (CROSSING, "Cameras: stream, fps, clock drift"): cameras_table,
    (CROSSING, "Cameras with a frozen picture"): cameras_frozen,
    (FLEET, "Gateways now"): gateways_now,
    (FLEET, "Buffer depth"): _fleet("Buffer depth", "max", lambda x: x == 0),
    (FLEET, "Oldest buffered reading"): _fleet("Oldest buffered reading", "max", lambda x: x == 0),
    (FLEET, "Dropped readings"): _fleet("Dropped readings", "non_negative_difference", lambda x: x == 0),
    (FLEET, "Uplink"): _fleet("Uplink", "last", lambda x: x == 1),
    (FLEET, "Sequence gaps"): _fleet("Sequence gaps", "last", lambda x: x == 0),
    (FLEET, "Duplicates"): _fleet("Duplicates", "non_negative_difference", lambda x: x == 0),
    (FLEET, "Ingest lag"): ingest_lag,
    (FLEET, "Points stored"): points_stored,
    (FLEET, "Dead letters"): _fleet("Dead letters", "non_negative_difference", lambda x: x == 0),
}


# Radio and station quantities the sim serves in vendor tables: MikroTik's mtxrWlApTable (noise floor,
# CCQ per physical wlan; a virtual AP serves 0, which means "none") and registration table (signal,
# SNR per station), UniFi's unifiRadioTable (channel use per radio) and unifiVapTable (CCQ per VAP, in
# tenths; 0 without a station). Other vendors of the fleet serve none of them.


def _radio_series(title: str, column: str, served: Served, every_radio: bool = False) -> Check:
    """Each radio's points within the span of what the sim served for it over the run; no series for
    a radio (or an AP) that served none. A quantity served only with stations (CCQ, UniFi's) may be
    served at seconds no poll read, so a series is required only where `every_radio` (noise floor)."""

    def check(p: Panels, truth: FleetTruth) -> None:
        for v in _each_answering(truth):
            shown = p.points(column, AP, title, **v)
            expected = {radio: values for radio, values in served(truth, v["device"]).items() if values}
            assert set(shown) <= set(expected), (v, title, set(shown), set(expected))
            assert set(shown) == set(expected) or not every_radio, (v, title, set(shown), set(expected))
            for radio, points in shown.items():
                span = (min(expected[radio]), max(expected[radio]))
                assert all(within(x, span, 0.05) for x in points), (v, radio, points, span)

    return check


def _mikrotik_wlans(truth: FleetTruth, ap: str, column: int) -> dict[str, list[float]]:
    if truth.aps[ap].spec.vendor != "mikrotik":
        return {}
    profile: Any = truth.aps[ap].profile
    served = truth.served(ap, (*WL_AP_ENTRY, column), truth.run.run_sim_seconds())
    return {w.name: [x for x in served[str(w.index)] if x != 0] for w in profile.wlans}


def _unifi_util(truth: FleetTruth, ap: str) -> dict[str, list[float]]:
    if truth.aps[ap].spec.vendor != "unifi":
        return {}
    seconds = truth.run.run_sim_seconds()
    names = {index: bytes(name).decode() for index, name in _first(truth, ap, (*UNIFI_RADIO_ENTRY, 3))}
    served = truth.served(ap, (*UNIFI_RADIO_ENTRY, 6), seconds)
    return {names[index]: [float(x) for x in values] for index, values in served.items()}


def _first(truth: FleetTruth, ap: str, column: tuple[int, ...]) -> list[tuple[str, Any]]:
    prefix = ".".join(str(n) for n in column) + "."
    values = truth.at(ap, truth.run.run_sim_seconds()[0]).values
    return [(oid.removeprefix(prefix), value) for oid, (_, value) in values.items() if oid.startswith(prefix)]


def _ccq(truth: FleetTruth, ap: str) -> dict[str, list[float]]:
    """MikroTik: per wlan; UniFi: a radio's CCQ lies within its VAPs' (tenths of %, 0 = none)."""
    if truth.aps[ap].spec.vendor != "unifi":
        return _mikrotik_wlans(truth, ap, 10)
    profile: Any = truth.aps[ap].profile
    served = truth.served(ap, (*UNIFI_VAP_ENTRY, 3), truth.run.run_sim_seconds())
    out: dict[str, list[float]] = {}
    for index, radio, _, _ in profile.vaps:
        out.setdefault(radio, []).extend(x / 10 for x in served[str(index)] if x != 0)
    return out


def _stations(title: str, column: str, rtab_column: int) -> Check:
    """Every station value shown is one the AP served during the run (MikroTik's registration table);
    an AP with stations shows some."""

    def check(p: Panels, truth: FleetTruth) -> None:
        for v in _each_answering(truth):
            if truth.aps[v["device"]].spec.vendor != "mikrotik":
                continue
            served = truth.served(v["device"], (*WL_RTAB_ENTRY, rtab_column), truth.run.run_sim_seconds())
            values = {x for xs in served.values() for x in xs}
            shown = {r[column] for r in p.rows(AP, title, **v)}
            assert shown <= values and bool(shown) == bool(values), (v, shown - values)

    return check


CHECKS |= {
    (AP, "Noise floor"): _radio_series(
        "Noise floor", "noise_dbm", lambda t, ap: _mikrotik_wlans(t, ap, 9), every_radio=True
    ),
    (AP, "CCQ"): _radio_series("CCQ", "ccq_pct", _ccq),
    (AP, "Channel utilisation"): _radio_series("Channel utilisation", "util_pct", _unifi_util),
    (AP, "Client signal"): _stations("Client signal", "signal_dbm", 3),
    (AP, "Client SNR"): _stations("Client SNR", "snr_db", 12),
}

# Panels whose figures this test cannot yet compute from the sim: each lane's counters are the vehicles
# the sim replayed since its start (edge_gateway_dev.sim.serial.daily.LaneTraffic), and which lane of the
# board is which radar or loop channel is the agent's mapping. They are checked for values by
# test_every_panel_answers_from_the_fleet and for the primary-sensor filter by tests/dashboards.
WITHOUT_TRUTH = {
    (CROSSING, "Vehicle volume per lane"): "lane counters: not replayed by the test",
    (CROSSING, "Speed per lane"): "lane counters: not replayed by the test",
    (CROSSING, "Occupancy per lane"): "lane counters: not replayed by the test",
}
