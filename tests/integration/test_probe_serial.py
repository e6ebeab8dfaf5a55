"""`edge probe serial` against the simulated intersection bus (firmware_sim, a pty): `--scan` lists the
Modbus addresses that answer, and the bus utilisation is measured over a window, not one request."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge_gateway_dev.sim.serial import IntersectionHandle, make_intersection_specs, run_intersections

pytestmark = pytest.mark.integration
NOW_S = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp()


@pytest.fixture
async def intersection(tmp_path: Path) -> AsyncIterator[IntersectionHandle]:
    """Slaves 1-4 on the RS-485 bus; any other address gets no answer, as on a real bus."""
    async with run_intersections(make_intersection_specs(1, seed=5), tmp_path, clock=lambda: NOW_S) as (
        handle,
    ):
        yield handle


async def edge(*args: str) -> tuple[int, str, str]:
    """`edge probe serial ...` in a child process, while the server runs in this event loop."""
    child = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "edge_gateway.cli.main", "probe", "serial", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await child.communicate()
    return int(child.returncode or 0), out.decode(), err.decode()


def answering(out: str) -> list[int]:
    return [int(line.split()[1].rstrip(":")) for line in out.splitlines() if line.startswith("address ")]


async def test_scan_lists_the_addresses_that_answer(intersection: IntersectionHandle) -> None:
    bus = str(intersection.paths["rs485"])
    code, out, err = await edge(bus, "--scan", "--scan-range", "1-8", "--timeout-s", "0.1")
    assert code == 0, err
    assert answering(out) == [1, 2, 3, 4]
    assert "address 1: answers with Modbus exception 1" in out  # it has input registers only
    intersection.faults["rs485"].silent_addresses.add(3)
    code, out, err = await edge(bus, "--scan", "--scan-range", "1-8", "--timeout-s", "0.1")
    assert answering(out) == [1, 2, 4]


async def test_scan_of_a_silent_range_exits_1(intersection: IntersectionHandle) -> None:
    bus = str(intersection.paths["rs485"])
    code, out, _ = await edge(bus, "--scan", "--scan-range", "5-7", "--timeout-s", "0.1")
    assert code == 1 and "no address of 5-7 answered" in out


async def test_utilisation_is_measured_over_the_window(intersection: IntersectionHandle) -> None:
    bus = str(intersection.paths["rs485"])
    args = [bus, "--driver", "modbus-rtu", "--address", "1", "--option", "map=xy-md02"]
    code, out, err = await edge(*args, "--duration-s", "1", "--interval-s", "0.25", "--format", "json")
    assert code == 0, err
    readings = json.loads(out)
    assert any(r["measurement"] == "weather" and "temp_c" in r["fields"] for r in readings)
    line = next(r["fields"] for r in readings if r["measurement"] == "serial_bus")
    assert line["requests"] == 5  # rounds at 0, 0.25, 0.5, 0.75 and 1 s
    assert 0 < line["utilisation_pct"] < 50
