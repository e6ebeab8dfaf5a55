"""Runs collectors on their intervals and hands each cycle's readings to a sink (the buffer).

Every device has its own task, named after it (`snmp[ap-kejaksan-1]`), so one dead or slow device
never delays another. A source's failures are logged when it goes down and once when it recovers,
not at every failed poll (Home Assistant's DataUpdateCoordinator), so a dead AP cannot flood the log.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from edge_gateway.core.model import Reading

log = logging.getLogger(__name__)

MAX_START_STAGGER_S = 5.0


class SourceHealth:
    """Which sources are failing now, to log transitions instead of every failure."""

    def __init__(self) -> None:
        self.failing: dict[str, str] = {}

    def failed(self, source: str, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if source not in self.failing:
            log.warning("%s is down: %s", source, text)
        self.failing[source] = text

    def succeeded(self, source: str) -> None:
        if self.failing.pop(source, None) is not None:
            log.info("%s recovered", source)


class Accumulator:
    """What one collection cycle produced: readings, and errors reported per source."""

    def __init__(self, health: SourceHealth) -> None:
        self.readings: list[Reading] = []
        self.health = health

    def add(self, reading: Reading) -> None:
        self.readings.append(reading)

    def add_error(self, source: str, exc: BaseException) -> None:
        self.health.failed(source, exc)

    def add_success(self, source: str) -> None:
        self.health.succeeded(source)


class Collector(Protocol):
    name: str
    interval_s: float

    async def collect(self, acc: Accumulator) -> None: ...


def start_offset_s(name: str, interval_s: float) -> float:
    """A stable per-device offset, so fifty APs are not all polled in the same instant."""
    return (zlib.crc32(name.encode()) % 1000) / 1000 * min(interval_s, MAX_START_STAGGER_S)


def next_slot_s(slot_s: float, interval_s: float, now_s: float) -> float:
    """The next slot on the device's grid after `now_s`: an overrun skips slots instead of bunching.

    The one scheduler grid of the agent: the periodic collectors (SNMP, cameras), the polled serial
    buses and the streaming ones all step their slots with it.
    """
    slot_s += interval_s
    if slot_s <= now_s:
        slot_s += ((now_s - slot_s) // interval_s + 1) * interval_s
    return slot_s


async def run_periodic(
    collector: Collector, sink: Callable[[Sequence[Reading]], Awaitable[None]], health: SourceHealth
) -> None:
    """Collect every `interval_s` on a fixed grid; a cycle that overran skips ticks instead of bunching."""
    loop = asyncio.get_running_loop()
    next_s = loop.time() + start_offset_s(collector.name, collector.interval_s)
    while True:
        await asyncio.sleep(max(0.0, next_s - loop.time()))
        acc = Accumulator(health)
        try:
            await collector.collect(acc)
        except Exception as exc:  # a collector bug must not stop this device's loop, nor the others
            log.exception("%s: collector failed", collector.name)
            acc.add_error(collector.name, exc)
        await sink(acc.readings)
        next_s = next_slot_s(next_s, collector.interval_s, loop.time())
