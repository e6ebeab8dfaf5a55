"""What the collector keeps per sensor between cycles: counters turned into volumes, the stuck
check, backoff after failures, and the `device_status` reading of each cycle.

Kept apart from the port loops so each rule is a small pure step a test can drive without a port.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from edge_gateway.agent.collectors.serial.config import SerialSensor
from edge_gateway.core import schema
from edge_gateway.core.backoff import cycles_to_skip
from edge_gateway.core.model import FieldValue, Reading
from edge_gateway.drivers import registry
from edge_gateway.drivers.base import Driver
from edge_gateway.drivers.counters import counter_delta, uptime_went_back
from edge_gateway.drivers.modbus_rtu import ModbusRtuDriver
from edge_gateway.drivers.radar import COUNT_BITS as RADAR_COUNT_BITS
from edge_gateway.drivers.radar import RadarDriver

COUNT_FIELD = "count_total"
VOLUME_FIELD = "volume"

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def series_key(reading: Reading) -> SeriesKey:
    return reading.measurement, tuple(sorted(reading.tags.items()))


def count_bits(driver: Driver) -> int | None:
    """Width of the driver's cumulative vehicle count (`count_total`), None when it has none."""
    if isinstance(driver, RadarDriver):
        return RADAR_COUNT_BITS
    if isinstance(driver, ModbusRtuDriver):
        return driver.register_map.counter_bits().get(COUNT_FIELD)
    return None


class VolumeTracker:
    """Adds `volume` (vehicles since the previous poll) to traffic readings carrying `count_total`.

    No volume on the first poll, across a reboot (the radar's `uptime_s` went back) or when the
    increase exceeds `max_vehicles_per_s` times the seconds since the previous poll (a restart the
    device does not announce: a 16-bit register reset to 0 looks like a huge wrap).
    """

    def __init__(self, bits: int | None, max_vehicles_per_s: float) -> None:
        self._bits = bits
        self._max_vehicles_per_s = max_vehicles_per_s
        self._previous: dict[SeriesKey, tuple[int, float]] = {}
        self._uptime_s: int | None = None

    def apply(self, readings: Sequence[Reading], now_s: float) -> list[Reading]:
        if self._bits is None:
            return list(readings)
        rebooted = False
        for reading in readings:
            uptime_s = reading.fields.get("uptime_s")
            if reading.measurement == schema.TRAFFIC and isinstance(uptime_s, int):
                rebooted = rebooted or uptime_went_back(self._uptime_s, uptime_s)
                self._uptime_s = uptime_s
        out = []
        for reading in readings:
            count = reading.fields.get(COUNT_FIELD)
            if reading.measurement != schema.TRAFFIC or not isinstance(count, int) or isinstance(count, bool):
                out.append(reading)
                continue
            key = series_key(reading)
            previous = self._previous.get(key)
            self._previous[key] = (count, now_s)
            if previous is None:
                out.append(reading)
                continue
            max_delta = math.ceil(self._max_vehicles_per_s * max(now_s - previous[1], 0.0))
            volume = counter_delta(
                previous[0], count, bits=self._bits, rebooted=rebooted, max_delta=max_delta
            )
            if volume is None:
                out.append(reading)
            else:
                fields = {**reading.fields, VOLUME_FIELD: volume}
                out.append(Reading(reading.measurement, reading.tags, fields, reading.time_ns))
        return out


class StuckDetector:
    """Counts consecutive cycles whose float values are all identical to the previous cycle's.

    Only floats are compared: counters, booleans (a loop's `occupied`) and texts legitimately stay the
    same for long. A cycle without readings leaves the count as it was (that is `stale`, not stuck).
    """

    def __init__(self, cycles: int) -> None:
        self._cycles = cycles
        self._last: tuple[object, ...] | None = None
        self._same = 0

    def observe(self, readings: Sequence[Reading]) -> bool:
        values = tuple(
            (series_key(r), tuple(sorted((k, v) for k, v in r.fields.items() if isinstance(v, float))))
            for r in readings
        )
        if any(floats for _, floats in values):
            self._same = self._same + 1 if values == self._last else 1
            self._last = values
        return self.stuck

    @property
    def stuck(self) -> bool:
        return self._cycles > 0 and self._same >= self._cycles


def latest_per_series(readings: Sequence[Reading]) -> list[Reading]:
    """The last reading of each series: two points with the same series and time would overwrite
    each other in InfluxDB anyway, so a streaming sensor reports its latest value per interval."""
    latest: dict[SeriesKey, Reading] = {}
    for reading in readings:
        latest[series_key(reading)] = reading
    return list(latest.values())


@dataclass(slots=True)
class CycleResult:
    """What one cycle of one sensor gave; `error` is empty when it went well."""

    readings: list[Reading]
    up: bool
    latency_ms: float
    error: str = ""


class SensorState:
    """One configured sensor: its driver, tags, backoff and derived values across cycles."""

    def __init__(
        self, config: SerialSensor, bus: str, site: str, position: dict[str, float] | None = None
    ) -> None:
        self.config = config
        self.name = config.name
        self.driver = registry.build(config.driver, config.options)
        self.tags = {"site": site, "sensor": config.name, "bus": bus}
        if not config.primary:  # the boards count its lanes only where no primary sensor does
            self.tags["primary"] = "false"
        self.position = dict(position or {})
        self.status_tags = {"device": config.name, "site": site, "kind": config.driver, "bus": bus}
        self.source = f"serial[{bus}/{config.name}]"
        self._volumes = VolumeTracker(count_bits(self.driver), config.max_vehicles_per_s)
        self._stuck = StuckDetector(config.stuck_cycles)
        self.timeouts = 0
        self.failures = 0  # consecutive cycles without an answer
        self.skip_cycles = 0  # cycles left to skip before the next try
        self.last_error = ""

    def derive(self, readings: Sequence[Reading], now_s: float) -> list[Reading]:
        """Volumes added and the stuck check fed: the readings to emit for this cycle."""
        out = self._volumes.apply(readings, now_s)
        self._stuck.observe(out)
        return out

    def record_failure(self, error: str, down_backoff_max_s: float) -> None:
        """Back off by the dead-device policy (`core.backoff.cycles_to_skip`)."""
        self.failures += 1
        self.last_error = error
        self.skip_cycles = cycles_to_skip(self.failures, self.config.interval_s, down_backoff_max_s)

    def record_success(self) -> None:
        self.failures = 0
        self.skip_cycles = 0
        self.last_error = ""

    def status(self, result: CycleResult, time_ns: int) -> Reading:
        """The `device_status` reading of this cycle, with the driver's cumulative counters."""
        fields: dict[str, FieldValue] = {
            "up": result.up,
            "latency_ms": round(result.latency_ms, 3),
            "error": result.error,
            "stale": not result.readings,
            "stuck": self._stuck.stuck,
            "timeouts": self.timeouts,
            "failures": self.failures,
            **self.driver.stats.as_fields(),
            **self.position,
        }
        return Reading(schema.DEVICE_STATUS, dict(self.status_tags), fields, time_ns)


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def frame_problem(frames: Sequence[object]) -> str:
    """Why answered frames gave no data: a Modbus exception answer, by its code."""
    codes = [code for frame in frames if (code := getattr(frame, "exception_code", None)) is not None]
    return f"exception code {codes[0]}" if codes else ""
