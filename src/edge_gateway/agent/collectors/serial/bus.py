"""The owner of one polled bus (RS-485 Modbus multidrop, or an RS-232 radar): the port's only user.

Every sensor's requests go out one at a time from this one task, each after the inter-frame silence
(3.5 characters at the bus speed), and each answer is awaited for at most the sensor's `timeout_s`.
Sensors due at the same moment are polled in one round whose readings reach the sink together (one
buffer transaction). A sensor that does not answer is skipped for a growing number of cycles
(1, 3, 7... up to the bus's `down_backoff_max_s`), and after its first unanswered request the rest of its
requests are not tried, so a dead slave costs at most one timeout per try and never holds up the
others. A lost port (unplugged adapter) is closed and opened again at the next round; port trouble
does not count against the sensors, so they are polled normally as soon as the port is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence

from edge_gateway.agent.collectors.serial.config import SerialBus
from edge_gateway.agent.collectors.serial.port import NoAnswer, Port, PortError
from edge_gateway.agent.collectors.serial.sensor import CycleResult, SensorState, error_text, frame_problem
from edge_gateway.agent.collectors.serial.timing import BusStats, character_time_s, inter_frame_gap_s
from edge_gateway.agent.scheduler import SourceHealth, next_slot_s, start_offset_s
from edge_gateway.core.model import Reading

Sink = Callable[[Sequence[Reading]], Awaitable[None]]
PortOpener = Callable[[], Port]


class PortKeeper:
    """Opens the port when needed and closes it when it fails; logs down once, recovered once."""

    def __init__(self, source: str, open_port: PortOpener, stats: BusStats) -> None:
        self.source = source
        self._open_port = open_port
        self._stats = stats
        self.port: Port | None = None
        self.error = "not opened yet"

    def ensure_open(self, health: SourceHealth) -> Port | None:
        if self.port is None:
            try:
                self.port = self._open_port()
            except PortError as exc:
                self._stats.port_errors += 1
                self.error = error_text(exc)
                health.failed(self.source, exc)
                return None
            self._stats.opens += 1
            self.error = ""
            health.succeeded(self.source)
        return self.port

    def lost(self, exc: PortError, health: SourceHealth) -> None:
        self._stats.port_errors += 1
        self.error = error_text(exc)
        health.failed(self.source, exc)
        self.close()

    def close(self) -> None:
        if self.port is not None:
            with contextlib.suppress(OSError):
                self.port.close()
            self.port = None


class PolledBus:
    """Polls the sensors of one bus in turn, forever (`run`), or one round at a time (`poll_round`)."""

    def __init__(
        self, config: SerialBus, sensors: list[SensorState], open_port: PortOpener, site: str
    ) -> None:
        self.name = f"serial[{config.name}]"
        self.config = config
        self.sensors = sensors
        self.stats = BusStats()
        self.keeper = PortKeeper(self.name, open_port, self.stats)
        self._tags = {"site": site, "bus": config.name}
        self._char_s = character_time_s(config.baud)
        self.gap_s = inter_frame_gap_s(config.baud)
        self._quiet_since_s = 0.0  # loop time when the line last fell silent

    async def run(self, sink: Sink, health: SourceHealth) -> None:
        loop = asyncio.get_running_loop()
        start_s = loop.time() + start_offset_s(
            self.config.name, min(s.config.interval_s for s in self.sensors)
        )
        self.stats.window_start_s = loop.time()
        slots = {sensor.name: start_s for sensor in self.sensors}
        try:
            while True:
                now_s = loop.time()
                due = [sensor for sensor in self.sensors if slots[sensor.name] <= now_s]
                if not due:
                    await asyncio.sleep(min(slots.values()) - now_s)
                    continue
                readings = await self.poll_round(due, health)
                now_s = loop.time()
                for sensor in due:
                    slots[sensor.name] = next_slot_s(slots[sensor.name], sensor.config.interval_s, now_s)
                await sink(readings)
        finally:
            self.keeper.close()

    async def poll_round(self, due: Sequence[SensorState], health: SourceHealth) -> list[Reading]:
        """One cycle of each sensor in `due`: their readings and statuses, and the bus's reading."""
        loop = asyncio.get_running_loop()
        self.keeper.ensure_open(health)
        readings: list[Reading] = []
        for sensor in due:
            result = await self._cycle(sensor, health)
            time_ns = time.time_ns()
            readings += result.readings
            readings.append(sensor.status(result, time_ns))
        up = self.keeper.port is not None
        stats = [sensor.driver.stats.as_fields() for sensor in self.sensors]
        readings.append(self.stats.reading(dict(self._tags), up, loop.time(), stats, time.time_ns()))
        return readings

    async def _cycle(self, sensor: SensorState, health: SourceHealth) -> CycleResult:
        port = self.keeper.port
        if port is None:
            return CycleResult([], False, 0.0, f"port down: {self.keeper.error}")
        if sensor.skip_cycles > 0:
            sensor.skip_cycles -= 1
            return CycleResult(
                [], False, 0.0, f"backing off after {sensor.failures} failures: {sensor.last_error}"
            )
        loop = asyncio.get_running_loop()
        start_s = loop.time()
        frames: list[object] = []
        requests = sensor.driver.requests()
        try:
            for number, request in enumerate(requests, 1):
                frames += await self._transact(port, sensor, request, f"request {number} of {len(requests)}")
        except NoAnswer as exc:
            sensor.timeouts += 1
            self.stats.timeouts += 1
            sensor.record_failure(str(exc), self.config.down_backoff_max_s)
            health.failed(sensor.source, exc)
            return CycleResult([], False, (loop.time() - start_s) * 1000, str(exc))
        except PortError as exc:
            self.keeper.lost(exc, health)
            return CycleResult([], False, (loop.time() - start_s) * 1000, f"port lost: {error_text(exc)}")
        latency_ms = (loop.time() - start_s) * 1000
        raw = sensor.driver.readings(frames, sensor.tags, time.time_ns())
        sensor.record_success()
        health.succeeded(sensor.source)
        return CycleResult(sensor.derive(raw, loop.time()), True, latency_ms, frame_problem(frames))

    async def _transact(self, port: Port, sensor: SensorState, request: bytes, what: str) -> list[object]:
        """Send one request after the silence, and return the frames of its answer; NoAnswer after
        `timeout_s` counted from the moment the request has left the wire."""
        loop = asyncio.get_running_loop()
        timeout_s = sensor.config.timeout_s
        await self._wait_for_silence(port, timeout_s)
        sensor.driver.expect(request)
        start_s = loop.time()
        await port.write(request)
        sent_s = len(request) * self._char_s
        self.stats.requests += 1
        self.stats.bytes_out += len(request)
        self.stats.line_s += sent_s
        self._quiet_since_s = start_s + sent_s
        deadline_s = start_s + sent_s + timeout_s
        try:
            while True:
                remaining_s = deadline_s - loop.time()
                data = await port.read(max(remaining_s, 0.0))
                if data:
                    self._heard(data, loop.time())
                    frames = list(sensor.driver.feed(data))
                    if frames:
                        return frames
                elif remaining_s <= 0:
                    raise NoAnswer(f"no answer within {timeout_s:g} s ({what})")
        finally:
            self.stats.transaction_s += loop.time() - start_s

    def _heard(self, data: bytes, now_s: float) -> None:
        self.stats.bytes_in += len(data)
        self.stats.line_s += len(data) * self._char_s
        self._quiet_since_s = max(self._quiet_since_s, now_s)

    async def _wait_for_silence(self, port: Port, limit_s: float) -> None:
        """Wait until the line has been silent for the inter-frame gap, dropping late answers and noise
        that arrive meanwhile; a line that never falls silent is given up on after `limit_s`."""
        loop = asyncio.get_running_loop()
        give_up_s = loop.time() + limit_s
        while True:
            wait_s = self._quiet_since_s + self.gap_s - loop.time()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
                continue
            stale = await port.read(0)
            if not stale:
                return
            self.stats.stale_bytes += len(stale)
            self._heard(stale, loop.time())
            if loop.time() >= give_up_s:
                return
