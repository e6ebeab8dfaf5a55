"""The owner of one streaming port (a GPS receiver, a line sensor): read continuously, report per
interval.

The port is read all the time so the OS buffer never fills with stale sentences; every `interval_s`
the frames of the interval become readings, the latest per series (two points of one series at one
timestamp would overwrite each other anyway), plus the sensor's `device_status` and the port's
`serial_bus` reading. For a GPS the clock offset (system time minus GPS time) is measured when a
sentence carrying the time arrives, not when the interval ends, and reported as `clock_offset_s` in
the `gps` reading. A lost port is opened again every quarter interval, so it is back within two.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from edge_gateway.agent.collectors.serial.bus import PortKeeper, PortOpener, Sink
from edge_gateway.agent.collectors.serial.config import SerialBus
from edge_gateway.agent.collectors.serial.port import NoAnswer, PortError
from edge_gateway.agent.collectors.serial.sensor import CycleResult, SensorState, latest_per_series
from edge_gateway.agent.collectors.serial.timing import BusStats, character_time_s
from edge_gateway.agent.scheduler import SourceHealth, next_slot_s, start_offset_s
from edge_gateway.core.model import Reading
from edge_gateway.drivers.nmea import MEASUREMENT as GPS_MEASUREMENT
from edge_gateway.drivers.nmea import NmeaDriver, NmeaFrame, clock_offset_s

MAX_FRAMES_PER_INTERVAL = 1024
_OFFSET_DECIMALS = 3


class StreamingBus:
    """Reads one talker forever (`run`)."""

    def __init__(self, config: SerialBus, sensor: SensorState, open_port: PortOpener, site: str) -> None:
        self.name = f"serial[{config.name}]"
        self.config = config
        self.sensor = sensor
        self.stats = BusStats()
        self.keeper = PortKeeper(self.name, open_port, self.stats)
        self._tags = {"site": site, "bus": config.name}
        self._char_s = character_time_s(config.baud)
        self._frames: deque[object] = deque(maxlen=MAX_FRAMES_PER_INTERVAL)
        self._last_frame_s: float | None = None
        self._clock_offset_s: float | None = None

    async def run(self, sink: Sink, health: SourceHealth) -> None:
        loop = asyncio.get_running_loop()
        interval_s = self.sensor.config.interval_s
        self.stats.window_start_s = loop.time()
        tick_s = loop.time() + interval_s + start_offset_s(self.config.name, interval_s)
        try:
            while True:
                now_s = loop.time()
                if now_s >= tick_s:
                    await sink(self.emit(health))
                    tick_s = next_slot_s(tick_s, interval_s, loop.time())
                    continue
                port = self.keeper.ensure_open(health)
                if port is None:
                    await asyncio.sleep(min(tick_s - now_s, interval_s / 4))
                    continue
                try:
                    data = await port.read(tick_s - now_s)
                except PortError as exc:
                    self.keeper.lost(exc, health)
                    continue
                if data:
                    self.take(data, loop.time())
        finally:
            self.keeper.close()

    def take(self, data: bytes, now_s: float) -> None:
        """Feed what arrived to the driver and keep its frames for the interval's readings."""
        self.stats.bytes_in += len(data)
        self.stats.line_s += len(data) * self._char_s
        frames = list(self.sensor.driver.feed(data))
        if not frames:
            return
        self._frames.extend(frames)
        self._last_frame_s = now_s
        if isinstance(self.sensor.driver, NmeaDriver):
            nmea = [frame for frame in frames if isinstance(frame, NmeaFrame)]
            offset_s = clock_offset_s(nmea, time.time_ns())
            if offset_s is not None:
                self._clock_offset_s = round(offset_s, _OFFSET_DECIMALS)

    def emit(self, health: SourceHealth) -> list[Reading]:
        """The readings of the interval that just ended; starts the next interval."""
        now_s = asyncio.get_running_loop().time()
        time_ns = time.time_ns()
        sensor = self.sensor
        frames, self._frames = list(self._frames), deque(maxlen=MAX_FRAMES_PER_INTERVAL)
        readings = latest_per_series(sensor.driver.readings(frames, sensor.tags, time_ns))
        if self._clock_offset_s is not None:
            readings = [self._with_offset(reading, self._clock_offset_s) for reading in readings]
            self._clock_offset_s = None
        readings = sensor.derive(readings, now_s)
        age_ms = (now_s - self._last_frame_s) * 1000 if self._last_frame_s is not None else 0.0
        if frames:
            result = CycleResult(readings, True, age_ms)
            health.succeeded(sensor.source)
        else:
            if self.keeper.port is None:
                error = f"port down: {self.keeper.error}"
            elif self._last_frame_s is None:
                error = "no frame decoded yet"
            else:
                error = f"no frame for {age_ms / 1000:.1f} s"
            result = CycleResult([], False, age_ms, error)
            if self.keeper.port is not None:
                health.failed(sensor.source, NoAnswer(error))
        status = sensor.status(result, time_ns)
        bus = self.stats.reading(
            dict(self._tags), self.keeper.port is not None, now_s, [sensor.driver.stats.as_fields()], time_ns
        )
        return [*readings, status, bus]

    @staticmethod
    def _with_offset(reading: Reading, offset_s: float) -> Reading:
        if reading.measurement != GPS_MEASUREMENT:
            return reading
        fields = {**reading.fields, "clock_offset_s": offset_s}
        return Reading(reading.measurement, reading.tags, fields, reading.time_ns)
