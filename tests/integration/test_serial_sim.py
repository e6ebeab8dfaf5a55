"""The serial collectors against the simulated intersection firmware over real ptys, faults included."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge_gateway_dev.sim.serial import (
    IntersectionHandle,
    make_intersection_specs,
    run_intersections,
    signed16,
)
from tests.integration.serial_helpers import running, sensor

pytestmark = pytest.mark.integration

NOW_S = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp()  # 17:00 WIB, the evening peak


def buses(handle: IntersectionHandle, interval_s: float = 0.3, **extra: Any) -> list[dict[str, Any]]:
    rs485 = [
        sensor("wx", "modbus-rtu", interval_s, slave=1, map="xy-md02"),
        sensor("pm", "modbus-rtu", interval_s, slave=2, map="pm"),
        sensor("noise", "modbus-rtu", interval_s, slave=3, map="noise"),
        sensor("loops", "modbus-rtu", interval_s, slave=4, map="di8"),
    ]
    for item in rs485:
        item.update(extra)
    return [
        {"name": "rs485", "port": str(handle.paths["rs485"]), "sensors": rs485},
        {"name": "gps", "port": str(handle.paths["gps"]), "sensors": [sensor("gps", "nmea", interval_s)]},
        {
            "name": "radar",
            "port": str(handle.paths["radar"]),
            "sensors": [{**sensor("radar", "radar", interval_s), **extra}],
        },
    ]


@pytest.fixture
async def frozen(tmp_path: Path) -> AsyncIterator[IntersectionHandle]:
    specs = make_intersection_specs(1, seed=5)
    async with run_intersections(specs, tmp_path, clock=lambda: NOW_S, gps_interval_s=0.1) as (handle,):
        yield handle


def accelerated(factor: float) -> Callable[[], float]:
    """Simulated time running `factor` times faster than the wall, from NOW_S."""
    start_s = time.monotonic()
    return lambda: NOW_S + (time.monotonic() - start_s) * factor


async def test_every_sensor_reports_what_the_firmware_served(frozen: IntersectionHandle) -> None:
    truth = frozen.truth.registers
    async with running(buses(frozen)) as rec:
        await rec.wait_until(lambda: all(len(rec.rounds_of(bus)) >= 3 for bus in ("rs485", "gps", "radar")))
    weather = rec.readings("weather", "wx")[-1]
    assert weather.fields == {
        "temp_c": signed16(truth[(1, "input", 1)]) / 10,
        "rh_pct": truth[(1, "input", 2)] / 10,
    }
    assert weather.tags == {"site": "Simpang Test", "sensor": "wx", "bus": "rs485"}
    air = rec.readings("air_quality", "pm")[-1].fields
    assert air == {"pm25": float(truth[(2, "holding", 0)]), "pm10": float(truth[(2, "holding", 1)])}
    assert rec.readings("noise", "noise")[-1].fields["laeq_db"] == truth[(3, "holding", 0)] / 10
    loops = {r.tags["lane"]: r.fields for r in rec.readings("traffic", "loops")[-8:]}
    assert {lane: f["count_total"] for lane, f in loops.items()} == {
        str(i + 1): truth[(4, "holding", i)] for i in range(8)
    }
    radar = {r.tags["lane"]: r.fields for r in rec.readings("traffic", "radar")[-4:]}
    assert frozen.truth.radar is not None
    assert {lane: f["count_total"] for lane, f in radar.items()} == {
        str(lane.lane): lane.count for lane in frozen.truth.radar.lanes
    }
    gps = rec.readings("gps", "gps")[-1].fields
    assert gps["lat"] == pytest.approx(frozen.spec.lat_deg, abs=1e-3)
    assert gps["lon"] == pytest.approx(frozen.spec.lon_deg, abs=1e-3)
    assert gps["fix"] == 1 and 6 <= int(gps["sats"]) <= 12
    # The firmware's clock is frozen at NOW_S: the gateway sees its own clock that far ahead.
    assert float(gps["clock_offset_s"]) == pytest.approx(time.time() - NOW_S, abs=5)
    for device in ("wx", "pm", "noise", "loops", "gps", "radar"):
        assert all(s["up"] and s["error"] == "" and not s["stale"] for s in rec.statuses(device))
    bus = rec.rounds_of("rs485")[-1][-1].fields
    assert bus["up"] is True and bus["timeouts"] == 0 and 0 < float(bus["utilisation_pct"]) <= 100


async def test_counters_become_volumes_and_reboots_give_none(tmp_path: Path) -> None:
    specs = make_intersection_specs(1, seed=5)
    async with (
        run_intersections(specs, tmp_path, clock=accelerated(60)) as (handle,),
        running(buses(handle, max_vehicles_per_s=200)[::2]) as rec,
    ):
        await rec.wait_until(lambda: len(rec.rounds_of("radar")) >= 4 and len(rec.rounds_of("rs485")) >= 4)
        handle.reboot("radar")
        handle.reboot("rs485")
        marks = len(rec.rounds_of("radar")), len(rec.rounds_of("rs485"))
        await rec.wait_until(
            lambda: (
                len(rec.rounds_of("radar")) >= marks[0] + 3 and len(rec.rounds_of("rs485")) >= marks[1] + 3
            )
        )
    for sensor_name, lanes, bits in (("radar", 4, 32), ("loops", 8, 16)):
        rounds = [
            [r for r in rnd if r.tags.get("sensor") == sensor_name and r.measurement == "traffic"]
            for rnd in rec.rounds
        ]
        rounds = [rnd for rnd in rounds if rnd]
        assert all(len(rnd) == lanes for rnd in rounds)
        assert all("volume" not in r.fields for r in rounds[0])  # nothing to difference yet
        counted = [sum(int(r.fields.get("volume", 0)) for r in rnd) for rnd in rounds]
        assert sum(counted) > 0  # the evening peak, sped up 60 times, moves the counters
        missing = [i for i, rnd in enumerate(rounds) if i > 0 and "volume" not in rnd[0].fields]
        assert missing, "the reboot gave no round without volume"
        reboot = missing[0]
        assert all("volume" not in r.fields for r in rounds[reboot])
        assert all("volume" in r.fields for r in rounds[-1])
        for lane in range(lanes):  # between two polls, volume is exactly the count's increase
            before, after = rounds[-2][lane].fields, rounds[-1][lane].fields
            assert after["volume"] == (int(after["count_total"]) - int(before["count_total"])) % 2**bits
