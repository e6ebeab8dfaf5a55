"""The NOC's city throughput counts the UniFi APs, at the rate the simulator served them (issue 16).

A UniFi AP has no IF-MIB; its uplink traffic is its VAPs' (docs/snmp.md). Before, the board showed
only the IF-MIB uplinks (10.1 Mbps against about 22.5 Mbps of real uplink traffic). This runs `edge
sim fleet` (a UniFi AP and a MikroTik), the agent and the bridge into a real InfluxDB, waits until
every AP was polled seven times, and asks the NOC overview's "Throughput" (now) and "Throughput per
gateway" (over the run) as Grafana would. The truth is taken from the simulator rebuilt in the test:
the wired uplink's octet counters, and for the UniFi AP each VAP's own receive and transmit counters.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from edge_gateway.noc.build import all_dashboards
from edge_gateway_dev import servers
from edge_gateway_dev.sim.clock import format_instant
from edge_gateway_dev.sim.snmp import make_fleet_specs
from edge_gateway_dev.sim.snmp.model import ApModel
from tests.integration.helpers import influx_query

pytestmark = pytest.mark.integration

APS, SEED, INTERVAL_S = 2, 1, 2  # a UniFi AP and a MikroTik, with seed 1
# The wired port each simulated vendor serves in IF-MIB (its profile tags it role = uplink).
WIRED_UPLINK = {"mikrotik": "WAN", "airmax": "eth0", "generic": "eth0"}
VAP = "1.3.6.1.4.1.41112.1.6.1.2.1"
VAP_RX, VAP_TX = f"{VAP}.10", f"{VAP}.16"  # unifiVapRxBytes, unifiVapTxBytes: Counter32 per VAP
WRAP32 = 2**32
TRUTH_OVER_S = 10  # the traffic curve is flat within a minute; 10 s of counters give its rate
RATE_TOLERANCE = 0.10
# Rates over several polls: their mean telescopes to the counters' growth over the whole span, so a
# single interval's 1-3 simulator steps weigh at most one step in 2 x RATE_POINTS seconds.
RATE_POINTS = 6
RATES_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Run:
    influx_url: str
    sim_start_s: float
    launched_s: float  # the fleet's clock started after this (wall)
    stopped_s: float  # the agent stopped (wall)

    def last_sim_s(self) -> float:
        """About the simulated second of the agent's last polls."""
        return self.sim_start_s + self.stopped_s - self.launched_s - INTERVAL_S


def _uplink_rates(influx_url: str) -> list[dict[str, Any]]:
    query = (
        'SELECT last("in_bps") AS in_bps, last("out_bps") AS out_bps FROM "ap_iface" '
        'WHERE "role" = \'uplink\' GROUP BY "device", "ifname"'
    )
    return [
        {**s["tags"], "in_bps": s["values"][0][1], "out_bps": s["values"][0][2]}
        for s in influx_query(influx_url, "edge", query)
    ]


def _polled_enough(influx_url: str) -> bool:
    """Every AP polled more than RATE_POINTS times, and every uplink series holding RATE_POINTS rates."""
    polls = influx_query(influx_url, "edge", 'SELECT count("up") FROM "ap" GROUP BY "device"')
    rates = influx_query(
        influx_url, "edge", 'SELECT count("in_bps") FROM "ap_iface" WHERE "role" = \'uplink\' GROUP BY *'
    )
    counts = [s["values"][0][1] for s in polls] + [s["values"][0][1] + 1 for s in rates]
    return len(polls) == APS and min(counts) > RATE_POINTS


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, sim_start_s: float) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("unifi-fleet")
    with servers.mosquitto(work / "m") as mqtt, servers.influxdb(work / "i") as influx:
        config = work / "edge.toml"
        options = ["--aps", str(APS), "--intersections", "0", "--cameras", "0"]
        options += ["--interval-s", str(INTERVAL_S), "--clock", format_instant(sim_start_s)]
        options += ["--port-dir", str(work / "ports"), "--broker-url", mqtt.url]
        launched_s = time.time()
        with servers.fleet_process(config, options, work / "fleet.log"):
            bridge = work / "bridge.toml"
            bridge.write_text(
                f'[mqtt]\nurl = "{mqtt.url}"\n[influxdb]\nurl = "{influx.url}"\ndatabase = "edge"\n'
                f'[bridge]\ndead_letter_path = "{work}/dead.jsonl"\nlisten_port = 0\n'
            )
            with (
                servers.edge_process(["bridge", "-c", str(bridge)], work / "bridge.log"),
                servers.edge_process(["agent", "-c", str(config)], work / "agent.log"),
            ):
                deadline = time.monotonic() + RATES_TIMEOUT_S
                while not _polled_enough(influx.url):
                    assert time.monotonic() < deadline, f"the agent did not poll every AP enough: {work}"
                    time.sleep(0.5)
            stopped_s = time.time()
        yield Run(influx.url, sim_start_s, launched_s, stopped_s)


def _counter(served: tuple[str, object]) -> int:
    kind, value = served
    assert kind == "Counter32" and isinstance(value, int), served
    return value


