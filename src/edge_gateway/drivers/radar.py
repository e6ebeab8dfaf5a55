"""Radar vehicle counter: ASCII request/response with NMEA-style framing (docs/sensor-protocols.md).

Request (the counter answers nothing unasked)::

    $RQ,<addr>*HH\\r\\n

Response::

    $RD,<addr>,<uptime_s>,<lanes>,<lane>,<count>,<speed>,<occupancy>[,<lane>,...]*HH\\r\\n

    addr       1-99            count      vehicles since power-on, wraps at 2**32
    uptime_s   since power-on  speed      mean since the previous request, 0.1 km/h (0: none passed)
    lanes      groups that follow          occupancy  share of time occupied since then, 0.1 %

HH is the XOR of the bytes between `$` and `*`. Resync as for NMEA: a response starts at `$`, a second
`$` before the line end restarts framing, a line over `max_line_bytes` is dropped, and `expect()`
drops whatever arrived before the request (a late answer to an earlier one). A response with a bad
checksum is counted and skipped; one from another address or of another type (an echo of our own
`$RQ` on a half-duplex line) is ignored; one whose lane count disagrees with its groups is malformed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edge_gateway.core import schema
from edge_gateway.core.model import FieldValue, Reading
from edge_gateway.drivers.base import DriverError, DriverStats
from edge_gateway.drivers.framing import LineFramer, checked_body, nmea_frame

MEASUREMENT = schema.TRAFFIC
COUNT_BITS = 32
_GROUP_FIELDS = 4


@dataclass(frozen=True, slots=True)
class RadarLane:
    """One lane group as sent: raw integers in the device's units."""

    lane: int
    count: int
    speed_dkmh: int
    occupancy_dpct: int


@dataclass(frozen=True, slots=True)
class RadarFrame:
    address: int
    uptime_s: int
    lanes: tuple[RadarLane, ...]


def encode_request(address: int) -> bytes:
    """`$RQ,<addr>*HH\\r\\n`; DriverError outside 1-99."""
    if not 1 <= address <= 99:
        raise DriverError(f"radar address {address} outside 1-99")
    return nmea_frame(f"RQ,{address}")


def _decimals(parts: list[bytes]) -> list[int] | None:
    if not all(part.isdigit() and len(part) <= 10 for part in parts):
        return None
    return [int(part) for part in parts]


def parse_response(body: bytes) -> RadarFrame | None:
    """The frame of a checksum-verified `RD` body, or None when its fields do not add up."""
    numbers = _decimals(body.split(b",")[1:])
    if numbers is None or len(numbers) < 3:
        return None
    address, uptime_s, lane_count = numbers[:3]
    groups = numbers[3:]
    if len(groups) != _GROUP_FIELDS * lane_count or not 1 <= address <= 99:
        return None
    lanes = tuple(RadarLane(*groups[i : i + _GROUP_FIELDS]) for i in range(0, len(groups), _GROUP_FIELDS))
    if any(lane.lane < 1 or lane.count >= 1 << COUNT_BITS for lane in lanes):
        return None
    return RadarFrame(address, uptime_s, lanes)


class RadarDriver:
    """One radar counter at `address` on its own RS-232 port."""

    name = "radar"

    def __init__(self, address: int = 1, max_line_bytes: int = 512) -> None:
        self.stats = DriverStats()
        self.address = address
        self._request = encode_request(address)
        self._framer = LineFramer(self.stats, delimiter=b"\n", max_line_bytes=max_line_bytes, start=b"$")

    def requests(self) -> list[bytes]:
        return [self._request]

    def expect(self, request: bytes) -> None:
        """Drop input that arrived before this request: it cannot be its answer."""
        self._framer.clear()

    def feed(self, data: bytes) -> list[RadarFrame]:
        frames = []
        for line in self._framer.push(data):
            body = checked_body(line)
            if body is None:
                self.stats.checksum_errors += 1
                continue
            if not body.startswith(b"RD,"):
                self.stats.ignored_frames += 1
                continue
            frame = parse_response(body)
            if frame is None:
                self.stats.malformed_frames += 1
            elif frame.address != self.address:
                self.stats.ignored_frames += 1
            else:
                self.stats.frames_decoded += 1
                frames.append(frame)
        return frames

    def readings(self, frames: Sequence[RadarFrame], tags: Mapping[str, str], time_ns: int) -> list[Reading]:
        """One `traffic` reading per lane of each frame: the raw `count_total` (for
        `edge_gateway.drivers.counters.counter_delta` with 32 bits, reboot told by `uptime_s` going back),
        speed and
        occupancy. `speed_kmh` is left out when no vehicle passed: the counter sends 0 then, and a
        zero would drag every mean speed down."""
        readings = []
        for frame in frames:
            for lane in frame.lanes:
                fields: dict[str, FieldValue] = {
                    "count_total": lane.count,
                    "occupancy_pct": lane.occupancy_dpct / 10,
                    "uptime_s": frame.uptime_s,
                }
                if lane.speed_dkmh:
                    fields["speed_kmh"] = lane.speed_dkmh / 10
                readings.append(Reading(MEASUREMENT, {**tags, "lane": str(lane.lane)}, fields, time_ns))
        return readings
