"""Several intersections in one event loop: distinct ports, faults from the spec, repeatable values."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusSerialClient
from pymodbus.exceptions import ModbusIOException

from edge_gateway_dev.sim.serial import PORTS, PortFaults, make_intersection_specs, run_intersections

pytestmark = pytest.mark.integration

NOW_S = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp()  # 17:00 WIB


async def read_all(path: Path) -> list[int]:
    client = AsyncModbusSerialClient(str(path), baudrate=9600, timeout=0.3, retries=0)
    assert await client.connect()
    try:
        words: list[int] = []
        for device_id, function, start, count in (
            (1, client.read_input_registers, 1, 2),
            (2, client.read_holding_registers, 0, 2),
            (3, client.read_holding_registers, 0, 1),
            (4, client.read_holding_registers, 0, 8),
        ):
            words += (await function(start, count=count, device_id=device_id)).registers
        return words
    finally:
        client.close()


async def test_intersections_get_their_own_ports_and_values(tmp_path: Path) -> None:
    specs = make_intersection_specs(3, seed=2)
    async with run_intersections(specs, tmp_path, clock=lambda: NOW_S) as handles:
        links = [handle.paths[port] for handle in handles for port in PORTS]
        assert len({link.resolve() for link in links}) == 9
        assert all(str(link.resolve()).startswith("/dev/pts/") for link in links)
        values = [await read_all(handle.paths["rs485"]) for handle in handles]
    assert len({tuple(words) for words in values}) == 3
    assert not any(link.exists() or link.is_symlink() for link in links)


async def test_same_seed_and_clock_serve_the_same_words(tmp_path: Path) -> None:
    runs = []
    for attempt in ("a", "b"):
        (tmp_path / attempt).mkdir()
        async with run_intersections(
            make_intersection_specs(1, seed=4), tmp_path / attempt, clock=lambda: NOW_S
        ) as (handle,):
            runs.append(await read_all(handle.paths["rs485"]))
    assert runs[0] == runs[1]


async def test_spec_faults_apply_at_start_and_switching_leaves_the_spec_alone(tmp_path: Path) -> None:
    spec = make_intersection_specs(1, seed=6)[0]
    spec.faults = {"rs485": PortFaults(silent_addresses={1, 2, 3, 4})}
    async with run_intersections([spec], tmp_path, clock=lambda: NOW_S) as (handle,):
        client = AsyncModbusSerialClient(str(handle.paths["rs485"]), baudrate=9600, timeout=0.3, retries=0)
        assert await client.connect()
        try:
            with pytest.raises(ModbusIOException):
                await client.read_holding_registers(0, count=1, device_id=3)
        finally:
            client.close()
        handle.faults["rs485"].silent_addresses.clear()
        assert await read_all(handle.paths["rs485"])
    assert spec.faults["rs485"].silent_addresses == {1, 2, 3, 4}
