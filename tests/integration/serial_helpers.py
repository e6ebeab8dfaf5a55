"""Runs serial bus owners against real ptys with a recording sink, for the serial integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from edge_gateway.agent.collectors.serial import build_buses
from edge_gateway.agent.collectors.serial.config import SerialSection
from edge_gateway.agent.scheduler import SourceHealth
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate


class Recorder:
    """Every sink call (one round of one bus) in order; polled with a deadline, never slept on."""

    def __init__(self) -> None:
        self.rounds: list[list[Reading]] = []
        self.health = SourceHealth()

    async def sink(self, readings: Sequence[Reading]) -> None:
        self.rounds.append(list(readings))

    def rounds_of(self, bus: str) -> list[list[Reading]]:
        return [
            r for r in self.rounds if any(x.measurement == "serial_bus" and x.tags["bus"] == bus for x in r)
        ]

    def statuses(self, device: str) -> list[dict[str, Any]]:
        return [
            dict(x.fields)
            for r in self.rounds
            for x in r
            if x.measurement == "device_status" and x.tags["device"] == device
        ]

    def readings(self, measurement: str, sensor: str) -> list[Reading]:
        return [
            x
            for r in self.rounds
            for x in r
            if x.measurement == measurement and x.tags.get("sensor") == sensor
        ]

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.02)


def sensor(name: str, driver: str, interval_s: float = 0.3, **options: Any) -> dict[str, Any]:
    # 1 s: the simulated firmware answers from this same event loop, which a loaded machine can stall
    return {"name": name, "driver": driver, "options": options, "interval_s": interval_s, "timeout_s": 1.0}


@asynccontextmanager
async def running(buses: list[dict[str, Any]], site: str = "Simpang Test") -> AsyncIterator[Recorder]:
    """The owners of `buses` running in this loop until the block ends."""
    recorder = Recorder()
    owners = build_buses(validate(SerialSection, {"buses": buses}), site)
    tasks = [
        asyncio.create_task(owner.run(recorder.sink, recorder.health), name=owner.name) for owner in owners
    ]
    try:
        yield recorder
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
