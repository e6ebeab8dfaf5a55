"""The daily model with a controllable clock: rush hour beats night, curves follow WIB, determinism."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

import pytest

from edge_gateway_dev.sim.serial import DailyModel, local_hour, make_intersection_specs, traffic_intensity
from edge_gateway_dev.sim.serial.daily import LaneTraffic


def wib(hour: int, minute: int = 0) -> float:
    """Epoch seconds of a WIB wall time on 2026-11-23 (WIB = UTC+7)."""
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC).timestamp() - 7 * 3600


def mean_over_minute(values: list[float]) -> float:
    return statistics.fmean(values)


def test_local_hour_is_wib() -> None:
    assert local_hour(0.0) == pytest.approx(7.0)
    assert local_hour(wib(17, 30)) == pytest.approx(17.5)


@pytest.mark.parametrize("rush_h", [6.5, 7.0, 7.5, 16.5, 17.0, 17.5])
@pytest.mark.parametrize("quiet_h", [1.0, 3.0, 12.0, 23.0])
def test_rush_hours_carry_more_traffic_than_other_hours(rush_h: float, quiet_h: float) -> None:
    assert traffic_intensity(rush_h) > traffic_intensity(quiet_h)


def test_night_traffic_is_light_and_peak_is_full() -> None:
    assert traffic_intensity(3.0) < 0.1
    assert traffic_intensity(7.0) == pytest.approx(1.0)


def test_environment_follows_traffic_and_the_sun() -> None:
    model = DailyModel(seed=42)
    night = [wib(3) + s for s in range(60)]
    rush = [wib(7) + s for s in range(60)]
    assert (
        mean_over_minute([model.pm25_ugm3(t) for t in rush])
        > mean_over_minute([model.pm25_ugm3(t) for t in night]) + 30
    )
    assert (
        mean_over_minute([model.noise_db(t) for t in rush])
        > mean_over_minute([model.noise_db(t) for t in night]) + 15
    )
    assert model.temperature_c(wib(14)) > model.temperature_c(wib(2)) + 6
    assert model.humidity_pct(wib(2)) > model.humidity_pct(wib(14)) + 20
    assert all(model.pm10_ugm3(t) > model.pm25_ugm3(t) for t in rush)


def test_rush_hour_counts_more_vehicles_slower_than_night() -> None:
    model = DailyModel(seed=7)
    rush = LaneTraffic(model, "lane1", wib(7))
    night = LaneTraffic(model, "lane1", wib(3))
    rush_totals = rush.totals(wib(7, 30))
    night_totals = night.totals(wib(3, 30))
    assert rush_totals.count > 5 * max(1, night_totals.count)
    assert rush_totals.speed_sum_kmh / rush_totals.count < 40


def test_same_seed_and_clock_give_same_values_whatever_the_request_pattern() -> None:
    start_s = wib(16, 40)
    stepwise = LaneTraffic(DailyModel(seed=3), "lane2", start_s)
    for step in range(1, 600, 7):
        stepwise.totals(start_s + step + 0.25)
    at_once = LaneTraffic(DailyModel(seed=3), "lane2", start_s)
    assert stepwise.totals(start_s + 600.5) == at_once.totals(start_s + 600.5)
    assert DailyModel(seed=3).pm25_ugm3(start_s) == DailyModel(seed=3).pm25_ugm3(start_s)
    assert DailyModel(seed=3).pm25_ugm3(start_s) != DailyModel(seed=4).pm25_ugm3(start_s)


def test_lane_counter_never_goes_back() -> None:
    lane = LaneTraffic(DailyModel(seed=5), "lane3", wib(7))
    counts = [lane.totals(wib(7) + s / 4).count for s in range(2400)]
    assert counts == sorted(counts)
    assert counts[-1] > 0


def test_loop_occupancy_matches_vehicles() -> None:
    model = DailyModel(seed=11)
    lane = LaneTraffic(model, "lane1", wib(7))
    samples = [lane.occupied(wib(7) + s / 10) for s in range(6000)]
    share = sum(samples) / len(samples)
    assert 0.05 < share < 0.6


def test_intersection_specs_are_deterministic_and_distinct() -> None:
    first = make_intersection_specs(12, seed=9)
    assert first == make_intersection_specs(12, seed=9)
    assert first != make_intersection_specs(12, seed=10)
    assert [spec.name for spec in first[:2]] == ["cbn-int-01", "cbn-int-02"]
    assert len({spec.site for spec in first}) == 12
    assert len({spec.seed for spec in first}) == 12
    assert all(-6.8 < spec.lat_deg < -6.6 and 108.4 < spec.lon_deg < 108.7 for spec in first)
