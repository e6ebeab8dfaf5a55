"""Ground truth: what the simulated firmware served, so tests can compare it with what arrived.

Values are recorded as the firmware meant to send them, before a fault mangled the bytes; the per-port
counters say how many frames the faults touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TABLE_NAMES = {0x01: "coil", 0x02: "discrete", 0x03: "holding", 0x04: "input"}


@dataclass
class PortStats:
    """Traffic and fault counters of one serial port since the simulator started."""

    frames_in: int = 0  # well-formed requests the port's devices answered or chose not to
    ignored_in: int = 0  # bad CRC/checksum, another address, or noise
    silenced_in: int = 0  # requests for an address made silent by a fault
    frames_out: int = 0
    garbage_out: int = 0  # frames preceded by garbage bytes
    corrupted_out: int = 0  # frames sent with a wrong CRC/checksum
    truncated_out: int = 0  # frames cut short
    dropped_out_bytes: int = 0  # bytes lost because the port was unplugged or nobody read them
    plugs: int = 0  # times the port appeared (1 after start, +1 per replug)
    last_out: bytes = b""  # the last frame as written, faults included


@dataclass(frozen=True, slots=True)
class GpsFix:
    """One second of the GPS receiver's output."""

    time_s: float
    lat_deg: float
    lon_deg: float
    sats: int
    hdop: float
    altitude_m: float


@dataclass(frozen=True, slots=True)
class RadarLane:
    lane: int
    count: int
    speed_dkmh: int  # 0.1 km/h
    occupancy_dpct: int  # 0.1 %


@dataclass(frozen=True, slots=True)
class RadarReport:
    """One `$RD` answer of the radar counter."""

    address: int
    uptime_s: int
    lanes: tuple[RadarLane, ...]


@dataclass
class GroundTruth:
    """Everything one intersection served. `registers` maps (slave, table, register) to the last 16-bit
    word or bit served, tables being "coil", "discrete", "holding", "input"; signed registers are stored
    as the two's complement word on the wire."""

    ports: dict[str, PortStats] = field(default_factory=dict)
    registers: dict[tuple[int, str, int], int] = field(default_factory=dict)
    gps: GpsFix | None = None
    radar: RadarReport | None = None


def signed16(word: int) -> int:
    """A 16-bit register word read as two's complement."""
    return word - 0x10000 if word & 0x8000 else word
