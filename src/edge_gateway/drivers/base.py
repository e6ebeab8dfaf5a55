"""What every sensor driver shares: the driver protocol, its counters and its one exception family.

A driver is a sans-I/O codec: the collector that owns the serial port writes the bytes of
`requests()`, hands whatever it reads to `feed()` and turns the frames into Readings with
`readings()`. Keeping the port out of the driver is what makes every driver testable from a hex dump
and lets one collector loop serve all of them (pymodbus' framers and h11 follow the same split).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from edge_gateway.core.config import ConfigError
from edge_gateway.core.model import FieldValue, Reading


class DriverError(Exception):
    """Misuse of a driver by its caller (never raised by `feed()`, which takes any bytes)."""


class DriverConfigError(DriverError, ConfigError):
    """Driver options that cannot be used; a ConfigError (`problems`: 'path: what is wrong' each),
    so that check-config, the agent and the probes report them like any other config problem."""


@dataclass(slots=True)
class DriverStats:
    """Cumulative counters of one driver instance, reported in the device status.

    `bytes_discarded` counts garbage skipped while resyncing; `checksum_errors` frames whose CRC or
    XOR sum failed; `malformed_frames` frames with a good checksum but content the driver cannot use;
    `ignored_frames` well-formed frames meant for someone else or of a kind the driver does not decode;
    `exception_responses` Modbus exception answers.
    """

    frames_decoded: int = 0
    bytes_discarded: int = 0
    checksum_errors: int = 0
    malformed_frames: int = 0
    ignored_frames: int = 0
    exception_responses: int = 0

    def as_fields(self) -> dict[str, FieldValue]:
        """The counters as Reading fields (all integers)."""
        return dict(asdict(self))


class Driver(Protocol):
    """One sensor protocol on one port. Talkers return no requests and ignore `expect()`.

    A poll cycle of a request/response driver: for each frame of `requests()`, call `expect(frame)`,
    write the frame, `feed()` what the port returns until a frame comes out or the deadline passes.
    """

    name: str
    stats: DriverStats

    def requests(self) -> list[bytes]:
        """The request frames of one poll cycle, in the order to send them."""
        ...

    def expect(self, request: bytes) -> None:
        """Announce that `request` is about to be sent: stale input is dropped, its answer awaited."""
        ...

    def feed(self, data: bytes) -> Sequence[Any]:
        """Decode what arrived; never raises. Incomplete frames wait in a bounded buffer."""
        ...

    def readings(self, frames: Sequence[Any], tags: Mapping[str, str], time_ns: int) -> list[Reading]:
        """Readings of the frames of one cycle, tagged with `tags` (gateway, site, sensor, bus)."""
        ...


def series_readings(
    series: Mapping[tuple[str, tuple[tuple[str, str], ...]], Mapping[str, FieldValue]],
    tags: Mapping[str, str],
    time_ns: int,
) -> list[Reading]:
    """One Reading per series with at least one field, the caller's tags under the series' own."""
    return [
        Reading(measurement, {**tags, **dict(extra)}, dict(fields), time_ns)
        for (measurement, extra), fields in series.items()
        if fields
    ]
