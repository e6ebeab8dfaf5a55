"""pymodbus's own client reads every register of every slave over the pty; faults as a poller sees them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import serial
from pymodbus.client import AsyncModbusSerialClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer.rtu import FramerRTU

from edge_gateway_dev.sim.serial import (
    IntersectionHandle,
    make_intersection_specs,
    run_intersections,
    signed16,
)
from edge_gateway_dev.sim.serial.daily import LaneTraffic

pytestmark = pytest.mark.integration

# 07:10 WIB: rush hour, so the loops see traffic. The clock stands still: values are stable.
NOW_S = datetime(2026, 11, 23, 0, 10, tzinfo=UTC).timestamp()
# The simulated firmware answers from this test's event loop, which a loaded machine can stall: an
# answer may start up to FIRST_BYTE_S late; a frame has ended when the line stays quiet for QUIET_S.
FIRST_BYTE_S, QUIET_S = 1.0, 0.15


@pytest.fixture
async def intersection(tmp_path: Path) -> AsyncIterator[IntersectionHandle]:
    async with run_intersections(
        make_intersection_specs(1, seed=5), tmp_path, clock=lambda: NOW_S
    ) as handles:
        yield handles[0]


def new_client(intersection: IntersectionHandle) -> AsyncModbusSerialClient:
    return AsyncModbusSerialClient(str(intersection.paths["rs485"]), baudrate=9600, timeout=1.0, retries=0)


@asynccontextmanager
async def open_client(intersection: IntersectionHandle) -> AsyncIterator[AsyncModbusSerialClient]:
    """A connected pymodbus client; a port has one user at a time, so raw exchanges happen outside it."""
    client = new_client(intersection)
    assert await client.connect()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
async def client(intersection: IntersectionHandle) -> AsyncIterator[AsyncModbusSerialClient]:
    async with open_client(intersection) as client:
        yield client


def request(address: int, function: int, start: int, count: int) -> bytes:
    payload = bytes([address, function]) + start.to_bytes(2, "big") + count.to_bytes(2, "big")
    return payload + FramerRTU.compute_CRC(payload).to_bytes(2, "big")


def exchange(path: Path, frame: bytes) -> bytes:
    """Write one frame and return everything that arrives until the line stays quiet for QUIET_S
    (nothing when no answer starts within FIRST_BYTE_S)."""
    with serial.Serial(str(path), baudrate=9600, timeout=FIRST_BYTE_S) as port:
        port.write(frame)
        received: bytes = port.read(1)
        if not received:
            return b""
        port.timeout = QUIET_S
        while chunk := port.read(max(1, port.in_waiting)):
            received += chunk
        return received


def valid_crc(frame: bytes) -> bool:
    return len(frame) >= 4 and FramerRTU.compute_CRC(frame[:-2]).to_bytes(2, "big") == frame[-2:]


async def test_every_register_of_every_slave_matches_ground_truth(
    intersection: IntersectionHandle, client: AsyncModbusSerialClient
) -> None:
    model, truth = intersection.model, intersection.truth.registers
    climate = await client.read_input_registers(1, count=2, device_id=1)
    dust = await client.read_holding_registers(0, count=2, device_id=2)
    noise = await client.read_holding_registers(0, count=1, device_id=3)
    counts = await client.read_holding_registers(0, count=8, device_id=4)
    loops = await client.read_discrete_inputs(0, count=8, device_id=4)

    assert climate.registers == [truth[(1, "input", 1)], truth[(1, "input", 2)]]
    assert signed16(climate.registers[0]) == round(10 * model.temperature_c(NOW_S))
    assert climate.registers[1] == round(10 * model.humidity_pct(NOW_S))
    assert dust.registers == [round(model.pm25_ugm3(NOW_S)), round(model.pm10_ugm3(NOW_S))]
    assert dust.registers == [truth[(2, "holding", 0)], truth[(2, "holding", 1)]]
    assert noise.registers == [truth[(3, "holding", 0)]] == [round(10 * model.noise_db(NOW_S))]
    assert counts.registers == [truth[(4, "holding", i)] for i in range(8)]
    assert loops.bits[:8] == [bool(truth[(4, "discrete", i)]) for i in range(8)]
    expected_loops = [LaneTraffic(model, f"lane{i + 1}", NOW_S).occupied(NOW_S) for i in range(8)]
    assert loops.bits[:8] == expected_loops

    for register in range(8):
        single = await client.read_holding_registers(register, count=1, device_id=4)
        assert single.registers == [counts.registers[register]]
    stats = intersection.truth.ports["rs485"]
    assert (stats.frames_in, stats.frames_out, stats.ignored_in) == (13, 13, 0)


@pytest.mark.parametrize(
    ("device_id", "function", "address", "code"),
    [
        (1, "read_input_registers", 0, 0x02),
        (1, "read_input_registers", 3, 0x02),
        (2, "read_holding_registers", 2, 0x02),
        (3, "read_holding_registers", 1, 0x02),
        (4, "read_holding_registers", 8, 0x02),
        (4, "read_discrete_inputs", 8, 0x02),
        (1, "read_holding_registers", 1, 0x01),
        (3, "read_input_registers", 0, 0x01),
        (4, "read_coils", 0, 0x01),
    ],
)
async def test_unmapped_registers_and_functions_answer_exceptions(
    client: AsyncModbusSerialClient, device_id: int, function: str, address: int, code: int
) -> None:
    response = await getattr(client, function)(address, count=1, device_id=device_id)
    assert response.isError()
    assert response.exception_code == code


async def test_absent_slave_and_silenced_slave_time_out(
    intersection: IntersectionHandle, client: AsyncModbusSerialClient
) -> None:
    with pytest.raises(ModbusIOException):
        await client.read_holding_registers(0, count=1, device_id=9)
    intersection.faults["rs485"].silent_addresses.add(3)
    with pytest.raises(ModbusIOException):
        await client.read_holding_registers(0, count=1, device_id=3)
    assert not (await client.read_holding_registers(0, count=2, device_id=2)).isError()
    intersection.faults["rs485"].silent_addresses.clear()
    assert not (await client.read_holding_registers(0, count=1, device_id=3)).isError()
    assert intersection.truth.ports["rs485"].silenced_in == 1


async def test_bad_crc_request_is_ignored(intersection: IntersectionHandle) -> None:
    good = request(2, 0x03, 0, 2)
    assert valid_crc(await asyncio.to_thread(exchange, intersection.paths["rs485"], good))
    bad = good[:-1] + bytes([good[-1] ^ 0x01])
    assert await asyncio.to_thread(exchange, intersection.paths["rs485"], bad) == b""
    assert intersection.truth.ports["rs485"].ignored_in == 1


async def test_crc_fault_is_detected_by_the_poller(intersection: IntersectionHandle) -> None:
    intersection.faults["rs485"].corrupt_rate = 1.0
    raw = await asyncio.to_thread(exchange, intersection.paths["rs485"], request(2, 0x03, 0, 2))
    assert len(raw) == 9 and raw[:3] == b"\x02\x03\x04" and not valid_crc(raw)
    async with open_client(intersection) as client:
        with pytest.raises(ModbusIOException):
            await client.read_holding_registers(0, count=2, device_id=2)
        intersection.faults["rs485"].corrupt_rate = 0.0
        assert not (await client.read_holding_registers(0, count=2, device_id=2)).isError()


async def test_garbage_bytes_appear_before_the_response(intersection: IntersectionHandle) -> None:
    intersection.faults["rs485"].garbage_rate = 1.0
    raw = await asyncio.to_thread(exchange, intersection.paths["rs485"], request(1, 0x04, 1, 2))
    assert len(raw) > 9 and valid_crc(raw[-9:]) and raw[-9:-6] == b"\x01\x04\x04"
    assert intersection.truth.ports["rs485"].garbage_out == 1


async def test_truncated_response_makes_the_poller_time_out(intersection: IntersectionHandle) -> None:
    intersection.faults["rs485"].truncate_rate = 1.0
    raw = await asyncio.to_thread(exchange, intersection.paths["rs485"], request(3, 0x03, 0, 1))
    assert 1 <= len(raw) < 7 and raw[0] == 3
    async with open_client(intersection) as client:
        with pytest.raises(ModbusIOException):
            await client.read_holding_registers(0, count=1, device_id=3)


async def test_unplug_removes_the_path_and_replug_brings_it_back(intersection: IntersectionHandle) -> None:
    path = intersection.paths["rs485"]
    old_device = path.resolve()
    intersection.unplug("rs485")
    assert not path.exists()
    with pytest.raises(serial.SerialException):
        serial.Serial(str(path))
    assert not await new_client(intersection).connect()

    intersection.replug("rs485")
    assert path.exists() and path.resolve().parent == old_device.parent
    async with open_client(intersection) as client:
        response = await client.read_holding_registers(0, count=1, device_id=3)
    assert response.registers == [intersection.truth.registers[(3, "holding", 0)]]
    assert intersection.truth.ports["rs485"].plugs == 2


async def test_reboot_restarts_the_loop_counters(
    intersection: IntersectionHandle, client: AsyncModbusSerialClient
) -> None:
    before = (await client.read_holding_registers(0, count=8, device_id=4)).registers
    intersection.reboot("rs485")
    after = (await client.read_holding_registers(0, count=8, device_id=4)).registers
    assert any(before) and after == [0] * 8
