"""Simulated intersections: specs, start-up in the running event loop, and handles for tests and CLI.

specs = make_intersection_specs(3, seed=7)
async with run_intersections(specs, Path("/tmp/sim")) as handles:
    handles[0].paths["rs485"]                # /tmp/sim/cbn-int-01-rs485 -> /dev/pts/N
    handles[0].faults["rs485"].silent_addresses.add(3)
    handles[0].unplug("gps"); handles[0].replug("gps")
    handles[0].truth.registers[(1, "input", 1)]
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from edge_gateway_dev.sim.clock import Clock, wall_clock
from edge_gateway_dev.sim.serial.daily import DailyModel, LaneTraffic, unit
from edge_gateway_dev.sim.serial.faults import FaultInjector, PortFaults
from edge_gateway_dev.sim.serial.gps import GpsReceiver
from edge_gateway_dev.sim.serial.modbus import ModbusBus, SlaveMap
from edge_gateway_dev.sim.serial.pty_port import PtyPort
from edge_gateway_dev.sim.serial.radar import RadarCounter
from edge_gateway_dev.sim.serial.truth import GpsFix, GroundTruth, PortStats, RadarReport

PORTS = ("rs485", "gps", "radar")
LOOP_INPUTS = 8
LOOP_COUNT_MODULO = 65536
_CIREBON = (-6.7063, 108.5570)
_SITES = (
    "Simpang Gunungsari",
    "Simpang Kejaksan",
    "Simpang Pasar Pagi",
    "Simpang Krucuk",
    "Simpang Tuparev",
    "Simpang Perumnas",
    "Simpang Pemuda",
    "Simpang Kalitanjung",
    "Simpang Samadikun",
    "Simpang Siliwangi",
)
_MAX_UPTIME_S = 3 * 86400


@dataclass
class IntersectionSpec:
    """What one simulated intersection is; `faults` (port name -> faults) are the faults at start."""

    name: str
    seed: int
    site: str
    lat_deg: float
    lon_deg: float
    radar_address: int = 1
    radar_lanes: int = 4
    faults: dict[str, PortFaults] = field(default_factory=dict)


def make_intersection_specs(n: int, seed: int) -> list[IntersectionSpec]:
    """`n` intersections around Cirebon, named cbn-int-01..., the same for the same seed."""
    specs = []
    for i in range(n):
        site = _SITES[i % len(_SITES)] + (f" {i // len(_SITES) + 1}" if i >= len(_SITES) else "")
        specs.append(
            IntersectionSpec(
                name=f"cbn-int-{i + 1:02d}",
                seed=math.floor(unit(seed, "intersection-seed", i) * 2**31),
                site=site,
                lat_deg=round(_CIREBON[0] + 0.04 * (unit(seed, "lat", i) - 0.5), 6),
                lon_deg=round(_CIREBON[1] + 0.04 * (unit(seed, "lon", i) - 0.5), 6),
            )
        )
    return specs


def _slaves(
    model: DailyModel, loops: Sequence[LaneTraffic], initial_counts: Sequence[int]
) -> dict[int, SlaveMap]:
    """The register maps of docs/sensor-protocols.md, each register a function of the clock."""

    def count(i: int) -> Callable[[float], int]:
        return lambda now_s: (initial_counts[i] + loops[i].totals(now_s).count) % LOOP_COUNT_MODULO

    def occupied(i: int) -> Callable[[float], int]:
        return lambda now_s: int(loops[i].occupied(now_s))

    return {
        1: {
            0x04: {
                0x0001: lambda now_s: round(10 * model.temperature_c(now_s)),
                0x0002: lambda now_s: round(10 * model.humidity_pct(now_s)),
            }
        },
        2: {
            0x03: {
                0x0000: lambda now_s: round(model.pm25_ugm3(now_s)),
                0x0001: lambda now_s: round(model.pm10_ugm3(now_s)),
            }
        },
        3: {0x03: {0x0000: lambda now_s: round(10 * model.noise_db(now_s))}},
        4: {
            0x02: {i: occupied(i) for i in range(LOOP_INPUTS)},
            0x03: {i: count(i) for i in range(LOOP_INPUTS)},
        },
    }


class IntersectionHandle:
    """A running intersection: its port paths, live fault switches and ground truth."""

    def __init__(self, spec: IntersectionSpec, directory: Path, clock: Clock) -> None:
        self.spec = spec
        self.model = DailyModel(spec.seed)
        stats = {port: PortStats() for port in PORTS}
        self.truth = GroundTruth(ports=stats)
        self.faults = {port: spec.faults.get(port, PortFaults()).copy() for port in PORTS}
        self.paths = {port: directory / f"{spec.name}-{port}" for port in PORTS}
        start_s = clock()
        seed = spec.seed
        injectors = {port: FaultInjector(self.faults[port], stats[port], seed, port) for port in PORTS}
        # Each port hands its bytes to its device; the lambdas resolve the devices created below.
        self._ports = {
            "rs485": PtyPort(self.paths["rs485"], lambda data: self.bus.on_data(data), stats["rs485"]),
            "gps": PtyPort(self.paths["gps"], lambda data: self.gps.on_data(data), stats["gps"]),
            "radar": PtyPort(self.paths["radar"], lambda data: self.radar.on_data(data), stats["radar"]),
        }

        self._clock = clock
        self._loops = [LaneTraffic(self.model, f"lane{i + 1}", start_s) for i in range(LOOP_INPUTS)]
        self._loop_counts = [
            math.floor(unit(seed, "loop-count", i) * LOOP_COUNT_MODULO) for i in range(LOOP_INPUTS)
        ]
        self.bus = ModbusBus(
            _slaves(self.model, self._loops, self._loop_counts),
            self._ports["rs485"],
            injectors["rs485"],
            stats["rs485"],
            self.truth.registers,
            clock,
        )
        self.gps = GpsReceiver(
            seed,
            spec.lat_deg,
            spec.lon_deg,
            self._ports["gps"],
            injectors["gps"],
            clock,
            self._record_fix,
        )
        uptime_s = math.floor(unit(seed, "radar-uptime", 0) * _MAX_UPTIME_S)
        self.radar = RadarCounter(
            spec.radar_address,
            [LaneTraffic(self.model, f"lane{i + 1}", start_s) for i in range(spec.radar_lanes)],
            [math.floor(unit(seed, "radar-count", i) * 0.15 * uptime_s) for i in range(spec.radar_lanes)],
            start_s - uptime_s,
            start_s,
            self._ports["radar"],
            injectors["radar"],
            stats["radar"],
            clock,
            self._record_report,
        )

    def _record_fix(self, fix: GpsFix) -> None:
        self.truth.gps = fix

    def _record_report(self, report: RadarReport) -> None:
        self.truth.radar = report

    def plugged(self, port: str) -> bool:
        return self._ports[port].plugged

    def unplug(self, port: str) -> None:
        """Pull the adapter: the pty closes and the path vanishes."""
        self._ports[port].unplug()

    def replug(self, port: str) -> None:
        """Put it back: a new pty behind the same path."""
        self._ports[port].plug()

    def reboot(self, port: str) -> None:
        """Power-cycle the counting device on `port`: the loop module on "rs485" (its vehicle counters
        restart at 0) or the radar (uptime and counts restart at 0). The port stays plugged."""
        now_s = self._clock()
        if port == "radar":
            self.radar.reboot(now_s)
        elif port == "rs485":
            for lane in self._loops:
                lane.restart(now_s)
            self._loop_counts[:] = [0] * LOOP_INPUTS
        else:
            raise ValueError(f"nothing on port {port!r} counts; reboot rs485 or radar")


@asynccontextmanager
async def run_intersections(
    specs: Sequence[IntersectionSpec],
    directory: Path,
    *,
    clock: Clock = wall_clock,
    gps_interval_s: float = 1.0,
) -> AsyncIterator[list[IntersectionHandle]]:
    """Start `specs` in the running loop with their port links in `directory` (which must exist);
    stop them and remove the links on exit."""
    handles = [IntersectionHandle(spec, directory, clock) for spec in specs]
    tasks: list[asyncio.Task[None]] = []
    try:
        for handle in handles:
            for port in PORTS:
                handle.replug(port)
            tasks.append(asyncio.create_task(handle.gps.run(gps_interval_s), name=f"gps[{handle.spec.name}]"))
        yield handles
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for handle in handles:
            for port in PORTS:
                handle.unplug(port)
