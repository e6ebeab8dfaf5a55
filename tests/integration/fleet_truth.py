"""What the simulated fleet of the dashboards test served, computed again in the test process.

The simulators are pure functions of (seed, clock) (edge_gateway_dev.sim.snmp.dynamics,
edge_gateway_dev.sim.serial.daily): the same specs built here from the seed and faults `edge sim
fleet` was given answer, for any simulated second, what the field served then. Only the mapping from
wall time (InfluxDB's timestamps) to simulated time is uncertain: the fleet process starts its clock
at `sim_start_s` somewhere between our launching it and its writing the agent config, so every truth is
taken over that bracket (a second of margin either side) and a panel's value must lie within it.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_gateway_dev.sim.camera.fleet import make_camera_specs
from edge_gateway_dev.sim.fleet import apply_faults
from edge_gateway_dev.sim.serial import make_intersection_specs
from edge_gateway_dev.sim.serial.daily import DailyModel
from edge_gateway_dev.sim.snmp import make_fleet_specs
from edge_gateway_dev.sim.snmp.mib_common import HR
from edge_gateway_dev.sim.snmp.model import ApModel, ApTruth
from edge_gateway_dev.sim.snmp.profile_base import ApSummary
from edge_gateway_dev.sim.snmp.vendor_ubnt import FROGFOOT_RES, UNIFI_VAP_ENTRY
from tests.integration.helpers import influx_query

SEED = 1  # `edge sim fleet`'s default
APS, INTERSECTIONS, CAMERAS, INTERVAL_S = 8, 1, 2, 2
FAULTS = "ap-002:no_reply;cbn-int-01:rs485.corrupt=0.3;cbn-int-01-cam-2:frozen"
# The sim's wired backhaul port per vendor (what the vendor profile should tag `role = uplink`). A UniFi
# AP serves no IF-MIB: all it bridges to its wired port is its VAPs' bytes (unifiVapTable).
UPLINK_IFACE = {"mikrotik": "WAN", "generic": "eth0", "airmax": "eth0"}
VAP_TX, VAP_RX = 16, 10  # unifiVapTable columns: what the AP sent its stations is what it took in
WRAP32 = 2**32
MARGIN_S = 1.0
READ_AFTER_UPTIME_S = (-1, 0, 1, 2)  # the seconds a poll's counters can be read at, from its uptime's
POLL_READS_S = 3  # a poll's last read (its client tables), from its start (its readings' time), at most


@dataclass(frozen=True)
class FleetRun:
    """One run of the fleet: where its data is and when (wall clock) it ran."""

    influx_url: str
    config_path: Path
    sim_start_s: float
    launched_s: float  # before `edge sim fleet` started: its clock started after this...
    ready_s: float  # ...and before it wrote the agent config
    stopped_s: float  # the agent stopped

    @property
    def config(self) -> dict[str, Any]:
        return tomllib.loads(self.config_path.read_text())

    def sim_seconds(self, wall_s: float) -> range:
        """The simulated seconds that wall instant can have been."""
        low = self.sim_start_s + wall_s - self.ready_s - MARGIN_S
        high = self.sim_start_s + wall_s - self.launched_s + MARGIN_S
        return range(math.floor(low), math.floor(high) + 1)

    def run_sim_seconds(self) -> range:
        """Every simulated second the agent may have polled."""
        return range(self.sim_seconds(self.ready_s)[0], self.sim_seconds(self.stopped_s)[-1] + 1)


class FleetTruth:
    """The fleet's specs and models, rebuilt from the seed and faults the run used."""

    def __init__(self, run: FleetRun) -> None:
        self.run = run
        ap_specs = make_fleet_specs(APS, SEED)
        self.crossings = make_intersection_specs(INTERSECTIONS, SEED)
        self.cameras = make_camera_specs(CAMERAS, self.crossings, SEED)
        apply_faults(FAULTS, ap_specs, self.crossings, tuple(self.cameras))
        start_s = run.sim_start_s
        self.aps = {spec.name: ApModel(spec, lambda: start_s) for spec in ap_specs}
        self.daily = {c.name: DailyModel(c.seed) for c in self.crossings}
        self._served: dict[tuple[str, int], ApTruth] = {}
        self._last_poll: dict[str, range] = {}

    def at(self, ap: str, second: int) -> ApTruth:
        """What the AP served at that second (kept: the checks ask for the same seconds again)."""
        key = (ap, second)
        if key not in self._served:
            self._served[key] = self.aps[ap].truth(second)
        return self._served[key]

    def answering(self) -> list[str]:
        return [name for name, model in self.aps.items() if not model.spec.faults.no_reply]

    def silent(self) -> list[str]:
        return [name for name, model in self.aps.items() if model.spec.faults.no_reply]

    def summaries(self, ap: str, seconds: range) -> list[ApSummary]:
        return [self.at(ap, s).summary for s in seconds]

    def span(self, ap: str, seconds: range, what: str) -> tuple[float, float]:
        """Min and max over `seconds` of a summary attribute (`clients`, `cpu_pct`, ...)."""
        values = [getattr(s, what) for s in self.summaries(ap, seconds)]
        return min(values), max(values)

    def last_poll_seconds(self, ap: str) -> range:
        """The simulated seconds the AP's last answered poll in InfluxDB can have read at: from its
        readings' time (the poll's start) to POLL_READS_S after. Taken from the stored poll, not from
        when the agent stopped: on a loaded machine a cycle stretches, and the last poll stored can be
        several seconds older than the stop."""
        if ap not in self._last_poll:  # the run is over: every check asks the same answer
            query = f'SELECT last("up") FROM "ap" WHERE "device" = \'{ap}\' AND "up" = true'
            (series,) = influx_query(self.run.influx_url, "edge", query)
            start_s = series["values"][0][0] / 1e9
            run = self.run
            seconds = range(run.sim_seconds(start_s)[0], run.sim_seconds(start_s + POLL_READS_S)[-1] + 1)
            self._last_poll[ap] = seconds
        return self._last_poll[ap]

    def uptime_span(self, ap: str, seconds: range) -> tuple[int, int]:
        model = self.aps[ap]
        return model.engine_time_s(seconds[0]), model.engine_time_s(seconds[-1])

    def polls(self, ap: str) -> list[tuple[int, int]]:
        """(time ns, simulated second) of each poll of `ap`, from the uptime the AP reported."""
        query = f'SELECT "uptime_s" FROM "ap" WHERE "device" = \'{ap}\''
        boot_s = self.aps[ap].boot_s
        return [
            (t, boot_s + int(u))
            for one in influx_query(self.run.influx_url, "edge", query)
            for t, u in one["values"]
            if u is not None
        ]

    def poll_bps(self, ap: str, ifname: str) -> dict[int, tuple[float, float]]:
        """In and out bit/s of an interface at each poll after the first (time ns -> rates): the
        octets the sim served between the seconds two polls read, over the time between the polls.

        The sim's counters step once a second, so a rate over a 2 s poll interval holds 1 to 3 steps:
        its truth needs the second each poll read the counters at. The AP's uptime says it to within
        one before and two after (a poll reads the uptime first and the counters after the radio
        tables, so on a loaded machine a second or two later), so each poll's second is the one of
        these, chained from poll to poll, that best explains the rates the agent stored; any other
        value than such a difference of served counters fails the checks. The in and out columns
        are walked by separate requests, so a poll can read them in different seconds: each
        direction has its own chain."""
        polls = self.polls(ap)
        where = f"\"device\" = '{ap}' AND \"ifname\" = '{ifname}'"
        query = f'SELECT "in_bps", "out_bps" FROM "ap_iface" WHERE {where}'
        stored = {
            t: (i, o) for one in influx_query(self.run.influx_url, "edge", query) for t, i, o in one["values"]
        }
        ins, outs = (self._read_seconds(ap, ifname, polls, stored, direction) for direction in (0, 1))
        rates = {}
        for k, ((t1, _), (t2, _)) in enumerate(itertools.pairwise(polls)):
            over_s = (t2 - t1) / 1e9
            rates[t2] = (
                self._bps(ap, ifname, 0, ins[k], ins[k + 1], over_s),
                self._bps(ap, ifname, 1, outs[k], outs[k + 1], over_s),
            )
        return rates

    def _read_seconds(
        self,
        ap: str,
        ifname: str,
        polls: list[tuple[int, int]],
        stored: dict[int, tuple[float | None, float | None]],
        direction: int,
    ) -> list[int]:
        """The second each poll read one direction's counter at: the chain that best explains the
        rates stored for it (the sum of the misses is least)."""
        # cost[s] of the best chain of seconds ending with `s` for the current poll, and its seconds
        chains: dict[int, tuple[float, list[int]]] = {
            polls[0][1] + d: (0.0, [polls[0][1] + d]) for d in READ_AFTER_UPTIME_S
        }
        for (t1, _), (t2, u2) in itertools.pairwise(polls):
            over_s, step = (t2 - t1) / 1e9, {}
            shown = stored.get(t2, (None, None))[direction]
            for s2 in (u2 + d for d in READ_AFTER_UPTIME_S):
                options = []
                for s1, (cost, seconds) in chains.items():
                    bps = self._bps(ap, ifname, direction, s1, s2, over_s)
                    miss = abs(bps - shown) if shown is not None else 0.0
                    options.append((cost + miss, [*seconds, s2]))
                step[s2] = min(options, key=lambda option: option[0])
            chains = step
        return min(chains.values(), key=lambda chain: chain[0])[1]

    def _bps(self, ap: str, ifname: str, direction: int, s1: int, s2: int, over_s: float) -> float:
        """Bit/s one direction (0 in, 1 out) counted between the counters served at s1 and s2."""
        first, last = self.octets(ap, ifname, s1)[direction], self.octets(ap, ifname, s2)[direction]
        return (last - first) % WRAP32 * 8 / over_s

    def octets(self, ap: str, ifname: str, second: int) -> tuple[int, int]:
        """(in, out) octets of an interface (or UniFi VAP, `ng/ath0`) at a simulated second, mod 2**32."""
        truth = self.at(ap, second)
        if ifname in truth.summary.iface_octets:
            return tuple(n % WRAP32 for n in truth.summary.iface_octets[ifname])  # type: ignore[return-value]
        index = 1 + int(ifname.rpartition("/ath")[2])
        column = ".".join(str(n) for n in UNIFI_VAP_ENTRY)
        return number(truth.values[f"{column}.{VAP_TX}.{index}"][1]), number(
            truth.values[f"{column}.{VAP_RX}.{index}"][1]
        )

    def uplinks(self, ap: str) -> list[str]:
        """The interfaces that carry the AP's backhaul traffic, by the sim's own build of the AP."""
        profile: Any = self.aps[ap].profile
        if self.aps[ap].spec.vendor == "unifi":
            return [f"{radio}/ath{index - 1}" for index, radio, _, _ in profile.vaps]
        return [UPLINK_IFACE[self.aps[ap].spec.vendor]]

    def uplink_speed_mbps(self, ap: str) -> float | None:
        """ifHighSpeed of the uplink; None for a UniFi AP (its VAPs have no speed)."""
        names = self.uplinks(ap)
        profile: Any = self.aps[ap].profile
        speeds = [i.speed_bps for i in getattr(profile, "ifaces", []) if i.name in names]
        return speeds[0] / 1e6 if speeds else None

    def memory_used_pct(self, ap: str, second: int) -> float:
        """RAM in use: hrStorage's RAM row (HOST-RESOURCES), or FROGFOOT's total less free and buffers
        (UniFi; Linux counts buffers as reclaimable, not used)."""
        values = self.at(ap, second).values
        frogfoot = ".".join(str(n) for n in FROGFOOT_RES)
        if f"{frogfoot}.1.1.0" in values:
            total, free, buffers = (number(values[f"{frogfoot}.1.{n}.0"][1]) for n in (1, 2, 4))
            return 100 * (total - free - buffers) / total
        storage, ram = ".".join(str(n) for n in (*HR, 2, 3, 1)), (*HR, 2, 1, 2)
        (index,) = [
            k.rpartition(".")[2] for k, (_, v) in values.items() if k.startswith(f"{storage}.2.") and v == ram
        ]
        size, used = (number(values[f"{storage}.{column}.{index}"][1]) for column in (5, 6))
        return 100 * used / size

    def served(self, ap: str, column: tuple[int, ...], seconds: range) -> dict[str, list[int]]:
        """Every value of a table column the AP served over `seconds`, by row index (dotted text)."""
        prefix = ".".join(str(n) for n in column) + "."
        out: dict[str, list[int]] = {}
        for second in seconds:
            for oid, (_, value) in self.at(ap, second).values.items():
                if oid.startswith(prefix):
                    out.setdefault(oid.removeprefix(prefix), []).append(number(value))
        return out

    def site(self, ap: str) -> str:
        return str(self.aps[ap].spec.location)

    def air_span(self, quantity: str, seconds: range) -> tuple[float, float]:
        """Min and max over `seconds` of a DailyModel quantity (`pm25_ugm3`, `noise_db`, ...)."""
        values = [getattr(model, quantity)(s) for model in self.daily.values() for s in seconds]
        return min(values), max(values)


def number(value: object) -> int:
    """A served INTEGER, Counter or Gauge (the MIB's values are typed `object`)."""
    assert isinstance(value, int), value
    return value


def bucket_means(rates: dict[int, tuple[float, float]], bucket_s: int) -> dict[int, tuple[float, float]]:
    """Per-poll (in, out) rates averaged in InfluxDB's `GROUP BY time(bucket_s)` buckets."""
    buckets: dict[int, list[tuple[float, float]]] = {}
    for time_ns, pair in rates.items():
        buckets.setdefault(time_ns - time_ns % (bucket_s * 10**9), []).append(pair)
    return {t: (sum(p[0] for p in v) / len(v), sum(p[1] for p in v) / len(v)) for t, v in buckets.items()}


def within(value: float, span: tuple[float, float], slack: float = 0.0) -> bool:
    return span[0] - slack <= value <= span[1] + slack


def near(value: float, expected: float, relative: float) -> bool:
    return abs(value - expected) <= relative * abs(expected)