def _served_bps(model: ApModel, end_s: float) -> tuple[float, float]:
    """The uplink's (in, out) bit/s the simulator served over TRUTH_OVER_S up to `end_s`, computed
    from the MIB it served: a wired port's octets, or the sum of each VAP's own counter deltas."""
    first, last = model.truth(end_s - TRUTH_OVER_S), model.truth(end_s)
    if model.spec.vendor in WIRED_UPLINK:
        port = WIRED_UPLINK[model.spec.vendor]
        (in_0, out_0), (in_1, out_1) = first.summary.iface_octets[port], last.summary.iface_octets[port]
        return (in_1 - in_0) * 8 / TRUTH_OVER_S, (out_1 - out_0) * 8 / TRUTH_OVER_S

    def grown(column: str) -> int:
        rows = [oid for oid in last.values if oid.startswith(column + ".")]
        assert rows, f"{model.spec.name} serves no {column}"
        return sum((_counter(last.values[o]) - _counter(first.values[o])) % WRAP32 for o in rows)

    # What the VAPs sent their clients came in on the uplink; what they received went out on it.
    return grown(VAP_TX) * 8 / TRUTH_OVER_S, grown(VAP_RX) * 8 / TRUTH_OVER_S


def _noc_query(title: str) -> str:
    noc = next(d.to_json() for d in all_dashboards() if d.uid == "edge-noc")
    panel = next(p for p in noc["panels"] if p["title"] == title)
    return str(panel["targets"][0]["query"])


def _over_the_run(query: str, run: Run) -> str:
    """A time series panel's query with the whole run as its range and as its one interval."""
    start_ns, end_ns = int(run.launched_s * 1e9), int(run.stopped_s * 1e9) + 1
    one_bucket = f"time(1h, {int(run.launched_s) % 3600}s)"  # the run starts the bucket
    text = query.replace("$timeFilter", f"time >= {start_ns} AND time <= {end_ns}")
    return text.replace("time($__interval)", one_bucket)


def _near(value: float, expected: float) -> bool:
    return abs(value - expected) <= RATE_TOLERANCE * abs(expected)


def test_the_city_throughput_counts_unifi_aps_at_their_served_rate(run: Run) -> None:
    models = {spec.name: ApModel(spec, lambda: run.sim_start_s) for spec in make_fleet_specs(APS, SEED)}
    served = {name: _served_bps(model, run.last_sim_s()) for name, model in models.items()}
    unifi = [name for name, model in models.items() if model.spec.vendor == "unifi"]
    expected = sum(sum(rates) for rates in served.values())
    unifi_bps = sum(sum(served[name]) for name in unifi)
    assert unifi_bps > 2 * RATE_TOLERANCE * expected, "leaving the UniFi APs out must show"

    # "Throughput" (now): every AP's last uplink rates, the UniFi AP's one row per VAP among them.
    rows = _uplink_rates(run.influx_url)
    for name in unifi:
        assert sorted(r["ifname"] for r in rows if r["device"] == name) == [
            "na/ath2",
            "na/ath3",
            "ng/ath0",
            "ng/ath1",
        ]
    (now,) = influx_query(run.influx_url, "edge", _noc_query("Throughput"))
    shown_now = now["values"][0][1]
    assert shown_now == pytest.approx(sum(r["in_bps"] + r["out_bps"] for r in rows))

    # "Throughput per gateway" over the run: the city's uplink traffic as the simulator served it,
    # each direction of the UniFi AP apart too. A mean over the run, not one 2 s interval, which may
    # hold 1 to 3 of the simulator's one-second counter steps.
    (series,) = influx_query(run.influx_url, "edge", _over_the_run(_noc_query("Throughput per gateway"), run))
    (city_bps,) = [value for _, value in series["values"]]
    assert _near(city_bps, expected), (city_bps, expected, served)
    means = (
        'SELECT mean("in_bps") AS in_bps, mean("out_bps") AS out_bps FROM "ap_iface" '
        'WHERE "role" = \'uplink\' AND $timeFilter GROUP BY time($__interval), "device", "ifname"'
    )
    for name in unifi:
        vaps = [
            s["values"][0]
            for s in influx_query(run.influx_url, "edge", _over_the_run(means, run))
            if s["tags"]["device"] == name
        ]
        shown = (sum(v[1] for v in vaps), sum(v[2] for v in vaps))
        assert _near(shown[0], served[name][0]) and _near(shown[1], served[name][1]), (shown, served[name])


def test_backhaul_utilisation_leaves_out_the_unifi_vaps(run: Run) -> None:
    """Utilisation is rate over speed: the UniFi AP's VAP rows have no speed, so no row (not an empty one)."""
    shown = influx_query(run.influx_url, "edge", _noc_query("Backhaul utilisation per AP"))
    specs = make_fleet_specs(APS, SEED)
    assert {s["tags"]["device"] for s in shown} == {s.name for s in specs if s.vendor != "unifi"}
    assert all(v is not None for s in shown for v in s["values"][0][1:]), shown
