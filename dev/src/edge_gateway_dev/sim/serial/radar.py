"""The radar vehicle counter: ASCII request/response with NMEA-style framing.

    gateway -> counter   $RQ,<addr>*HH\\r\\n
    counter -> gateway   $RD,<addr>,<uptime_s>,<lanes>{,<lane>,<count>,<speed>,<occupancy>}*HH\\r\\n

Incoming bytes are split at LF (a CR before it is optional); a line is read from its last `$`, so
noise before a request is skipped. Bad checksums, other addresses and anything else are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from edge_gateway_dev.sim.serial.checksums import nmea_body, nmea_frame
from edge_gateway_dev.sim.serial.daily import LaneTotals, LaneTraffic
from edge_gateway_dev.sim.serial.faults import FaultInjector, spoil_checksum
from edge_gateway_dev.sim.serial.pty_port import PtyPort
from edge_gateway_dev.sim.serial.truth import PortStats, RadarLane, RadarReport

COUNT_MODULO = 2**32
_MAX_LINE_BYTES = 256


class RadarCounter:
    """Counts vehicles on its lanes; speed and occupancy cover the time since the previous request."""

    def __init__(
        self,
        address: int,
        lanes: Sequence[LaneTraffic],
        initial_counts: Sequence[int],
        power_on_s: float,
        start_s: float,
        port: PtyPort,
        injector: FaultInjector,
        stats: PortStats,
        clock: Callable[[], float],
        on_report: Callable[[RadarReport], None],
    ) -> None:
        self.address = address
        self._lanes = lanes
        self._initial_counts = list(initial_counts)
        self._power_on_s = power_on_s
        self._port = port
        self._injector = injector
        self._stats = stats
        self._clock = clock
        self._on_report = on_report
        # The lanes count from the simulator's start, so the first window starts there too.
        self._previous = [(LaneTotals(), start_s) for _ in lanes]
        self._line = bytearray()

    def reboot(self, now_s: float) -> None:
        """Power-cycle: uptime and counts start again from zero."""
        for lane in self._lanes:
            lane.restart(now_s)
        self._initial_counts = [0] * len(self._lanes)
        self._power_on_s = now_s
        self._previous = [(LaneTotals(), now_s) for _ in self._lanes]

    def on_data(self, data: bytes) -> None:
        self._line += data
        while (end := self._line.find(b"\n")) >= 0:
            line, self._line = bytes(self._line[:end]), self._line[end + 1 :]
            self._on_line(line.removesuffix(b"\r"))
        if len(self._line) > _MAX_LINE_BYTES:
            self._stats.ignored_in += 1
            self._line.clear()

    def _on_line(self, line: bytes) -> None:
        start = line.rfind(b"$")
        body = nmea_body(line[start:]) if start >= 0 else None
        fields = body.split(b",") if body is not None else []
        if (
            len(fields) != 2
            or fields[0] != b"RQ"
            or not fields[1].isdigit()
            or int(fields[1]) != self.address
        ):
            self._stats.ignored_in += 1
            return
        self._stats.frames_in += 1
        if self.address in self._injector.faults.silent_addresses:
            self._stats.silenced_in += 1
            return
        report = self.report(self._clock())
        self._on_report(report)
        self._port.write(b"".join(self._injector.shape(encode_report(report), spoil_checksum)))

    def report(self, now_s: float) -> RadarReport:
        """The answer to a request at `now_s`; starts a new speed/occupancy window."""
        lanes = []
        for number, (lane, initial, (before, since_s)) in enumerate(
            zip(self._lanes, self._initial_counts, self._previous, strict=True), start=1
        ):
            totals = lane.totals(now_s)
            lanes.append(_lane_report(number, initial, before, totals, now_s - since_s))
            self._previous[number - 1] = (totals, now_s)
        return RadarReport(self.address, max(0, math.floor(now_s - self._power_on_s)), tuple(lanes))


def _lane_report(
    number: int, initial: int, before: LaneTotals, now: LaneTotals, window_s: float
) -> RadarLane:
    passed = now.count - before.count
    speed_dkmh = round(10 * (now.speed_sum_kmh - before.speed_sum_kmh) / passed) if passed else 0
    occupied_s = now.occupied_s - before.occupied_s
    occupancy_dpct = min(1000, round(1000 * occupied_s / window_s)) if window_s > 0 else 0
    return RadarLane(number, (initial + now.count) % COUNT_MODULO, speed_dkmh, occupancy_dpct)


def encode_report(report: RadarReport) -> bytes:
    groups = "".join(
        f",{lane.lane},{lane.count},{lane.speed_dkmh},{lane.occupancy_dpct}" for lane in report.lanes
    )
    return nmea_frame(f"RD,{report.address},{report.uptime_s},{len(report.lanes)}{groups}")
