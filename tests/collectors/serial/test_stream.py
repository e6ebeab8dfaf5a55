"""The streaming owner over a fake port: latest values per interval, clock offset, silence, replug."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edge_gateway.agent.collectors.serial import build_bus
from edge_gateway.agent.collectors.serial.config import SerialBus
from edge_gateway.agent.collectors.serial.stream import StreamingBus
from edge_gateway.agent.scheduler import SourceHealth
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway.drivers.framing import nmea_frame
from tests.collectors.serial.fakes import FakePort, Plug


def rmc(when: datetime, lat: str = "0642.3780", lon: str = "10833.4200") -> bytes:
    return nmea_frame(f"GPRMC,{when:%H%M%S}.00,A,{lat},S,{lon},E,0.0,,{when:%d%m%y},,,A")


def streaming(driver: str, options: dict[str, Any], open_port: Any, interval_s: float = 1.0) -> StreamingBus:
    config = validate(
        SerialBus,
        {
            "name": "gps",
            "port": "/dev/fake",
            "sensors": [{"name": "g", "driver": driver, "options": options, "interval_s": interval_s}],
        },
    )
    owner = build_bus(config, "Simpang Test", open_port)
    assert isinstance(owner, StreamingBus)
    return owner


def by_measurement(readings: Sequence[Reading]) -> dict[str, Reading]:
    return {r.measurement: r for r in readings}


async def test_interval_reports_the_latest_fix_and_the_clock_offset() -> None:
    owner = streaming("nmea", {}, lambda: FakePort(lambda _: None))
    past = datetime.now(UTC) - timedelta(seconds=30)
    owner.take(b"noise" + rmc(past, lat="0642.0000"), 0.0)
    owner.take(rmc(past, lat="0643.0000")[:20], 0.0)
    owner.take(rmc(past, lat="0643.0000")[20:], 0.0)
    got = by_measurement(owner.emit(SourceHealth()))
    gps = got["gps"]
    assert gps.fields["lat"] == pytest.approx(-6.7166667)
    assert 29.0 < float(gps.fields["clock_offset_s"]) < 31.5
    assert gps.tags == {"site": "Simpang Test", "sensor": "g", "bus": "gps"}
    status = got["device_status"].fields
    assert status["up"] is True and status["stale"] is False
    assert status["frames_decoded"] == 2 and status["bytes_discarded"] == 5
    assert got["serial_bus"].fields["bytes_in"] == 5 + 2 * len(rmc(past))


async def test_an_interval_without_frames_is_stale_and_down() -> None:
    owner = streaming("nmea", {}, lambda: FakePort(lambda _: None))
    owner.keeper.ensure_open(SourceHealth())
    owner.take(b"$GPRMC,garbage*00\r\n", 0.0)
    got = by_measurement(owner.emit(SourceHealth()))
    assert "gps" not in got
    status = got["device_status"].fields
    assert status["up"] is False and status["stale"] is True
    assert status["error"] == "no frame decoded yet" and status["checksum_errors"] == 1


async def test_a_line_sensor_reports_its_latest_line_per_series() -> None:
    options = {"measurement": "traffic", "separator": ";", "fields": ["lane", "speed_kmh"], "tags": ["lane"]}
    owner = streaming("line", options, lambda: FakePort(lambda _: None))
    owner.take(b"1;40.0\r\n2;35.5\r\n1;42.5\r\n", 0.0)
    traffic = [r for r in owner.emit(SourceHealth()) if r.measurement == "traffic"]
    assert {r.tags["lane"]: r.fields["speed_kmh"] for r in traffic} == {"1": 42.5, "2": 35.5}


async def test_run_recovers_after_unplug_within_two_intervals() -> None:
    plug = Plug(lambda _: None)
    owner = streaming("nmea", {}, plug.open, interval_s=0.1)
    emitted: list[dict[str, Reading]] = []
    unplugged_at: list[int] = []
    replugged_at: list[int] = []

    async def sink(readings: Sequence[Reading]) -> None:
        emitted.append(by_measurement(readings))

    async def talk() -> None:
        while True:
            if plug.ports and plug.plugged:
                plug.ports[-1].inject(rmc(datetime.now(UTC)))
            await asyncio.sleep(0.01)

    async def wait_for(count: int) -> None:
        async with asyncio.timeout(10):
            while len(emitted) < count:
                await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(owner.run(sink, SourceHealth())), asyncio.create_task(talk())]
    try:
        await wait_for(3)
        plug.unplug()
        unplugged_at.append(len(emitted))
        await wait_for(len(emitted) + 3)
        plug.plugged = True
        replugged_at.append(len(emitted))
        await wait_for(len(emitted) + 3)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert emitted[2]["device_status"].fields["up"] is True
    down = emitted[unplugged_at[0] + 1]["device_status"].fields
    assert down["up"] is False and str(down["error"]).startswith("port down")
    after = [e["device_status"].fields["up"] for e in emitted[replugged_at[0] :]]
    assert True in after[:2]
    assert emitted[-1]["serial_bus"].fields["opens"] == 2
