"""Counters into volumes, the stuck check and the latest reading per series."""

from __future__ import annotations

from edge_gateway.agent.collectors.serial.sensor import (
    StuckDetector,
    VolumeTracker,
    count_bits,
    latest_per_series,
)
from edge_gateway.core.model import Reading
from edge_gateway.drivers import registry

TAGS = {"site": "s", "sensor": "radar", "bus": "b"}


def lane(count: int, lane_no: str = "1", uptime_s: int | None = None) -> Reading:
    fields: dict[str, float | int | bool | str] = {"count_total": count, "occupancy_pct": 1.5}
    if uptime_s is not None:
        fields["uptime_s"] = uptime_s
    return Reading("traffic", {**TAGS, "lane": lane_no}, fields, 1)


def volumes(readings: list[Reading]) -> list[object]:
    return [r.fields.get("volume") for r in readings]


def test_counter_widths_come_from_the_driver() -> None:
    assert count_bits(registry.create("radar", {"address": 1})) == 32
    assert count_bits(registry.create("modbus-rtu", {"slave": 4, "map": "di8"})) == 16
    assert count_bits(registry.create("modbus-rtu", {"slave": 1, "map": "xy-md02"})) is None
    assert count_bits(registry.create("nmea", {})) is None


def test_sixteen_bit_counter_wraps_into_a_volume() -> None:
    tracker = VolumeTracker(16, max_vehicles_per_s=5.0)
    assert volumes(tracker.apply([lane(65530)], now_s=0.0)) == [None]
    assert volumes(tracker.apply([lane(4)], now_s=10.0)) == [10]
    assert volumes(tracker.apply([lane(4)], now_s=20.0)) == [0]


def test_unannounced_reset_of_a_sixteen_bit_counter_gives_no_volume() -> None:
    tracker = VolumeTracker(16, max_vehicles_per_s=5.0)
    tracker.apply([lane(40000)], now_s=0.0)
    assert volumes(tracker.apply([lane(3)], now_s=10.0)) == [None]  # would be a 25539-vehicle "wrap"
    assert volumes(tracker.apply([lane(9)], now_s=20.0)) == [6]


def test_radar_reboot_told_by_uptime_gives_no_volume_on_any_lane() -> None:
    tracker = VolumeTracker(32, max_vehicles_per_s=5.0)
    tracker.apply([lane(4294967290, "1", 500), lane(10, "2", 500)], now_s=0.0)
    assert volumes(tracker.apply([lane(5, "1", 510), lane(12, "2", 510)], now_s=10.0)) == [11, 2]
    assert volumes(tracker.apply([lane(1, "1", 3), lane(2, "2", 3)], now_s=20.0)) == [None, None]
    assert volumes(tracker.apply([lane(4, "1", 13), lane(2, "2", 13)], now_s=30.0)) == [3, 0]


def test_volume_keeps_the_other_fields_and_tags() -> None:
    tracker = VolumeTracker(32, max_vehicles_per_s=5.0)
    tracker.apply([lane(1)], now_s=0.0)
    (reading,) = tracker.apply([lane(3)], now_s=1.0)
    assert reading.fields == {"count_total": 3, "occupancy_pct": 1.5, "volume": 2}
    assert reading.tags["lane"] == "1"


def test_readings_without_counters_pass_untouched() -> None:
    weather = Reading("weather", TAGS, {"temp_c": 30.1}, 1)
    assert VolumeTracker(None, 5.0).apply([weather], 0.0) == [weather]
    assert VolumeTracker(16, 5.0).apply([weather], 0.0) == [weather]


def weather(temp_c: float, rh_pct: float = 60.0) -> list[Reading]:
    return [Reading("weather", TAGS, {"temp_c": temp_c, "rh_pct": rh_pct, "frames": 3}, 1)]


def test_identical_floats_for_n_cycles_is_stuck() -> None:
    detector = StuckDetector(3)
    assert [detector.observe(weather(30.0)) for _ in range(4)] == [False, False, True, True]
    assert detector.observe(weather(30.1)) is False


def test_a_cycle_without_readings_does_not_unstick_or_stick() -> None:
    detector = StuckDetector(2)
    detector.observe(weather(30.0))
    assert detector.observe([]) is False
    assert detector.observe(weather(30.0)) is True
    assert detector.observe([]) is True


def test_only_floats_count_and_zero_cycles_turns_it_off() -> None:
    detector = StuckDetector(2)
    counts = [Reading("traffic", TAGS, {"count_total": 5, "occupied": True}, 1)]
    assert [detector.observe(counts) for _ in range(3)] == [False, False, False]
    off = StuckDetector(0)
    assert [off.observe(weather(30.0)) for _ in range(5)] == [False] * 5


def test_latest_per_series_keeps_the_last_of_each() -> None:
    first = Reading("traffic", {**TAGS, "lane": "1"}, {"volume": 1}, 1)
    other = Reading("traffic", {**TAGS, "lane": "2"}, {"volume": 7}, 1)
    last = Reading("traffic", {**TAGS, "lane": "1"}, {"volume": 2}, 1)
    assert latest_per_series([first, other, last]) == [last, other]
