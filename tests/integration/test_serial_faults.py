"""Every fault of the simulated firmware, through the serial collectors over real ptys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edge_gateway_dev.sim.serial import (
    IntersectionHandle,
    make_intersection_specs,
    run_intersections,
    signed16,
)
from tests.integration.serial_helpers import running
from tests.integration.test_serial_sim import NOW_S, buses

pytestmark = pytest.mark.integration
PORT_NAMES = ("rs485", "gps", "radar")


@pytest.fixture
async def frozen(tmp_path: Path) -> AsyncIterator[IntersectionHandle]:
    specs = make_intersection_specs(1, seed=9)
    async with run_intersections(specs, tmp_path, clock=lambda: NOW_S, gps_interval_s=0.1) as (handle,):
        yield handle


async def test_garbage_corruption_and_dropped_bytes_are_counted_and_skipped(
    frozen: IntersectionHandle,
) -> None:
    for port in PORT_NAMES:
        faults = frozen.faults[port]  # the live object the firmware reads: set its fields
        faults.garbage_rate, faults.corrupt_rate, faults.truncate_rate = 0.3, 0.25, 0.25
    async with running(buses(frozen)) as rec:
        await rec.wait_until(lambda: all(len(rec.rounds_of(bus)) >= 12 for bus in PORT_NAMES), timeout_s=30)
    stats = frozen.truth.ports
    faulty = {p: (stats[p].garbage_out, stats[p].corrupted_out, stats[p].truncated_out) for p in PORT_NAMES}
    assert all(all(counts) for counts in faulty.values()), faulty
    # Not one wrong value got through: the clock is frozen, so every reading equals the truth.
    truth = frozen.truth.registers
    expected = {"temp_c": signed16(truth[(1, "input", 1)]) / 10, "rh_pct": truth[(1, "input", 2)] / 10}
    weather = rec.readings("weather", "wx")
    assert weather and all(dict(r.fields) == expected for r in weather)
    assert {r.fields["laeq_db"] for r in rec.readings("noise", "noise")} == {truth[(3, "holding", 0)] / 10}
    gps = rec.readings("gps", "gps")
    assert gps and all(r.fields["lat"] == pytest.approx(frozen.spec.lat_deg, abs=1e-3) for r in gps)
    for bus in PORT_NAMES:  # the drivers' counts add up per bus
        fields = rec.rounds_of(bus)[-1][-1].fields
        assert int(fields["checksum_errors"]) > 0 and int(fields["bytes_discarded"]) > 0, (bus, fields)
    assert int(rec.rounds_of("rs485")[-1][-1].fields["timeouts"]) > 0  # a truncated answer never completes
    assert (
        sum(int(s["checksum_errors"]) for d in ("wx", "pm", "noise", "loops") for s in rec.statuses(d)[-1:])
        > 0
    )


async def test_a_silent_slave_backs_off_while_the_others_keep_flowing(frozen: IntersectionHandle) -> None:
    frozen.faults["rs485"].silent_addresses.add(3)
    async with running(buses(frozen)[:1]) as rec:
        await rec.wait_until(lambda: len(rec.rounds_of("rs485")) >= 12)
    rounds = rec.rounds_of("rs485")
    for device in ("wx", "pm", "loops"):
        assert all(s["up"] for s in rec.statuses(device))
    noise = rec.statuses("noise")
    assert len(noise) == len(rounds) and not any(s["up"] for s in noise)
    assert 2 <= noise[-1]["timeouts"] <= len(rounds) // 2  # backing off: tried in fewer than half
    assert any(str(s["error"]).startswith("backing off") for s in noise)
    assert frozen.truth.ports["rs485"].silenced_in == noise[-1]["timeouts"]


async def test_unplug_and_replug_recovers_within_two_intervals(frozen: IntersectionHandle) -> None:
    async with running(buses(frozen)) as rec:
        await rec.wait_until(lambda: all(len(rec.rounds_of(bus)) >= 2 for bus in PORT_NAMES))
        for port in PORT_NAMES:
            frozen.unplug(port)
        await rec.wait_until(
            lambda: all(rec.rounds_of(bus)[-1][-1].fields["up"] is False for bus in PORT_NAMES), timeout_s=10
        )
        marks = {bus: len(rec.rounds_of(bus)) for bus in PORT_NAMES}
        for port in PORT_NAMES:
            frozen.replug(port)
        await rec.wait_until(lambda: all(len(rec.rounds_of(bus)) >= marks[bus] + 3 for bus in PORT_NAMES))
    for bus in PORT_NAMES:
        after = rec.rounds_of(bus)[marks[bus] :]
        statuses = [[r.fields for r in rnd if r.measurement == "device_status"] for rnd in after]
        # The port comes back and every sensor on it answers within two intervals of the replug.
        assert all(all(s["up"] for s in rnd) for rnd in statuses[1:3]), (bus, statuses[:3])
        assert after[-1][-1].fields["opens"] == 2
    down = [s for s in rec.statuses("wx") if not s["up"]]
    assert down and all(str(s["error"]).startswith("port") for s in down)
    assert rec.statuses("wx")[-1]["failures"] == 0
