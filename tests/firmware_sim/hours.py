"""The hours of the day the simulated field is tested at, on purpose rather than at the hour CI runs.

A test marked `hours` that asks for the `sim_start_s` fixture runs once per hour that matters: night
with (next to) no clients, the morning rise, the evening peak and half a minute before midnight, so a
run crosses the day's rollover. `EDGE_SIM_CLOCK=2026-12-01T12:00+07:00` puts the whole run at that one
instant instead (and `edge sim fleet`, which the tests start, reads the same variable). Conftests
import the fixture and the hook from here.
"""

from __future__ import annotations

import os

import pytest

from edge_gateway_dev.sim.clock import CLOCK_ENV, parse_instant

HOURS_WIB = {
    "03h00": "2026-12-01T03:00:00+07:00",  # night: APs with no client at all
    "07h00": "2026-12-01T07:00:00+07:00",  # the morning rise
    "19h00": "2026-12-01T19:00:00+07:00",  # the evening peak
    "23h59": "2026-12-01T23:59:30+07:00",  # a run of half a minute crosses midnight
}
DEFAULT_HOUR = "19h00"  # for a test that asks for the fixture without the marker


def hour_instants() -> dict[str, float]:
    """Test id -> start instant (epoch seconds): the four hours, or the one EDGE_SIM_CLOCK names."""
    chosen = os.environ.get(CLOCK_ENV)
    if chosen:
        return {f"{CLOCK_ENV}={chosen}": parse_instant(chosen)}
    return {name: parse_instant(text) for name, text in HOURS_WIB.items()}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("hours") and "sim_start_s" in metafunc.fixturenames:
        instants = hour_instants()
        metafunc.parametrize(
            "sim_start_s", list(instants.values()), ids=list(instants), indirect=True, scope="module"
        )


@pytest.fixture(scope="module")
def sim_start_s(request: pytest.FixtureRequest) -> float:
    """Epoch seconds the simulated field's clock starts at (build a SimClock from it when starting)."""
    default = hour_instants().get(DEFAULT_HOUR) or next(iter(hour_instants().values()))
    return float(getattr(request, "param", default))
