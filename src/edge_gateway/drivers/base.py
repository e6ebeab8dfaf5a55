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

from pydantic import ValidationError

from edge_gateway.core.model import FieldValue, Reading


class DriverError(Exception):
    """Misuse of a driver by its caller (never raised by `feed()`, which takes any bytes)."""


class DriverConfigError(DriverError):
    """Driver options that cannot be used; `problems` lists each as 'path: what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


def validation_problems(exc: ValidationError, prefix: str = "") -> list[str]:
    """Every error of a pydantic validation as 'path: message', the way `edge check-config` lists them."""
    problems = []
    for error in exc.errors():
        path = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
        problems.append(f"{path}: {error['msg']}" if path else str(error["msg"]))
    return problems
