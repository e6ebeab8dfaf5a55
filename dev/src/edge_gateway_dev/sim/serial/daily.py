"""The day at a Cirebon intersection, deterministic from a seed and the clock.

Every value is a pure function of (seed, quantity, second), so two runs with the same seed and the same
clock serve the same bytes, and a test can compute what the firmware must have answered. The clock is
UTC epoch seconds; the curves follow local time in WIB (UTC+7): traffic peaks in the rush hours 06-08
and 16-18, PM2.5 and noise rise with traffic, temperature and humidity follow a tropical daily swing.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

WIB_OFFSET_S = 7 * 3600
SECONDS_PER_DAY = 86400
# Longest stretch of seconds a lane replays at once; a clock jumping further forgets the vehicles in
# between (only a controllable test clock does that) so a request never stalls the event loop.
MAX_CATCH_UP_S = 6 * 3600
_PEAK_VEHICLES_PER_S = 0.32
_VEHICLE_PLUS_LOOP_M = 6.5


def local_hour(time_s: float) -> float:
    """Hour of the day in WIB, 0 <= h < 24."""
    return ((time_s + WIB_OFFSET_S) % SECONDS_PER_DAY) / 3600.0


def unit(seed: int, key: str, n: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, key, n): the simulator's only source of chance."""
    digest = hashlib.blake2b(f"{seed}|{key}|{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _bump(hour: float, centre_h: float, width_h: float) -> float:
    return math.exp(-(((hour - centre_h) / width_h) ** 2))


def traffic_intensity(hour: float) -> float:
    """Share of the peak traffic flow at a local hour: ~0.04 at night, ~0.45 midday, 1.0 at 07 and 17."""
    daytime = 0.5 * (math.tanh((hour - 5.5) / 0.8) - math.tanh((hour - 22.0) / 1.2))
    rush = _bump(hour, 7.0, 0.75) + _bump(hour, 17.0, 0.85)
    return min(1.0, 0.04 + 0.4 * daytime + 0.6 * rush)


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One vehicle crossing a lane's detector during one second."""

    offset_s: float  # when in its second it reached the detector
    speed_kmh: float
    occupied_s: float  # how long it kept the detector occupied


@dataclass(frozen=True, slots=True)
class LaneTotals:
    """What a lane's detector has seen since power-on."""

    count: int = 0
    speed_sum_kmh: float = 0.0
    occupied_s: float = 0.0

    def plus(self, vehicle: Vehicle) -> LaneTotals:
        return LaneTotals(
            self.count + 1, self.speed_sum_kmh + vehicle.speed_kmh, self.occupied_s + vehicle.occupied_s
        )


class DailyModel:
    """The environment and traffic of one intersection; `seed` gives it its own character."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._temp_offset_c = 2.0 * unit(seed, "temp-offset", 0) - 1.0
        self._pm_base_ugm3 = 8.0 + 12.0 * unit(seed, "pm-base", 0)

    def _jitter(self, key: str, time_s: float, amplitude: float) -> float:
        return (2.0 * unit(self.seed, key, math.floor(time_s)) - 1.0) * amplitude

    def intensity(self, time_s: float) -> float:
        return traffic_intensity(local_hour(time_s))

    def _swing(self, time_s: float) -> float:
        """+1 at 14:00 WIB (hottest, driest), -1 at 02:00."""
        return math.cos(2.0 * math.pi * (local_hour(time_s) - 14.0) / 24.0)

    def temperature_c(self, time_s: float) -> float:
        return 28.0 + 4.0 * self._swing(time_s) + self._temp_offset_c + self._jitter("temp", time_s, 0.2)

    def humidity_pct(self, time_s: float) -> float:
        value = 74.0 - 14.0 * self._swing(time_s) + self._jitter("rh", time_s, 0.6)
        return max(0.0, min(100.0, value))

    def pm25_ugm3(self, time_s: float) -> float:
        value = self._pm_base_ugm3 + 55.0 * self.intensity(time_s) + self._jitter("pm25", time_s, 2.0)
        return max(0.0, value)

    def pm10_ugm3(self, time_s: float) -> float:
        return 1.5 * self.pm25_ugm3(time_s) + 6.0 + abs(self._jitter("pm10", time_s, 3.0))

    def noise_db(self, time_s: float) -> float:
        return 47.0 + 28.0 * self.intensity(time_s) + self._jitter("noise", time_s, 1.5)

    def lane_factor(self, lane_key: str) -> float:
        """How busy a lane is compared with the intersection's busiest, 0.7-1.2."""
        return 0.7 + 0.5 * unit(self.seed, f"lane-factor:{lane_key}", 0)

    def vehicles_per_s(self, lane_key: str, time_s: float) -> float:
        return _PEAK_VEHICLES_PER_S * self.intensity(time_s) * self.lane_factor(lane_key)

    def vehicle(self, lane_key: str, tick_s: int) -> Vehicle | None:
        """The vehicle that crossed `lane_key` during second `tick_s`, if one did (at most one)."""
        if unit(self.seed, f"veh:{lane_key}", tick_s) >= self.vehicles_per_s(lane_key, tick_s):
            return None
        mean_kmh = 52.0 - 30.0 * self.intensity(tick_s)
        speed_kmh = mean_kmh * (0.8 + 0.4 * unit(self.seed, f"speed:{lane_key}", tick_s))
        offset_s = unit(self.seed, f"offset:{lane_key}", tick_s)
        return Vehicle(offset_s, speed_kmh, _VEHICLE_PLUS_LOOP_M / (speed_kmh / 3.6))


class LaneTraffic:
    """One lane's detector since power-on, replayed second by second up to the clock.

    Replaying whole seconds (and the current one up to the clock) makes the totals independent of when
    and how often they are asked for, which keeps the ground truth deterministic.
    """

    def __init__(self, model: DailyModel, lane_key: str, start_s: float) -> None:
        self._model = model
        self._key = lane_key
        self._next_tick_s = math.floor(start_s)
        self._done = LaneTotals()

    def restart(self, start_s: float) -> None:
        """Power-cycle the detector: nothing counted from `start_s` on yet."""
        self._next_tick_s = math.floor(start_s)
        self._done = LaneTotals()

    def totals(self, now_s: float) -> LaneTotals:
        current_s = math.floor(now_s)
        self._next_tick_s = max(self._next_tick_s, current_s - MAX_CATCH_UP_S)
        while self._next_tick_s < current_s:
            vehicle = self._model.vehicle(self._key, self._next_tick_s)
            if vehicle is not None:
                self._done = self._done.plus(vehicle)
            self._next_tick_s += 1
        vehicle = self._model.vehicle(self._key, current_s)
        if self._next_tick_s == current_s and vehicle is not None and current_s + vehicle.offset_s <= now_s:
            return self._done.plus(vehicle)
        return self._done

    def occupied(self, now_s: float) -> bool:
        """True while a vehicle is over the detector."""
        for tick_s in (math.floor(now_s) - 1, math.floor(now_s)):
            vehicle = self._model.vehicle(self._key, tick_s)
            if vehicle is not None and 0.0 <= now_s - (tick_s + vehicle.offset_s) < vehicle.occupied_s:
                return True
        return False
