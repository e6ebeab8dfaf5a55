"""The drivers read what the simulated firmware writes (both built from docs/sensor-protocols.md).

The firmware's encoders are pure functions, so this needs no pty: bytes from one side go straight
into the other. A disagreement here means one of the two misread the protocol document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge_gateway.drivers.nmea import NmeaDriver, latest_utc
from edge_gateway.drivers.radar import RadarDriver
from edge_gateway.drivers.registry import create
from edge_gateway_dev.sim.serial.gps import fix_at, sentences
from edge_gateway_dev.sim.serial.modbus import SlaveMap, answer
from edge_gateway_dev.sim.serial.radar import encode_report
from edge_gateway_dev.sim.serial.truth import RadarLane, RadarReport


def _constant(value: int) -> Callable[[float], int]:
    return lambda _now_s: value


def test_modbus_answers_of_the_simulated_slaves() -> None:
    slaves: dict[int, SlaveMap] = {
        1: {0x04: {1: _constant(0xFF38), 2: _constant(655)}},
        4: {
            0x02: {i: _constant(i % 2) for i in range(8)},
            0x03: {i: _constant(65530 + i) for i in range(8)},
        },
    }
    for slave, map_name in ((1, "xy-md02"), (4, "di8")):
        driver = create("modbus-rtu", {"slave": slave, "map": map_name})
        frames: list[Any] = []
        for request in driver.requests():
            driver.expect(request)
            response, _served = answer(request, slaves[slave], 0.0)
            frames.extend(driver.feed(response))
        readings = driver.readings(frames, {}, 0)
        if slave == 1:
            assert [dict(r.fields) for r in readings] == [{"temp_c": -20.0, "rh_pct": 65.5}]
        else:
            assert [dict(r.fields) for r in readings][1] == {"occupied": True, "count_total": 65531}
        assert driver.stats.checksum_errors == driver.stats.bytes_discarded == 0


def test_exception_for_an_unmapped_register() -> None:
    driver = create("modbus-rtu", {"slave": 2, "map": "pm"})
    driver.expect(driver.requests()[0])
    response, _served = answer(driver.requests()[0], {0x03: {0: _constant(1)}}, 0.0)
    (frame,) = driver.feed(response)
    assert frame.exception_code == 0x02


def test_gps_sentences_of_the_simulated_receiver() -> None:
    fix = fix_at(7, -6.7056, 108.5533, 1_763_884_800.25)
    driver = NmeaDriver()
    frames = driver.feed(b"".join(sentences(fix)))
    assert [frame.sentence for frame in frames] == ["RMC", "GGA", "ZDA"]
    (reading,) = driver.readings(frames, {}, 0)
    assert abs(float(reading.fields["lat"]) - fix.lat_deg) < 1e-5
    assert abs(float(reading.fields["lon"]) - fix.lon_deg) < 1e-5
    assert reading.fields["sats"] == fix.sats
    assert reading.fields["fix"] == 1
    utc = latest_utc(frames)
    assert utc is not None and abs(utc.timestamp() - fix.time_s) < 0.01


def test_radar_report_of_the_simulated_counter() -> None:
    report = RadarReport(1, 3600, (RadarLane(1, 2**32 - 1, 0, 0), RadarLane(2, 17, 423, 57)))
    driver = RadarDriver(1)
    (frame,) = driver.feed(encode_report(report))
    assert (frame.address, frame.uptime_s) == (1, 3600)
    assert [(lane.lane, lane.count, lane.speed_dkmh, lane.occupancy_dpct) for lane in frame.lanes] == [
        (1, 2**32 - 1, 0, 0),
        (2, 17, 423, 57),
    ]
