"""The simulated field's clock: a start instant and a speed, and every simulator on the one clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from edge_gateway_dev.sim.clock import (
    SimClock,
    format_instant,
    make_clock,
    parse_instant,
    resolve_clock,
    wall_clock,
)
from edge_gateway_dev.sim.fleet import run_field
from edge_gateway_dev.sim.snmp.dynamics import local_hour

NIGHT = "2026-12-01T03:00+07:00"
NIGHT_S = 1_796_068_800.0  # 2026-11-30 20:00 UTC


@dataclass
class FakeMonotonic:
    now_s: float = 100.0

    def __call__(self) -> float:
        return self.now_s


def test_starts_at_the_instant_and_runs_at_its_scale() -> None:
    monotonic = FakeMonotonic()
    clock = SimClock(NIGHT_S, scale=60, monotonic=monotonic)
    assert clock() == NIGHT_S
    monotonic.now_s += 30  # half a real minute: half a simulated hour
    assert clock.now() == NIGHT_S + 1800
    assert local_hour(clock()) == 3.5


def test_instants_with_an_offset_in_utc_or_without_one_mean_wib() -> None:
    assert parse_instant(NIGHT) == parse_instant("2026-12-01T03:00") == NIGHT_S
    assert parse_instant("2026-11-30T20:00:00Z") == NIGHT_S
    assert format_instant(NIGHT_S) == "2026-12-01T03:00:00+07:00"
    assert parse_instant(format_instant(NIGHT_S + 59)) == NIGHT_S + 59
    with pytest.raises(ValueError, match="not an ISO 8601 instant"):
        parse_instant("tonight")
    with pytest.raises(ValueError, match="positive"):
        SimClock(NIGHT_S, scale=0)


def test_flags_win_over_the_environment_which_wins_over_the_wall_clock() -> None:
    assert make_clock(None) is wall_clock and resolve_clock(environ={}) is wall_clock
    night = {"EDGE_SIM_CLOCK": NIGHT, "EDGE_SIM_TIME_SCALE": "60"}
    from_env = resolve_clock(environ=night)
    assert isinstance(from_env, SimClock) and (from_env.start_s, from_env.scale) == (NIGHT_S, 60)
    from_flags = resolve_clock("2026-12-01T19:00+07:00", 1.0, environ=night)
    assert isinstance(from_flags, SimClock) and local_hour(from_flags.start_s) == 19
    sped_up_now = make_clock(None, 10)
    assert isinstance(sped_up_now, SimClock) and abs(sped_up_now.start_s - wall_clock()) < 60
    with pytest.raises(ValueError, match="EDGE_SIM_TIME_SCALE"):
        resolve_clock(environ={"EDGE_SIM_TIME_SCALE": "fast"})


async def test_every_simulator_of_the_field_follows_the_one_clock(tmp_path: Path) -> None:
    """APs and intersections of `edge sim fleet` serve the clock's time, not the wall's: at 03:00 WIB
    the AP truth and the GPS fix are both of that night."""
    clock = SimClock(NIGHT_S)
    async with run_field(3, 1, seed=2, faults="", port_dir=tmp_path, clock=clock) as field:
        for ap in field.aps:
            assert abs(ap.truth().time_s - NIGHT_S) < 60
            assert ap.model.clock is clock
        crossing = field.intersections[0]
        crossing.gps.emit()
        fix = crossing.truth.gps
        assert fix is not None and abs(fix.time_s - NIGHT_S) < 60
